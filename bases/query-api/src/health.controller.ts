// Liveness and readiness, the only routes without a key.
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';

@Controller()
@Public()
export class HealthController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = [() => this.deps.store.sql.query('SELECT 1').then(() => undefined), ...(this.deps.readinessChecks ?? [])];
    const results = await Promise.allSettled(checks.map((check) => check()));
    const ready = results.every((r) => r.status === 'fulfilled');
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready' };
  }
}
