// POST /v1/datasets/{name}/synthetic: DP synthetic data (MST) as a job. The charge is reserved here, so
// a grant that cannot cover it is refused (403 budget_exhausted) before any data is read; the job's
// progress streams at /v1/jobs/{id}/events and its files download from /v1/jobs/{id}/result.
import { Body, Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { privacyRequest } from '@veil/query-execution';
import { principalOf } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { acceptedJob, privacyTools } from './privacy-tools.js';
import { syntheticBody } from './privacy-schemas.js';
import { nameParam, parse } from './schemas.js';

@Controller('v1')
export class SyntheticController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @Post('datasets/:name/synthetic')
  @HttpCode(202)
  async synthesize(@Req() request: FastifyRequest, @Param('name') name: string, @Body() body: unknown) {
    const { user } = principalOf(request);
    const input = parse(syntheticBody, body);
    const privacy = privacyRequest(input.epsilon, input.delta);
    const job = await privacyTools(this.deps).synthetic.admit(user.id, parse(nameParam, name), { ...privacy, method: input.method, rows: input.rows, columns: input.columns });
    await this.deps.queue.enqueue({ id: job.id, kind: job.kind, data: {} });
    return acceptedJob(job.id, { charge: (job.params as { cost: unknown }).cost });
  }
}
