// Masked access for users holding a role with a masking policy on the dataset: a masked sample, and a
// masked export (a job: its file at /v1/jobs/{id}/result, its k-anonymity report in /v1/jobs/{id}).
// Never charged; anyone without a matching policy gets the 404 of a dataset that does not exist.
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { principalOf } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { acceptedJob, privacyTools } from './privacy-tools.js';
import { maskedExportBody, maskedSampleQuery } from './privacy-schemas.js';
import { nameParam, parse } from './schemas.js';

@Controller('v1')
export class MaskingController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @Get('datasets/:name/masked-sample')
  async sample(@Req() request: FastifyRequest, @Param('name') name: string, @Query() query: unknown) {
    const { user } = principalOf(request);
    const { rows, role } = parse(maskedSampleQuery, query);
    const sample = await privacyTools(this.deps).masking.sample(user.id, parse(nameParam, name), { rows, role });
    // Who read masked data, of which dataset and through which role: in the audit log, without values.
    await this.deps.store.audit.append({ actorId: user.id, action: 'masking.sample', targetType: 'dataset', targetId: sample.dataset, details: { role: sample.role, rows: sample.rows.length } });
    return sample;
  }

  @Post('datasets/:name/masked-export')
  @HttpCode(202)
  async export(@Req() request: FastifyRequest, @Param('name') name: string, @Body() body: unknown) {
    const { user } = principalOf(request);
    const input = parse(maskedExportBody, body);
    const job = await privacyTools(this.deps).masking.admitExport(user.id, parse(nameParam, name), input);
    await this.deps.store.audit.append({ actorId: user.id, action: 'masking.export', targetType: 'job', targetId: job.id, details: { dataset: name, ...(job.params as object) } });
    await this.deps.queue.enqueue({ id: job.id, kind: job.kind, data: {} });
    return acceptedJob(job.id);
  }
}
