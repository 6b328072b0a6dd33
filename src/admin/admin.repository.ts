import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { AdminSession, AdminUser, ApiToken, AuditEntry, LoginAttempt, PasswordReset } from './admin.entities';
import { returningRows } from '../kernel/database/returning-rows';
import { type Role } from './auth/role';

/** The only place that builds queries for the admin tables. */
@Injectable()
export class AdminRepository {
  constructor(private readonly dataSource: DataSource) {}

  // --- users
  getUserByEmail(email: string): Promise<AdminUser | null> {
    return this.dataSource.getRepository(AdminUser).createQueryBuilder('u').where('lower(u.email) = lower(:email)', { email }).getOne();
  }

  getUserById(id: string): Promise<AdminUser | null> {
    return this.dataSource.getRepository(AdminUser).findOneBy({ id });
  }

  listUsers(): Promise<AdminUser[]> {
    return this.dataSource.getRepository(AdminUser).find({ order: { createdAt: 'ASC' } });
  }

  countUsers(): Promise<number> {
    return this.dataSource.getRepository(AdminUser).count();
  }

  insertUser(input: { email: string; role: Role; passwordHash: string }): Promise<AdminUser> {
    const repo = this.dataSource.getRepository(AdminUser);
    return repo.save(repo.create({ ...input, failedLogins: 0, lockedUntil: null, lastLoginAt: null }));
  }

  /**
   * Counts one wrong password atomically; the tenth in a row locks the account until `lockUntil` and starts
   * the count again. Returns the lock's end when this attempt locked it.
   */
  async recordWrongPassword(userId: string, threshold: number, lockUntil: Date): Promise<Date | null> {
    const result: unknown = await this.dataSource.query(
      `UPDATE admin_users SET
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END,
         failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
         updated_at = now()
       WHERE id = $1
       RETURNING locked_until, (locked_until = $3::timestamptz) AS locked_now`,
      [userId, threshold, lockUntil],
    );
    const [row] = returningRows<{ locked_until: Date | null; locked_now: boolean }>(result);
    return row?.locked_now ? new Date(row.locked_until!) : null;
  }

  async recordSuccessfulLogin(userId: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(AdminUser).update({ id: userId }, { failedLogins: 0, lockedUntil: null, lastLoginAt: at });
  }

  async setPassword(userId: string, passwordHash: string): Promise<void> {
    await this.dataSource.getRepository(AdminUser).update({ id: userId }, { passwordHash, failedLogins: 0, lockedUntil: null });
  }

  async setRole(userId: string, role: Role): Promise<void> {
    await this.dataSource.getRepository(AdminUser).update({ id: userId }, { role });
  }

  async deleteUser(userId: string): Promise<void> {
    await this.dataSource.getRepository(AdminUser).delete({ id: userId });
  }

  // --- sign-in attempts
  async recordAttempt(input: { email: string; ip: string | null; succeeded: boolean; at: Date }): Promise<void> {
    await this.dataSource
      .getRepository(LoginAttempt)
      .insert({ email: input.email.slice(0, 320), ip: input.ip, succeeded: input.succeeded, attemptedAt: input.at });
  }

  /** Failed attempts from one client since `since`, and the oldest of them (when the window frees up). */
  async failedFromClient(ip: string, since: Date): Promise<{ count: number; oldest: Date | null }> {
    const rows: Array<{ count: string; oldest: Date | null }> = await this.dataSource.query(
      `SELECT count(*) AS count, min(attempted_at) AS oldest FROM admin_login_attempts WHERE ip = $1 AND NOT succeeded AND attempted_at > $2`,
      [ip, since],
    );
    return { count: Number(rows[0].count), oldest: rows[0].oldest ? new Date(rows[0].oldest) : null };
  }

  // --- sessions
  insertSession(input: Omit<AdminSession, 'id' | 'createdAt' | 'updatedAt' | 'revokedAt'>): Promise<AdminSession> {
    const repo = this.dataSource.getRepository(AdminSession);
    return repo.save(repo.create({ ...input, revokedAt: null }));
  }

  getLiveSession(tokenHash: string, now: Date): Promise<AdminSession | null> {
    return this.dataSource.getRepository(AdminSession).findOneBy({ tokenHash, revokedAt: IsNull(), expiresAt: MoreThan(now) });
  }

  async touchSession(id: string, seenAt: Date, expiresAt: Date): Promise<void> {
    await this.dataSource.getRepository(AdminSession).update({ id }, { lastSeenAt: seenAt, expiresAt });
  }

  async revokeSession(id: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(AdminSession).update({ id, revokedAt: IsNull() }, { revokedAt: at });
  }

  async revokeSessionsOf(userId: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(AdminSession).update({ userId, revokedAt: IsNull() }, { revokedAt: at });
  }

  // --- API tokens
  insertToken(input: { name: string; role: Role; tokenHash: string; prefix: string; createdBy: string }): Promise<ApiToken> {
    const repo = this.dataSource.getRepository(ApiToken);
    return repo.save(repo.create({ ...input, lastUsedAt: null, lastUsedIp: null, revokedAt: null }));
  }

  getTokenByHash(tokenHash: string): Promise<ApiToken | null> {
    return this.dataSource.getRepository(ApiToken).findOneBy({ tokenHash });
  }

  getToken(id: string): Promise<ApiToken | null> {
    return this.dataSource.getRepository(ApiToken).findOneBy({ id });
  }

  listTokens(): Promise<ApiToken[]> {
    return this.dataSource.getRepository(ApiToken).find({ order: { createdAt: 'DESC' } });
  }

  async markTokenUsed(id: string, at: Date, ip: string | null): Promise<void> {
    await this.dataSource.getRepository(ApiToken).update({ id }, { lastUsedAt: at, lastUsedIp: ip });
  }

  async revokeToken(id: string, at: Date): Promise<boolean> {
    const result = await this.dataSource.getRepository(ApiToken).update({ id, revokedAt: IsNull() }, { revokedAt: at });
    return (result.affected ?? 0) > 0;
  }

  // --- password resets
  insertReset(input: { userId: string; tokenHash: string; expiresAt: Date }): Promise<PasswordReset> {
    const repo = this.dataSource.getRepository(PasswordReset);
    return repo.save(repo.create({ ...input, usedAt: null }));
  }

  getLiveReset(tokenHash: string, now: Date): Promise<PasswordReset | null> {
    return this.dataSource.getRepository(PasswordReset).findOneBy({ tokenHash, usedAt: IsNull(), expiresAt: MoreThan(now) });
  }

  /** Marks the reset used; false when it was used already (two tabs, a replay). */
  async useReset(id: string, at: Date): Promise<boolean> {
    const result = await this.dataSource.getRepository(PasswordReset).update({ id, usedAt: IsNull() }, { usedAt: at });
    return (result.affected ?? 0) > 0;
  }

  recentResetsFor(userId: string, since: Date): Promise<number> {
    return this.dataSource.getRepository(PasswordReset).countBy({ userId, createdAt: MoreThan(since) });
  }

  // --- audit log
  async insertAudit(entry: Omit<AuditEntry, 'id' | 'createdAt' | 'updatedAt'>): Promise<void> {
    await this.dataSource.getRepository(AuditEntry).insert(entry as never);
  }

  listAudit(input: { limit: number; beforeId?: string }): Promise<AuditEntry[]> {
    const qb = this.dataSource.getRepository(AuditEntry).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(input.limit);
    if (input.beforeId) qb.where('a.id < :before', { before: input.beforeId });
    return qb.getMany();
  }
}
