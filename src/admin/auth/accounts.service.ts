import { Inject, Injectable, Logger } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import escapeHtml from 'escape-html';
import { z } from 'zod';
import { Clock } from '../../kernel/clock/clock';
import { APP_CONFIG } from '../../kernel/config/config.module';
import { type AppConfig } from '../../kernel/config/config';
import { EmailSender } from '../../kernel/email/email-sender.port';
import { ConflictError, NotFoundError, ValidationError } from '../../kernel/errors/domain-error';
import { type AdminUser } from '../admin.entities';
import { AdminRepository } from '../admin.repository';
import { AuditService } from '../audit/audit.service';
import { type Actor, type AuditSource } from './actor';
import { TooManyAttemptsError } from './auth-errors';
import { parseRole, Role, roleAtLeast } from './role';
import { generatePassword, randomSecret, sha256 } from './secrets';

/** Ten wrong passwords in a row lock an account for 15 minutes, even against the right one (DESIGN.md). */
export const LOCKOUT_THRESHOLD = 10;
export const LOCKOUT_MS = 15 * 60_000;
const CLIENT_WINDOW_MS = 15 * 60_000;
const RESET_TTL_MS = 60 * 60_000;
const MIN_PASSWORD = 12;
const MAX_PASSWORD = 256;
/** A real argon2id hash of a random value, verified against when the email is unknown, so timing tells nothing. */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$IP9qN44m9rkGGHDTb78cjA$UbJBm7rSYbHXGDN2NDHTyPfpwR9ptVR1gwg7gwpVcO4';

export interface AdminUserView {
  id: string;
  email: string;
  role: Role;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
}

export type SignInResult =
  { ok: true; sessionToken: string; user: AdminUserView } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'locked'; retryAt: Date };

const emailSchema = z.string().trim().toLowerCase().max(320).email('an email address such as editor@example.com');

export function userView(u: AdminUser): AdminUserView {
  return { id: u.id, email: u.email, role: u.role, lockedUntil: u.lockedUntil, lastLoginAt: u.lastLoginAt, createdAt: u.createdAt };
}

