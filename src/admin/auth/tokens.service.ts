import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Clock } from '../../kernel/clock/clock';
import { NotFoundError, ValidationError } from '../../kernel/errors/domain-error';
import { type ApiToken } from '../admin.entities';
import { AdminRepository } from '../admin.repository';
import { AuditService } from '../audit/audit.service';
import { type Actor, type AuditSource } from './actor';
import { parseRole, type Role } from './role';
import { randomSecret, sha256 } from './secrets';

export const TOKEN_PREFIX = 'bs_';

export interface ApiTokenView {
  id: string;
  name: string;
  role: Role;
  /** The first characters of the token, to tell tokens apart. */
  prefix: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  revokedAt: Date | null;
}

function tokenView(t: ApiToken): ApiTokenView {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    prefix: t.prefix,
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    lastUsedIp: t.lastUsedIp,
    revokedAt: t.revokedAt,
  };
}

const nameSchema = z.string().trim().min(1, 'a name of 1 to 100 characters').max(100, 'a name of 1 to 100 characters');
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** API tokens for automation: shown once, stored as sha256, revocable, last use recorded. */
@Injectable()
export class TokensService {
  constructor(
    private readonly repo: AdminRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async create(input: { name: string; role: string }, source: AuditSource): Promise<{ token: ApiTokenView; secret: string }> {
    const name = nameSchema.safeParse(input.name);
    if (!name.success) throw new ValidationError('A token needs a name of 1 to 100 characters.', [{ field: 'name', message: name.error.issues[0].message }]);
    const role = parseRole(input.role);
    if (!role) throw new ValidationError(`"${input.role}" is not a role: viewer, editor or owner.`, [{ field: 'role', message: 'viewer, editor or owner' }]);
    const secret = `${TOKEN_PREFIX}${randomSecret()}`;
    const token = await this.repo.insertToken({ name: name.data, role, tokenHash: sha256(secret), prefix: secret.slice(0, 9), createdBy: source.actor });
    await this.audit.record(source, 'token.create', token.id, { name: token.name, role });
    return { token: tokenView(token), secret };
  }

  async list(): Promise<ApiTokenView[]> {
    return (await this.repo.listTokens()).map(tokenView);
  }

  async revoke(id: string, source: AuditSource): Promise<ApiTokenView> {
    const token = uuid.test(id) ? await this.repo.getToken(id) : null;
    if (!token) throw new NotFoundError(`No API token ${id}.`);
    await this.repo.revokeToken(id, this.clock.now());
    await this.audit.record(source, 'token.revoke', token.id, { name: token.name });
    return tokenView((await this.repo.getToken(id))!);
  }

  /** The caller behind a Bearer token, or null when it is unknown or revoked. Records the use. */
  async resolve(secret: string, client: { ip: string | null; userAgent: string | null }): Promise<Actor | null> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 100) return null;
    const token = await this.repo.getTokenByHash(sha256(secret));
    if (!token || token.revokedAt) return null;
    await this.repo.markTokenUsed(token.id, this.clock.now(), client.ip);
    return {
      kind: 'token',
      id: token.id,
      label: `token:${token.name}`,
      role: token.role,
      csrfToken: null,
      sessionId: null,
      ip: client.ip,
      userAgent: client.userAgent,
    };
  }
}
