// Forking the ledger's worker scripts as separate OS processes (node --import tsx), with a typed
// request/response over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Worker<Order, Report> {
  child: ChildProcess;
  /** Resolves once the worker is connected and waiting. */
  ready: Promise<void>;
  /** Sends the order; resolves with the report. */
  run(order: Order): Promise<Report>;
}

export function forkWorker<Order, Report>(script: 'race-worker.ts' | 'crash-worker.ts', env: Record<string, string>): Worker<Order, Report> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(key: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        resolve(message[key] as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before sending ${key}`)));
    });
  const ready = next<boolean>('ready').then(() => undefined);
  return {
    child,
    ready,
    run: async (order) => {
      const report = next<Report>('report');
      child.send(order as object);
      return report;
    },
  };
}

/** Waits for the process to be gone. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