/** Editor accounts, sign-in with lockout and per-client limits, server-side sessions, password reset by email. */
@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    private readonly repo: AdminRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly email: EmailSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private checkPassword(password: string): void {
    if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
      throw new ValidationError(`A password needs ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`, [
        { field: 'password', message: `${MIN_PASSWORD} to ${MAX_PASSWORD} characters` },
      ]);
    }
  }

  private hashPassword(password: string): Promise<string> {
    // argon2id with the library's defaults (19 MiB, t=2, p=1): OWASP's recommended minimum.
    return hash(password);
  }

  /** Creates an account; without a password one is generated and returned (shown once). */
  async createUser(
    input: { email: string; role: string; password?: string },
    source: AuditSource,
  ): Promise<{ user: AdminUserView; generatedPassword: string | null }> {
    const parsed = emailSchema.safeParse(input.email);
    if (!parsed.success)
      throw new ValidationError(`"${input.email}" is not an email address.`, [{ field: 'email', message: 'an email address such as editor@example.com' }]);
    const role = parseRole(input.role);
    if (!role) throw new ValidationError(`"${input.role}" is not a role: owner, editor or viewer.`, [{ field: 'role', message: 'owner, editor or viewer' }]);
    const generated = input.password === undefined ? generatePassword() : null;
    const password = input.password ?? generated!;
    this.checkPassword(password);
    if (await this.repo.getUserByEmail(parsed.data)) throw new ConflictError(`An account for ${parsed.data} exists already.`);
    let user: AdminUser;
    try {
      user = await this.repo.insertUser({ email: parsed.data, role, passwordHash: await this.hashPassword(password) });
    } catch (error) {
      if (await this.repo.getUserByEmail(parsed.data)) throw new ConflictError(`An account for ${parsed.data} exists already.`);
      throw error;
    }
    await this.audit.record(source, 'user.create', user.email, { role });
    return { user: userView(user), generatedPassword: generated };
  }

  async listUsers(): Promise<AdminUserView[]> {
    return (await this.repo.listUsers()).map(userView);
  }

  countUsers(): Promise<number> {
    return this.repo.countUsers();
  }

  async getUserByEmail(email: string): Promise<AdminUserView | null> {
    const user = await this.repo.getUserByEmail(email);
    return user ? userView(user) : null;
  }

  async setRole(userId: string, role: string, source: AuditSource): Promise<AdminUserView> {
    const parsed = parseRole(role);
    if (!parsed) throw new ValidationError(`"${role}" is not a role.`, [{ field: 'role', message: 'owner, editor or viewer' }]);
    const user = await this.repo.getUserById(userId);
    if (!user) throw new NotFoundError(`No account ${userId}.`);
    if (user.role === Role.Owner && parsed !== Role.Owner && (await this.owners()) <= 1) throw new ConflictError('The last owner cannot be demoted.');
    await this.repo.setRole(userId, parsed);
    await this.audit.record(source, 'user.role', user.email, { from: user.role, to: parsed });
    return { ...userView(user), role: parsed };
  }

  async deleteUser(userId: string, source: AuditSource): Promise<void> {
    const user = await this.repo.getUserById(userId);
    if (!user) throw new NotFoundError(`No account ${userId}.`);
    if (user.role === Role.Owner && (await this.owners()) <= 1) throw new ConflictError('The last owner cannot be removed.');
    await this.repo.deleteUser(userId);
    await this.audit.record(source, 'user.delete', user.email);
  }

  private async owners(): Promise<number> {
    return (await this.repo.listUsers()).filter((u) => u.role === Role.Owner).length;
  }

  /**
   * Signs in. A client over its failed-attempt budget gets TooManyAttemptsError before any password is
   * checked; a locked account is refused even with the right password; unknown emails cost the same time.
   */
  async signIn(input: { email: string; password: string; ip: string | null; userAgent: string | null }): Promise<SignInResult> {
    const now = this.clock.now();
    const email = String(input.email ?? '')
      .trim()
      .toLowerCase()
      .slice(0, 320);
    const password = String(input.password ?? '').slice(0, MAX_PASSWORD + 1);
    const source: AuditSource = { actor: email || '(blank)', actorKind: 'user', ip: input.ip, userAgent: input.userAgent };
    if (input.ip) {
      const { count, oldest } = await this.repo.failedFromClient(input.ip, new Date(now.getTime() - CLIENT_WINDOW_MS));
      if (count >= this.config.admin.loginMaxPerClient) {
        const retryAt = new Date((oldest ?? now).getTime() + CLIENT_WINDOW_MS);
        throw new TooManyAttemptsError(`Too many failed sign-ins from this address. Try again after ${retryAt.toISOString()}.`, retryAt);
      }
    }
    const user = email ? await this.repo.getUserByEmail(email) : null;
    const matches = await verify(user?.passwordHash ?? DUMMY_HASH, password).catch(() => false);
    const fail = async (result: SignInResult): Promise<SignInResult> => {
      await this.repo.recordAttempt({ email, ip: input.ip, succeeded: false, at: now });
      return result;
    };
    if (!user) return fail({ ok: false, reason: 'invalid' });
    if (user.lockedUntil && user.lockedUntil > now) return fail({ ok: false, reason: 'locked', retryAt: user.lockedUntil });
    if (!matches) {
      const lockedUntil = await this.repo.recordWrongPassword(user.id, LOCKOUT_THRESHOLD, new Date(now.getTime() + LOCKOUT_MS));
      if (lockedUntil) {
        await this.audit.record(source, 'auth.locked', user.email, { until: lockedUntil.toISOString() });
        return fail({ ok: false, reason: 'locked', retryAt: lockedUntil });
      }
      return fail({ ok: false, reason: 'invalid' });
    }
    await this.repo.recordSuccessfulLogin(user.id, now);
    await this.repo.recordAttempt({ email, ip: input.ip, succeeded: true, at: now });
    const sessionToken = randomSecret();
    await this.repo.insertSession({
      userId: user.id,
      tokenHash: sha256(sessionToken),
      csrfToken: randomSecret(),
      ip: input.ip,
      userAgent: input.userAgent?.slice(0, 300) ?? null,
      lastSeenAt: now,
      expiresAt: this.sessionExpiry(now),
    });
    await this.audit.record(source, 'auth.sign_in', user.email);
    return { ok: true, sessionToken, user: userView(user) };
  }

  private sessionExpiry(from: Date): Date {
    return new Date(from.getTime() + this.config.admin.sessionIdleHours * 3_600_000);
  }

  /** The caller behind a session cookie, or null when it is unknown, expired or revoked. Sliding expiry. */
  async resolveSession(token: string, client: { ip: string | null; userAgent: string | null }): Promise<Actor | null> {
    if (!token || token.length > 100) return null;
    const now = this.clock.now();
    const session = await this.repo.getLiveSession(sha256(token), now);
    if (!session) return null;
    const user = await this.repo.getUserById(session.userId);
    if (!user) return null;
    if (now.getTime() - session.lastSeenAt.getTime() > 60_000) await this.repo.touchSession(session.id, now, this.sessionExpiry(now));
    return {
      kind: 'user',
      id: user.id,
      label: user.email,
      role: user.role,
      csrfToken: session.csrfToken,
      sessionId: session.id,
      ip: client.ip,
      userAgent: client.userAgent,
    };
  }

  async signOut(actor: Actor): Promise<void> {
    if (!actor.sessionId) return;
    await this.repo.revokeSession(actor.sessionId, this.clock.now());
    await this.audit.record({ actor: actor.label, actorKind: 'user', ip: actor.ip, userAgent: actor.userAgent }, 'auth.sign_out', actor.label);
  }

  /**
   * Emails a one-hour reset link when the address has an account (at most three per hour); answers the same
   * either way so the form tells nobody which addresses have accounts.
   */
  async requestPasswordReset(input: { email: string; ip: string | null; userAgent: string | null }): Promise<void> {
    const parsed = emailSchema.safeParse(input.email);
    if (!parsed.success) throw new ValidationError('Enter the email address of your account.', [{ field: 'email', message: 'an email address' }]);
    const user = await this.repo.getUserByEmail(parsed.data);
    if (!user) return;
    const now = this.clock.now();
    if ((await this.repo.recentResetsFor(user.id, new Date(now.getTime() - 3_600_000))) >= 3) return;
    const token = randomSecret();
    const reset = await this.repo.insertReset({ userId: user.id, tokenHash: sha256(token), expiresAt: new Date(now.getTime() + RESET_TTL_MS) });
    const link = `${this.config.server.publicUrl}/admin/password-reset/${token}`;
    const site = this.config.site.title;
    const outcome = await this.email.sendBatch(
      [
        {
          from: this.config.email.from,
          to: user.email,
          subject: `Reset your ${site} editor password`,
          text: `Someone (hopefully you) asked to reset the password of the ${site} editor account ${user.email}.\n\nChoose a new password here within the hour:\n${link}\n\nIf it was not you, ignore this message: your password stays as it is.`,
          html: `<p>Someone (hopefully you) asked to reset the password of the ${escapeHtml(site)} editor account ${escapeHtml(user.email)}.</p><p><a href="${escapeHtml(link)}">Choose a new password</a> within the hour.</p><p>If it was not you, ignore this message: your password stays as it is.</p>`,
          headers: {},
        },
      ],
      { idempotencyKey: `password-reset-${reset.id}` },
    );
    if (outcome.kind !== 'accepted' || outcome.messages[0]?.status !== 'accepted')
      this.logger.warn(`password reset email for ${user.email} was not accepted: ${JSON.stringify(outcome)}`);
    await this.audit.record({ actor: user.email, actorKind: 'user', ip: input.ip, userAgent: input.userAgent }, 'auth.reset_requested', user.email);
  }

  /** True when the link is live (for the page that shows the form). */
  async resetLinkIsLive(token: string): Promise<boolean> {
    return Boolean(token && token.length <= 100 && (await this.repo.getLiveReset(sha256(token), this.clock.now())));
  }

  /** Sets a new password from a live link, once; ends every session of the account and lifts a lock. */
  async resetPassword(input: { token: string; password: string; ip: string | null; userAgent: string | null }): Promise<AdminUserView> {
    const now = this.clock.now();
    const reset = input.token && input.token.length <= 100 ? await this.repo.getLiveReset(sha256(input.token), now) : null;
    if (!reset) throw new NotFoundError('This reset link has expired or was used already. Ask for a new one.');
    this.checkPassword(input.password);
    if (!(await this.repo.useReset(reset.id, now))) throw new NotFoundError('This reset link has expired or was used already. Ask for a new one.');
    const user = await this.repo.getUserById(reset.userId);
    if (!user) throw new NotFoundError('This account no longer exists.');
    await this.repo.setPassword(user.id, await this.hashPassword(input.password));
    await this.repo.revokeSessionsOf(user.id, now);
    await this.audit.record({ actor: user.email, actorKind: 'user', ip: input.ip, userAgent: input.userAgent }, 'auth.password_reset', user.email);
    return userView(user);
  }

  /** Changes an account's password (CLI or the account itself) and ends its other sessions. */
  async setPassword(input: { email: string; password: string }, source: AuditSource): Promise<void> {
    const user = await this.repo.getUserByEmail(input.email);
    if (!user) throw new NotFoundError(`No account for ${input.email}.`);
    this.checkPassword(input.password);
    await this.repo.setPassword(user.id, await this.hashPassword(input.password));
    await this.repo.revokeSessionsOf(user.id, this.clock.now());
    await this.audit.record(source, 'user.password', user.email);
  }

  /** Whether `password` is the account's current one (the demo banner re-prints a password only while it is). */
  async passwordMatches(email: string, password: string): Promise<boolean> {
    const user = await this.repo.getUserByEmail(email);
    return Boolean(user) && (await verify(user!.passwordHash, password).catch(() => false));
  }

  canGrant(actor: { role: Role }, role: Role): boolean {
    return roleAtLeast(actor.role, role);
  }
}
