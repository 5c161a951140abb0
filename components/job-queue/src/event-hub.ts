// Job events inside one process: whoever waits on a job (an HTTP request, an SSE stream) subscribes here.
// In distributed mode a transport (Redis, through @nestjs/microservices) feeds the hub with the workers'
// events; in embedded mode the worker publishes into it directly.
import { EventEmitter } from 'node:events';
import type { JobEvent } from './types.js';

export class JobEventHub {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many concurrent requests may wait at once; each removes its listener when done.
    this.emitter.setMaxListeners(0);
  }

  publish(event: JobEvent): void {
    this.emitter.emit(event.jobId, event);
  }

  /** Calls `listener` with every event of `jobId`; returns the unsubscribe function. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }

  /**
   * Resolves with the job's final event, or undefined after `timeoutMs`. Subscribe before enqueueing
   * (`waitForEnd` does it at once) so a fast job's completion is not missed.
   */
  waitForEnd(jobId: string, timeoutMs: number): Promise<Extract<JobEvent, { type: 'completed' | 'failed' }> | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const unsubscribe = this.subscribe(jobId, (event) => {
        if (event.type !== 'progress') finish(event);
      });
      function finish(event: Extract<JobEvent, { type: 'completed' | 'failed' }> | undefined): void {
        clearTimeout(timer);
        unsubscribe();
        resolve(event);
      }
    });
  }
}
