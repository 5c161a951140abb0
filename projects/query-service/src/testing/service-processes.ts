// Real query-service and worker-service processes for the distributed end-to-end tests: each one is node
// itself with tsx as a loader (not the tsx CLI, which would run it in a child), so a SIGKILL hits the
// service; its output is kept for assertions and failure messages.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
export const PENGUINS = join(ROOT, 'projects', 'veil', 'demo', 'penguins.csv');

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  output: string[];
  url?: string;
}

export class ServiceProcesses {
  readonly all: ServiceProcess[] = [];

  start(project: 'query-service' | 'worker-service', name: string, env: Record<string, string>): ServiceProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'projects', project, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(ROOT, 'projects', project, 'tsconfig.start.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service: ServiceProcess = { name, child, output: [] };
    child.stdout!.on('data', (d: Buffer) => service.output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => service.output.push(d.toString()));
    this.all.push(service);
    return service;
  }

  /** The first group of `pattern` (or the whole match) once the service prints it. */
  async waitFor(service: ServiceProcess, pattern: RegExp, timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const text = service.output.join('');
      const match = pattern.exec(text);
      if (match) return match[1] ?? match[0];
      if (service.child.exitCode !== null) throw new Error(`${service.name} exited: ${text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${service.name} did not start: ${service.output.join('').slice(-2000)}`);
  }

  /** Waits for a query-service to listen and records its URL (127.0.0.1 for a wildcard address). */
  async listening(service: ServiceProcess): Promise<string> {
    service.url = `http://${(await this.waitFor(service, /listening on (\S+)/)).replace(/^0\.0\.0\.0/, '127.0.0.1')}`;
    return service.url;
  }

  /** SIGTERM to every live service, SIGKILL to those still running after 15 s. */
  async stopAll(): Promise<void> {
    const running = this.all.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    for (const s of running) s.child.kill('SIGTERM');
    const exited = Promise.all(running.map((s) => new Promise((r) => s.child.once('exit', r))));
    const late = setTimeout(() => running.forEach((s) => s.child.kill('SIGKILL')), 15_000);
    await exited;
    clearTimeout(late);
  }
}
