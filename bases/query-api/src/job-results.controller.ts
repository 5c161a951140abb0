// GET /v1/jobs/{id}/result?format=csv|parquet: the file a job wrote (synthetic data: both formats; a
// masked export: the format it was asked for). Only the job's owner can download it; anyone else gets
// the 404 of a job that does not exist. The path is the server's own (results/<job id>/), never input.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MASKED_EXPORT_JOB_KIND, MASKED_FILE_BASE, resultFile, SYNTHETIC_FILE_BASE, SYNTHETIC_JOB_KIND } from '@veil/query-execution';
import { principalOf } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { ApiError, notFound } from './errors.js';
import { resultQuery } from './privacy-schemas.js';
import { parse } from './schemas.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILE_BASES: Record<string, string> = { [SYNTHETIC_JOB_KIND]: SYNTHETIC_FILE_BASE, [MASKED_EXPORT_JOB_KIND]: MASKED_FILE_BASE };
const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet' } as const;

@Controller('v1/jobs')
export class JobResultsController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @Get(':id/result')
  async result(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Query() query: unknown): Promise<void> {
    const { user } = principalOf(request);
    const job = UUID.test(id) ? await this.deps.store.jobs.get(id) : null;
    if (!job || job.userId !== user.id) throw notFound(`no job ${id} of yours`);
    const { format } = parse(resultQuery, query);
    const base = FILE_BASES[job.kind];
    if (!base) throw new ApiError(404, 'not_found', `job ${id} has no result file (it is a ${job.kind} job)`);
    if (job.status !== 'succeeded' || !job.resultPath) throw new ApiError(409, 'not_ready', `job ${id} is ${job.status}; its result can be downloaded once it has succeeded`);
    const available = job.kind === MASKED_EXPORT_JOB_KIND ? [(job.params as { format: string }).format] : ['csv', 'parquet'];
    if (!available.includes(format)) throw new ApiError(404, 'not_found', `job ${id} has no ${format} result; it has ${available.join(' and ')}`);
    const path = resultFile(job.resultPath, base, format);
    const size = await stat(path).then((s) => s.size, () => null);
    if (size === null) throw new ApiError(410, 'gone', `the result file of job ${id} is no longer on the server`);
    void reply
      .header('content-type', CONTENT_TYPES[format])
      .header('content-length', String(size))
      .header('content-disposition', `attachment; filename="${job.kind}-${id.slice(0, 8)}.${format}"`)
      .send(createReadStream(path));
  }
}
