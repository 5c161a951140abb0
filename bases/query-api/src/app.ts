// Builds the query API: a Nest application on Fastify with auth, roles, per-key rate limits, body size
// limits, §7 errors everywhere, the OpenAPI document and, when workers run elsewhere, the Redis listener
// for their job events. The caller decides where it listens.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import type { DynamicModule, LogLevel } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { parseApiKeyToken } from '@veil/admin-store';
import { redisConnectionOptions } from '@veil/job-queue';
import { AdminController } from './admin.controller.js';
import { AnalystController } from './analyst.controller.js';
import { AuthGuard, bearerToken } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { ApiError, ErrorFilter } from './errors.js';
import { HealthController } from './health.controller.js';
import { JobEventsController } from './job-events.controller.js';
import { JobsController } from './jobs.controller.js';
import { AdminMaskingController } from './admin-masking.controller.js';
import { JobResultsController } from './job-results.controller.js';
import { MaskingController } from './masking.controller.js';
import { SyntheticController } from './synthetic.controller.js';
import { openApiDocument } from './openapi.js';

export interface QueryApiOptions {
  /** Nest log levels; default errors and warnings. */
  logLevels?: LogLevel[];
  /** Listen for workers' job events on this Redis (distributed mode). */
  eventsRedisUrl?: string;
}

@Module({})
class QueryApiModule {
  static with(deps: ApiDeps, withEvents: boolean): DynamicModule {
    return {
      module: QueryApiModule,
      controllers: [HealthController, AnalystController, JobsController, AdminController, SyntheticController, MaskingController, AdminMaskingController, JobResultsController, ...(withEvents ? [JobEventsController] : [])],
      providers: [
        { provide: API_DEPS, useValue: deps },
        { provide: APP_GUARD, useFactory: (d: ApiDeps) => new AuthGuard(d), inject: [API_DEPS] },
        { provide: APP_FILTER, useValue: new ErrorFilter() },
      ],
    };
  }
}

export async function createQueryApi(deps: ApiDeps, options: QueryApiOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: deps.settings.bodyLimitBytes, trustProxy: false });
  const app = await NestFactory.create<NestFastifyApplication>(QueryApiModule.with(deps, Boolean(options.eventsRedisUrl)), adapter, {
    logger: options.logLevels ?? ['error', 'warn'],
    abortOnError: false,
  });
  await app.register(rateLimit, {
    max: deps.settings.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    allowList: (request: FastifyRequest) => request.url === '/health' || request.url === '/ready',
    ...(deps.settings.rateLimitRedisUrl ? { redis: new Redis(deps.settings.rateLimitRedisUrl, { maxRetriesPerRequest: 1 }), nameSpace: 'veil-rate-' } : {}),
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string; max: number }) =>
      new ApiError(429, 'rate_limited', `too many requests: at most ${context.max} per minute per API key; retry in ${context.after}`),
  });
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument(deps.settings.version) as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  if (options.eventsRedisUrl) {
    app.connectMicroservice({ transport: Transport.REDIS, options: redisConnectionOptions(options.eventsRedisUrl) });
    await app.startAllMicroservices();
  }
  await app.init();
  return app;
}

/** Requests are counted per API key (its public prefix), or per client address when there is none. */
function rateLimitKey(request: FastifyRequest): string {
  const token = bearerToken(request.headers.authorization);
  const parsed = token ? parseApiKeyToken(token) : null;
  return parsed ? `key:${parsed.prefix}` : `ip:${request.ip}`;
}
