// DESIGN §7 error bodies, { error: { code, message, details } }, for every failure on every route: the
// flow's QueryError, store and metadata errors, Fastify's own (bad JSON, body too large, rate limit) and
// anything unexpected, which becomes a bare 500 with nothing private in it and a log line without data.
import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { StoreError } from '@veil/admin-store';
import { MetadataError } from '@veil/dataset-metadata';
import { QueryError } from '@veil/query-execution';
import { ZodError } from 'zod';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unauthorized = (message = 'a valid API key is required: Authorization: Bearer <key>') => new ApiError(401, 'unauthorized', message);
export const forbidden = (message = 'your role may not use this route') => new ApiError(403, 'forbidden', message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);

export interface ErrorResponse {
  status: number;
  body: { error: { code: string; message: string; details?: unknown } };
}

const STORE_STATUS: Record<string, [number, string]> = {
  not_found: [404, 'not_found'],
  conflict: [409, 'conflict'],
  invalid: [422, 'invalid_request'],
  migration: [500, 'internal'],
};

/** Fastify's own error codes that mean bad input. */
const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'bad_request'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'bad_request'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request'],
};

export function toErrorResponse(error: unknown): ErrorResponse {
  const make = (status: number, code: string, message: string, details?: unknown): ErrorResponse => ({
    status,
    body: { error: details === undefined ? { code, message } : { code, message, details } },
  });
  if (error instanceof ApiError) return make(error.status, error.code, error.message, error.details);
  if (error instanceof QueryError) return make(error.status, error.code, error.message, error.details);
  if (error instanceof MetadataError) return make(422, 'invalid_metadata', error.message, { issues: error.issues });
  if (error instanceof StoreError) {
    const [status, code] = STORE_STATUS[error.code] ?? [500, 'internal'];
    return status === 500 ? internal() : make(status, code, error.message, error.details);
  }
  if (error instanceof ZodError) {
    return make(422, 'invalid_request', 'the request does not have the expected shape', {
      issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // Nest wraps Fastify's own errors (bad JSON, body too large) with the original as the cause.
    const cause = error.cause as { code?: string } | undefined;
    if (cause?.code && FASTIFY_CODES[cause.code]) return toErrorResponse(cause);
    if (status === 413) return make(413, 'payload_too_large', 'the request body is too large');
    if (status === 404) return make(404, 'not_found', 'no such route');
    if (status < 500) return make(status, status === 400 ? 'bad_request' : 'http_error', error.message);
    return internal();
  }
  const fastifyError = error as { code?: string; statusCode?: number; message?: string; rateLimit?: unknown };
  if (fastifyError?.code && FASTIFY_CODES[fastifyError.code]) {
    const [status, code] = FASTIFY_CODES[fastifyError.code]!;
    return make(status, code, status === 413 ? 'the request body is too large' : 'the request body is not valid JSON');
  }
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return make(fastifyError.statusCode, 'bad_request', 'the request could not be read');
  }
  return internal();
}

function internal(): ErrorResponse {
  return { status: 500, body: { error: { code: 'internal', message: 'an internal error occurred; it has been logged' } } };
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('veil-api');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const response = toErrorResponse(error);
    if (response.status >= 500) logUnexpected(this.logger, error);
    void reply.status(response.status).send(response.body);
  }
}

/** Logs the error's kind and stack only: messages of engine or database errors may quote data or SQL. */
export function logUnexpected(logger: Logger, error: unknown): void {
  // A SQLSTATE or Node error code says what failed without quoting any value.
  const code = (error as { code?: unknown })?.code;
  const name = `${error instanceof Error ? error.name : typeof error}${typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : ''}`;
  const where = error instanceof Error ? (error.stack?.split('\n').slice(1, 4).join(' | ') ?? '') : '';
  logger.error(`unexpected ${name} ${where}`);
}
