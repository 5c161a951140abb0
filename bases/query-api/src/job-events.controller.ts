// In distributed mode workers publish job events over Redis (@nestjs/microservices); every API replica
// receives them here and hands them to its in-process hub, where waiting requests and SSE streams listen.
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JOB_EVENT_PATTERN } from '@veil/job-queue';
import type { JobEvent } from '@veil/job-queue';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';

@Controller()
export class JobEventsController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @EventPattern(JOB_EVENT_PATTERN)
  onJobEvent(@Payload() event: JobEvent): void {
    if (event && typeof event.jobId === 'string') this.deps.events.publish(event);
  }
}
