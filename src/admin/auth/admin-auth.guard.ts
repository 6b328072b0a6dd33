import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { parse as parseCookies } from 'cookie';
import { AccountsService } from './accounts.service';
import { ADMIN_AREA, ADMIN_PUBLIC, ADMIN_ROLE, type AdminRequest } from './auth.decorators';
import { CsrfError, ForbiddenError, UnauthenticatedError } from './auth-errors';
import { Role, roleAtLeast } from './role';
import { safeEqual } from './secrets';
import { TokensService } from './tokens.service';

export const SESSION_COOKIE = 'bs_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Editor routes by path, whatever controller serves them (Express matches paths case-insensitively). */
export function isProtectedPath(path: string): boolean {
  const p = path.toLowerCase().replace(/\/{2,}/g, '/');
  const under = (prefix: string) => p === prefix || p.startsWith(`${prefix}/`);
  return (under('/admin') || under('/api/v1')) && !under('/api/v1/public');
}

/**
 * Default-deny for the editors' area (controllers marked @AdminArea, and any route under /admin or /api/v1 but
 * /api/v1/public): a Bearer token or a session cookie is required (401 otherwise), the role must be enough
 * (403), and a cookie-authenticated change must carry the session's CSRF token (403).
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly accounts: AccountsService,
    private readonly tokens: TokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const targets = [context.getHandler(), context.getClass()];
    const inArea = this.reflector.getAllAndOverride<boolean>(ADMIN_AREA, targets) || isProtectedPath(req.path);
    if (!inArea) return true;
    const client = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
    const isPublic = this.reflector.getAllAndOverride<boolean>(ADMIN_PUBLIC, targets);
    const authorization = req.get('authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      const actor = match ? await this.tokens.resolve(match[1], client) : null;
      if (!actor) throw new UnauthenticatedError('The API token is missing, malformed, unknown or revoked.');
      req.actor = actor;
    } else {
      const cookie = parseCookies(req.get('cookie') ?? '')[SESSION_COOKIE];
      const actor = cookie ? await this.accounts.resolveSession(cookie, client) : null;
      if (actor) req.actor = actor;
      else if (!isPublic) throw new UnauthenticatedError(cookie ? 'Your session has ended. Sign in again.' : 'Sign in first.');
    }
    if (isPublic) return true;
    const actor = req.actor!;
    const required = this.reflector.getAllAndOverride<Role>(ADMIN_ROLE, targets) ?? (SAFE_METHODS.has(req.method) ? Role.Viewer : Role.Editor);
    if (!roleAtLeast(actor.role, required))
      throw new ForbiddenError(`This needs the ${required} role; you are ${actor.role === Role.Owner ? 'an' : 'a'} ${actor.role}.`);
    if (actor.kind === 'user' && !SAFE_METHODS.has(req.method)) {
      const body = req.body as Record<string, unknown> | undefined;
      const sent = req.get(CSRF_HEADER) ?? (body && typeof body[CSRF_FIELD] === 'string' ? (body[CSRF_FIELD] as string) : '');
      if (!sent || !actor.csrfToken || !safeEqual(sent, actor.csrfToken))
        throw new CsrfError('The form or request is missing its CSRF token, or it does not match your session. Reload the page and try again.');
    }
    return true;
  }
}
