// Admin routes for masking: a policy per dataset and role (parsed and type-checked against the metadata,
// never pasted into SQL), and the masking roles of users. Every change goes to the audit log, with the
// role and the columns touched but not the rule text.
import { Body, Controller, Delete, Get, Inject, Param, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { User } from '@veil/admin-store';
import { principalOf, Roles } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { notFound } from './errors.js';
import { privacyTools } from './privacy-tools.js';
import { maskingPolicyBody, roleName, userRolesBody } from './privacy-schemas.js';
import { nameParam, parse } from './schemas.js';

@Controller('v1/admin')
@Roles('admin')
export class AdminMaskingController {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  @Put('datasets/:name/masking/:role')
  async putPolicy(@Req() request: FastifyRequest, @Param('name') name: string, @Param('role') role: string, @Body() body: unknown) {
    const policy = parse(maskingPolicyBody, body);
    const view = await privacyTools(this.deps).masking.putPolicy(parse(nameParam, name), parse(roleName, role), policy);
    await this.audit(request, 'masking.policy.set', 'dataset', view.dataset, { dataset: view.dataset, role: view.role, columns: view.columns.map((c) => c.name), withheld: view.withheld });
    return view;
  }

  @Get('datasets/:name/masking/:role')
  async getPolicy(@Param('name') name: string, @Param('role') role: string) {
    return privacyTools(this.deps).masking.getPolicy(parse(nameParam, name), parse(roleName, role));
  }

  @Delete('datasets/:name/masking/:role')
  async removePolicy(@Req() request: FastifyRequest, @Param('name') name: string, @Param('role') role: string) {
    const removed = await privacyTools(this.deps).masking.removePolicy(parse(nameParam, name), parse(roleName, role));
    if (!removed) throw notFound(`dataset "${name}" has no masking policy for role "${role}"`);
    await this.audit(request, 'masking.policy.remove', 'dataset', name, { dataset: name, role });
    return { dataset: name, role, removed: true };
  }

  @Put('users/:name/roles')
  async setRoles(@Req() request: FastifyRequest, @Param('name') name: string, @Body() body: unknown) {
    const { roles } = parse(userRolesBody, body);
    const user = await this.user(name);
    const saved = await privacyTools(this.deps).masking.setRoles(user.id, roles);
    await this.audit(request, 'user.roles.set', 'user', user.id, { name: user.name, roles: saved });
    return { user: user.name, roles: saved };
  }

  @Get('users/:name/roles')
  async getRoles(@Param('name') name: string) {
    const user = await this.user(name);
    return { user: user.name, roles: await privacyTools(this.deps).masking.getRoles(user.id) };
  }

  private async user(name: string): Promise<User> {
    const user = await this.deps.store.users.getByName(parse(nameParam, name));
    if (!user) throw notFound(`no user named "${name}"`);
    return user;
  }

  private async audit(request: FastifyRequest, action: string, targetType: string, targetId: string, details: unknown): Promise<void> {
    await this.deps.store.audit.append({ actorId: principalOf(request).user.id, action, targetType, targetId, details });
  }
}
