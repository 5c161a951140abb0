// Bearer API keys on every route but health (DESIGN §7), and roles: a route declares who may call it with
// @Roles(...) (default: any signed-in user) or @Public(). The guard reads this metadata directly, so it
// needs neither Reflector injection nor emitted type metadata.
import { createHash } from 'node:crypto';
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
    const found = await authenticate(this.deps, token);
    // A revoked, expired or unknown key and a disabled user all read the same: no key.
    if (!found || found.user.disabledAt) throw unauthorized('the API key is not valid (unknown, revoked or expired)');
    const roles = targets.map((t) => Reflect.getMetadata(ROLES, t) as UserRole[] | undefined).find((r) => r !== undefined);
    if (roles && !roles.includes(found.user.role)) throw forbidden();
    request.principal = found;
    return true;
  }
}

/**
 * How long a successful key check is reused without asking the store. A key revoked through this process
 * stops working at once (the revoke route clears the cache); one revoked through another replica (or in
 * the database directly) stops within this time.
 */
export const AUTH_CACHE_TTL_MS = 5_000;
const AUTH_CACHE_MAX_ENTRIES = 10_000;

interface CachedPrincipal {
  principal: Principal;
  until: number;
}

/** One cache per API instance (its deps), keyed by the SHA-256 of the token, never the token itself. */
const authCaches = new WeakMap<ApiDeps, Map<string, CachedPrincipal>>();

function authCacheOf(deps: ApiDeps): Map<string, CachedPrincipal> {
  let cache = authCaches.get(deps);
  if (!cache) authCaches.set(deps, (cache = new Map()));
  return cache;
}

/** Forgets every cached key check of this API instance: call after revoking a key or changing a user. */
export function forgetAuthentications(deps: ApiDeps): void {
  authCacheOf(deps).clear();
}

async function authenticate(deps: ApiDeps, token: string): Promise<Principal | null> {
  const cache = authCacheOf(deps);
  const id = createHash('sha256').update(token).digest('base64url');
  const now = Date.now();
  const hit = cache.get(id);
  if (hit && hit.until > now && !(hit.principal.key.expiresAt && hit.principal.key.expiresAt.getTime() <= now)) return hit.principal;
  cache.delete(id);
  const found = await deps.store.apiKeys.authenticate(token);
  if (!found || found.user.disabledAt) return null;
  if (cache.size >= AUTH_CACHE_MAX_ENTRIES) cache.clear();
  cache.set(id, { principal: found, until: now + AUTH_CACHE_TTL_MS });
  return found;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}
