// Bearer API keys on every route but health (DESIGN §7), and roles: a route declares who may call it with
// @Roles(...) (default: any signed-in user) or @Public(). The guard reads this metadata directly, so it
// needs neither Reflector injection nor emitted type metadata.
import { Inject, Injectable, SetMetadata } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { UserRole } from '@veil/admin-store';
import { API_DEPS } from './deps.js';
import type { ApiDeps, Principal } from './deps.js';
import { forbidden, unauthorized } from './errors.js';

const PUBLIC = 'veil:public';
const ROLES = 'veil:roles';

export const Public = () => SetMetadata(PUBLIC, true);
export const Roles = (...roles: UserRole[]) => SetMetadata(ROLES, roles);

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Job events from workers arrive over the internal Redis transport, not HTTP: no API key applies.
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (targets.some((t) => Reflect.getMetadata(PUBLIC, t) === true)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthorized();
    const found = await this.deps.store.apiKeys.authenticate(token);
    // A revoked, expired or unknown key and a disabled user all read the same: no key.
    if (!found || found.user.disabledAt) throw unauthorized('the API key is not valid (unknown, revoked or expired)');
    const roles = targets.map((t) => Reflect.getMetadata(ROLES, t) as UserRole[] | undefined).find((r) => r !== undefined);
    if (roles && !roles.includes(found.user.role)) throw forbidden();
    request.principal = found;
    return true;
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}
