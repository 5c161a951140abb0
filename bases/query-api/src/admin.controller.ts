// Admin routes: enough to run Veil without a database shell (users, keys, datasets, grants, everyone's
// archive, the audit log). Every change is written to the audit log, never with a secret in it.
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Dataset, User } from '@veil/admin-store';
import { privacyRequest } from '@veil/query-execution';
import { forgetAuthentications, principalOf, Roles } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { notFound } from './errors.js';
import { datasetNames } from './analyst.controller.js';
import { adminQueriesQuery, datasetChangesBody, grantBody, nameParam, newDatasetBody, newKeyBody, newUserBody, pageQuery, parse } from './schemas.js';

@Controller('v1/admin')
@Roles('admin')
export class AdminController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @Get('users')
  async listUsers() {
    return { users: (await this.deps.store.users.list()).map(userView) };
  }

  @Post('users')
  async createUser(@Req() request: FastifyRequest, @Body() body: unknown) {
    const input = parse(newUserBody, body);
    const user = await this.deps.store.users.create(input);
    await this.audit(request, 'user.create', 'user', user.id, { name: user.name, role: user.role });
    return userView(user);
  }

  @Post('users/:name/keys')
  async createKey(@Req() request: FastifyRequest, @Param('name') name: string, @Body() body: unknown) {
    const user = await this.user(name);
    const options = parse(newKeyBody, body);
    const created = await this.deps.store.apiKeys.create(user.id, {
      label: options.label,
      expiresAt: options.expiresAt ? new Date(options.expiresAt) : undefined,
    });
    await this.audit(request, 'key.create', 'api_key', created.key.id, { user: user.name, prefix: created.key.prefix });
    return { key: created.token, prefix: created.key.prefix, user: user.name, expiresAt: created.key.expiresAt };
  }

  @Get('users/:name/keys')
  async listKeys(@Param('name') name: string) {
    const user = await this.user(name);
    return { keys: await this.deps.store.apiKeys.listForUser(user.id) };
  }

  @Delete('keys/:prefix')
  async revokeKey(@Req() request: FastifyRequest, @Param('prefix') prefix: string) {
    const key = await this.deps.store.apiKeys.revoke(prefix);
    forgetAuthentications(this.deps);
    await this.audit(request, 'key.revoke', 'api_key', key.id, { prefix });
    return { prefix: key.prefix, revokedAt: key.revokedAt };
  }

  @Get('datasets')
  async listDatasets() {
    return { datasets: (await this.deps.store.datasets.list()).map(datasetView) };
  }

  @Post('datasets')
  async createDataset(@Req() request: FastifyRequest, @Body() body: unknown) {
    const input = parse(newDatasetBody, body);
    const { user } = principalOf(request);
    const dataset = await this.deps.store.datasets.create({ ...input, ownerId: user.id });
    await this.audit(request, 'dataset.create', 'dataset', dataset.id, { name: dataset.name, source: dataset.sourceRef });
    return datasetView(dataset);
  }

  @Get('datasets/:name')
  async getDataset(@Param('name') name: string) {
    return datasetView(await this.dataset(name));
  }

  @Put('datasets/:name')
  async updateDataset(@Req() request: FastifyRequest, @Param('name') name: string, @Body() body: unknown) {
    const changes = parse(datasetChangesBody, body);
    const dataset = await this.deps.store.datasets.update(parse(nameParam, name), changes);
    this.deps.adapters.forget(dataset.id);
    await this.audit(request, 'dataset.update', 'dataset', dataset.id, { name: dataset.name, fields: Object.keys(changes) });
    return datasetView(dataset);
  }

  @Delete('datasets/:name')
  async removeDataset(@Req() request: FastifyRequest, @Param('name') name: string) {
    const dataset = await this.dataset(name);
    await this.deps.store.datasets.remove(dataset.name);
    this.deps.adapters.forget(dataset.id);
    await this.audit(request, 'dataset.remove', 'dataset', dataset.id, { name: dataset.name });
    return { removed: dataset.name };
  }

  @Put('grants/:user/:dataset')
  async grant(@Req() request: FastifyRequest, @Param('user') userName: string, @Param('dataset') datasetName: string, @Body() body: unknown) {
    const input = parse(grantBody, body);
    const user = await this.user(userName);
    const dataset = await this.dataset(datasetName);
    const { epsilon, delta } = privacyRequest(input.epsilon, input.delta);
    // zCDP converts back to (ε, δ) only for δ > 0: a pure-ε grant defaults to basic composition.
    const mode = input.mode ?? (Number(delta) === 0 ? 'basic' : 'zcdp');
    const budget = await this.deps.ledger.setGrant(user.id, dataset.id, { epsilon, delta, mode });
    await this.audit(request, 'grant.set', 'grant', `${user.id}/${dataset.id}`, { user: user.name, dataset: dataset.name, epsilon, delta, mode: budget.mode });
    return { user: user.name, dataset: dataset.name, ...budget };
  }

  @Get('grants/:user/:dataset')
  async getGrant(@Param('user') userName: string, @Param('dataset') datasetName: string) {
    const user = await this.user(userName);
    const dataset = await this.dataset(datasetName);
    const budget = await this.deps.ledger.getBudget(user.id, dataset.id);
    if (!budget) throw notFound(`${user.name} has no grant on ${dataset.name}`);
    return { user: user.name, dataset: dataset.name, ...budget };
  }

  @Get('queries')
  async queries(@Query() query: unknown) {
    const filter = parse(adminQueriesQuery, query);
    const user = filter.user ? await this.user(filter.user) : undefined;
    const dataset = filter.dataset ? await this.dataset(filter.dataset) : undefined;
    await this.deps.flow.writesSettled();
    const entries = await this.deps.store.archive.list({
      userId: user?.id,
      datasetId: dataset?.id,
      limit: filter.limit,
      before: filter.before ? new Date(filter.before) : undefined,
    });
    const names = await datasetNames(this.deps, entries.map((e) => e.datasetId));
    const users = new Map((await this.deps.store.users.list()).map((u) => [u.id, u.name]));
    return {
      queries: entries.map((e) => ({ id: e.id, user: users.get(e.userId) ?? null, dataset: names.get(e.datasetId) ?? null, sql: e.queryText, charge: e.cost, result: e.result, error: e.error, createdAt: e.createdAt })),
    };
  }

  @Get('audit')
  @HttpCode(200)
  async auditLog(@Query() query: unknown) {
    const page = parse(pageQuery, query);
    return { entries: await this.deps.store.audit.list({ limit: page.limit, before: page.before ? new Date(page.before) : undefined }) };
  }

  private async user(name: string): Promise<User> {
    const user = await this.deps.store.users.getByName(parse(nameParam, name));
    if (!user) throw notFound(`no user named "${name}"`);
    return user;
  }

  private async dataset(name: string): Promise<Dataset> {
    const dataset = await this.deps.store.datasets.get(parse(nameParam, name));
    if (!dataset) throw notFound(`no dataset named "${name}"`);
    return dataset;
  }

  private async audit(request: FastifyRequest, action: string, targetType: string, targetId: string, details: unknown): Promise<void> {
    await this.deps.store.audit.append({ actorId: principalOf(request).user.id, action, targetType, targetId, details });
  }
}

function userView(user: User) {
  return { name: user.name, role: user.role, createdAt: user.createdAt, disabledAt: user.disabledAt };
}

function datasetView(dataset: Dataset) {
  return { name: dataset.name, description: dataset.description, source: dataset.sourceRef, metadata: dataset.metadata, createdAt: dataset.createdAt, updatedAt: dataset.updatedAt };
}
