// Analyst routes (DESIGN §7): datasets granted to the caller, their metadata and free dummy rows,
// estimates, queries, budgets and the caller's own archive. A dataset without a grant is a 404 exactly
// like a dataset that does not exist.
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dataset } from '@veil/admin-store';
import { dummyRows } from '@veil/synthesizer';
import { IDEMPOTENCY_KEY, QueryError, privacyRequest } from '@veil/query-execution';
import { principalOf } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';
import { answerQuery } from './answers.js';
import { dummyQuery, nameParam, pageQuery, parse, queryBody } from './schemas.js';

@Controller('v1')
export class AnalystController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @Get('datasets')
  async listDatasets(@Req() request: FastifyRequest) {
    const { user } = principalOf(request);
    const datasets = await this.deps.store.datasets.list();
    const granted = await Promise.all(
      datasets.map(async (d) => ((await this.deps.ledger.getBudget(user.id, d.id)) ? d : null)),
    );
    // Plus the caller's derived datasets (synthetic data it paid for), which need no grant.
    const listed = granted.filter((d): d is Dataset => d !== null);
    const derived = ((await this.deps.privacyTools?.derived.list(user.id)) ?? []).filter((d) => !listed.some((g) => g.id === d.id));
    return { datasets: [...listed, ...derived].map(publicSummary) };
  }

  @Get('datasets/:name/metadata')
  async metadata(@Req() request: FastifyRequest, @Param('name') name: string) {
    // The caller's own derived dataset (synthetic data) needs no grant.
    const derived = await this.deps.privacyTools?.derived.owned(principalOf(request).user.id, parse(nameParam, name));
    const { dataset } = derived ?? (await this.granted(request, name));
    return { ...publicSummary(dataset), metadata: publicMetadata(dataset) };
  }

  @Get('datasets/:name/dummy')
  async dummy(@Req() request: FastifyRequest, @Param('name') name: string, @Query() query: unknown) {
    const { dataset } = await this.granted(request, name);
    const { rows, seed } = parse(dummyQuery, query);
    return { dataset: dataset.name, seed, ...dummyRows(dataset.metadata, { rows, seed }) };
  }

  @Post('datasets/:name/estimate')
  @HttpCode(200)
  async estimate(@Req() request: FastifyRequest, @Param('name') name: string, @Body() body: unknown) {
    const { user } = principalOf(request);
    const { sql, epsilon, delta } = parse(queryBody, body);
    const estimate = await this.deps.flow.estimate(user.id, parse(nameParam, name), sql, privacyRequest(epsilon, delta));
    return { charge: estimate.charge, accuracy: estimate.accuracy, budget: estimate.budget };
  }

  @Post('datasets/:name/queries')
  async query(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('name') name: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    const { user } = principalOf(request);
    const { sql, epsilon, delta } = parse(queryBody, body);
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ApiError(400, 'bad_request', 'Idempotency-Key must be 1–200 characters of letters, digits, . _ : -');
    }
    const datasetName = parse(nameParam, name);
    try {
      const outcome = await answerQuery(this.deps, user.id, datasetName, sql, privacyRequest(epsilon, delta), idempotencyKey);
      void reply.status(outcome.status);
      if (outcome.json === undefined) return outcome.body;
      void reply.header('content-type', 'application/json; charset=utf-8');
      return outcome.json;
    } catch (error) {
      // Not a DP query on a granted dataset: on the caller's own derived dataset (synthetic data it paid for) a
      // query is post-processing, exact and free. Looked up only here, so DP queries pay no extra read for it.
      if (!(error instanceof QueryError && (error.code === 'not_found' || error.code === 'invalid_request'))) throw error;
      const derived = await this.deps.privacyTools?.derived.answer(user.id, datasetName, sql);
      if (!derived) throw error;
      return derived;
    }
  }

  @Get('datasets/:name/budget')
  async budget(@Req() request: FastifyRequest, @Param('name') name: string) {
    const { dataset, budget } = await this.granted(request, name);
    return { dataset: dataset.name, ...budget };
  }

  @Get('queries')
  async archive(@Req() request: FastifyRequest, @Query() query: unknown) {
    const { user } = principalOf(request);
    const page = parse(pageQuery, query);
    // Answers of this process are archived right after they are sent: read after those writes.
    await this.deps.flow.writesSettled();
    const entries = await this.deps.store.archive.listForUser(user.id, { limit: page.limit, before: page.before ? new Date(page.before) : undefined });
    const names = await datasetNames(this.deps, entries.map((e) => e.datasetId));
    return { queries: entries.map((e) => ({ id: e.id, dataset: names.get(e.datasetId) ?? null, sql: e.queryText, charge: e.cost, result: e.result, error: e.error, createdAt: e.createdAt })) };
  }

  private async granted(request: FastifyRequest, name: string) {
    const { user } = principalOf(request);
    return this.deps.flow.grantedDataset(user.id, parse(nameParam, name));
  }
}

export function publicSummary(dataset: Dataset) {
  return { name: dataset.name, description: dataset.description, rows: dataset.metadata.rows ?? null };
}

/** What an analyst may see of the metadata: the schema and bounds, not where the data lives. */
function publicMetadata(dataset: Dataset) {
  const { source: _source, ...rest } = dataset.metadata;
  return rest;
}

export async function datasetNames(deps: ApiDeps, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const found = await Promise.all(unique.map((id) => deps.store.datasets.getById(id)));
  return new Map(found.filter((d): d is Dataset => d !== null).map((d) => [d.id, d.name]));
}

