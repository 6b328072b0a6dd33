import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { returningRows } from '../kernel/database/returning-rows';
import { DomainError, NotFoundError, ValidationError } from '../kernel/errors/domain-error';
import { SigningKey } from '../kernel/secrets/signing-key';
import { checkEmailAddress } from './email-address';
import { clientKey, RateLimiter } from './rate-limiter';
import { SignupChallenge, type ChallengeAnswer, type ChallengeOffer } from './signup-challenge';
import { SubscriberStatus, type SuppressionReason } from './subscriber.entity';
import { SubscriberRepository } from './subscriber.repository';
import {
  type AudienceMember,
  type LatestIssueLink,
  type PreferencesView,
  type StatusCounts,
  type StatusHistoryPoint,
  type SubscriberDataExport,
  type SubscriberListQuery,
  type SubscriberPage,
  type SubscriberView,
} from './subscriber.views';

export class InvalidEmailError extends ValidationError {
  override readonly code: string = 'invalid_email';
  constructor(
    message: string,
    readonly rule = 'invalid',
  ) {
    super(message, [{ field: 'email', message }], { rule });
  }
}
/** A valid address that looks like a typo of a common domain: asked about, never changed silently. */
export class EmailTypoError extends ValidationError {
  override readonly code: string = 'email_typo_suspected';
  override readonly extensions: Record<string, unknown>;
  constructor(
    readonly email: string,
    readonly suggestion: string,
  ) {
    const message = `Did you mean ${suggestion}? If ${email} is right, send it again and confirm it.`;
    super(message, [{ field: 'email', message }]);
    this.extensions = { suggestion };
  }
}
export class InvalidTokenError extends ValidationError {
  override readonly code: string = 'invalid_token';
}
export class ExpiredTokenError extends ValidationError {
  override readonly code: string = 'link_expired';
}
export class InvalidPreferencesError extends ValidationError {
  override readonly code: string = 'invalid_preferences';
}
/** Kept for callers of the old inline send; the queue never makes a sign-up wait for (or fail on) email. */
export class ConfirmationEmailError extends DomainError {
  readonly code = 'confirmation_email_failed';
  readonly status = 503;
}

const CONFIRM = 'confirm';
const CHANGE_EMAIL = 'change-email';
const UNSUBSCRIBE = 'unsubscribe';
const PREFERENCES = 'preferences';
const BEAT = /^[a-z0-9][a-z0-9-]{0,99}$/;
const MAX_BEATS = 50;
const MAX_PAUSE_WEEKS = 52;

export type SubscribeResult = 'check-inbox';

export interface SubscribeInput {
  email: unknown;
  name?: unknown;
  beats?: unknown;
  /** The client's address (req.ip); stored only as an HMAC of its network. */
  ip: string | null;
  /** "web-form", "api". */
  source: string;
  /** The words of the form the person saw (recorded with the consent). */
  formText?: string;
  /** The person saw our "did you mean …" and kept their address. */
  acceptTypo?: boolean;
  /** The answer to the sign-up challenge, when SUBSCRIBE_CHALLENGE is on. */
  challenge?: ChallengeAnswer;
}

interface SubscriberRow {
  id: string;
  email: string;
  name: string | null;
  status: SubscriberStatus;
  beat_slugs: string[] | null;
  consent_at: Date;
  consent_source: string;
  consent_text: string | null;
  consent_ip_hash: string | null;
  confirm_requested_at: Date | null;
  confirmed_at: Date | null;
  unsubscribed_at: Date | null;
  suppressed_at: Date | null;
  suppression_reason: SuppressionReason | null;
  suppression_detail: string | null;
  paused_until: Date | null;
  pending_email: string | null;
  pending_email_requested_at: Date | null;
  deleted_at: Date | null;
  created_at: Date;
}

export const ALL_STATUSES = Object.values(SubscriberStatus);

/**
 * Everything a subscriber touches and everything an editor manages about them (see README.md here).
 * Emails are never sent inline: a sign-up queues a row in `subscriber_emails` in the same statement that
 * claims the re-send interval, and SubscriberMailer sends it from a job; so a sign-up answers the same, in the
 * same time, whether or not the address is known, and a sign-up storm costs at most one email per interval.
 */
@Injectable()
export class SubscribersService {
  private readonly logger = new Logger(SubscribersService.name);
  private readonly confirmedListeners: Array<(subscriberId: string) => Promise<void>> = [];
  private latestIssueSource: () => Promise<LatestIssueLink | null> = async () => null;

  constructor(
    private readonly repo: SubscriberRepository,
    private readonly dataSource: DataSource,
    private readonly keys: SigningKey,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly challenge: SignupChallenge,
  ) {}

  /** A fresh sign-up challenge for a form or API client, or null when sign-ups need none (SUBSCRIBE_CHALLENGE=off). */
  issueChallenge(): Promise<ChallengeOffer | null> {
    return this.challenge.issue();
  }

  /** Which sign-up challenge is on: "off", "pow", or a plugged-in provider's kind. */
  get challengeKind(): string {
    return this.challenge.kind;
  }

  /** The normalised address, or InvalidEmailError saying which rule it breaks. */
  normaliseEmail(input: unknown): string {
    const checked = checkEmailAddress(input);
    if (!checked.ok) throw new InvalidEmailError(checked.problem, checked.rule);
    return checked.email;
  }

  /** An HMAC of the client's network: consent records and rate limits can compare it, nobody can reverse it. */
  ipHash(ip: string | null): string | null {
    return ip ? this.keys.sign('ip-hash', clientKey(ip)).split('.')[1].slice(0, 32) : null;
  }

  /**
   * Double opt-in. Whatever the address's state, the answer is "check your inbox" and the work is the same
   * two statements: insert-if-absent, then an atomic claim of the re-send interval that queues the email.
   * Only one concurrent caller can win the claim, on any number of instances.
   */
  async subscribe(input: SubscribeInput): Promise<SubscribeResult> {
    const limits = this.config.subscribers;
    const now = this.clock.now();
    await this.limiter.hit(
      { name: 'subscribe-client', limit: limits.clientLimit, windowMs: limits.clientWindowMs },
      this.ipHash(input.ip) ?? 'unknown',
      (at, minutes) =>
        `Too many sign-ups from your network. Please try again after ${at.toISOString().slice(11, 16)} UTC (in about ${minutes} minute${minutes === 1 ? '' : 's'}).`,
    );
    // Before anything about the address, so its answer (and time) is the same for every address.
    await this.challenge.verify(input.challenge, { ip: input.ip });
    const checked = checkEmailAddress(input.email);
    if (!checked.ok) throw new InvalidEmailError(checked.problem, checked.rule);
    if (checked.suggestion && !input.acceptTypo) throw new EmailTypoError(checked.email, checked.suggestion);
    const email = checked.email;
    const name = this.cleanName(input.name);
    const beats = this.cleanBeats(input.beats);
    await this.limiter.hit(
      { name: 'subscribe-address', limit: limits.addressLimit, windowMs: limits.addressWindowMs },
      this.keys.sign('addr', email.toLowerCase()).split('.')[1],
      (at, minutes) =>
        `This address was signed up too often. Please try again after ${at.toISOString().slice(11, 16)} UTC (in about ${minutes} minute${minutes === 1 ? '' : 's'}).`,
    );
    const ipHash = this.ipHash(input.ip);
    await this.dataSource.query(
      `WITH ins AS (
         INSERT INTO subscribers (email, name, status, beat_slugs, consent_at, consent_source, consent_text, consent_ip_hash)
         VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id)
       INSERT INTO subscriber_status_events (subscriber_id, from_status, to_status, at) SELECT id, NULL, 'pending', $4 FROM ins`,
      [email, name, beats, now, input.source, input.formText ?? null, ipHash],
    );
    await this.claimConfirmation(this.dataSource.manager, { email, name, beats, now, source: input.source, formText: input.formText ?? null, ipHash });
    return 'check-inbox';
  }

  /**
   * Starts a confirmation for a non-active address unless one was started within the re-send interval: one
   * statement that updates the row and queues the email, so concurrent callers serialise on the row lock and
   * the losers see the winner's timestamp. Returns whether this call queued one.
   */
  private async claimConfirmation(
    m: EntityManager,
    c: { email: string; name: string | null; beats: string[] | null; now: Date; source: string; formText: string | null; ipHash: string | null },
  ): Promise<boolean> {
    const cutoff = new Date(c.now.getTime() - this.config.subscribers.resendAfterMs);
    const rows = await m.query(
      `WITH claimed AS (
         UPDATE subscribers SET confirm_requested_at = $2, consent_at = $2, consent_source = $3, consent_text = $4, consent_ip_hash = $5,
           name = COALESCE($6, name), beat_slugs = COALESCE($7, beat_slugs), updated_at = now()
         WHERE lower(email) = lower($1) AND status IN ('pending', 'unsubscribed', 'suppressed')
           AND (confirm_requested_at IS NULL OR confirm_requested_at <= $8)
         RETURNING id, email, confirm_requested_at),
       consent AS (
         INSERT INTO subscriber_consents (subscriber_id, kind, at, source, form_text, ip_hash)
         SELECT id, 'requested', $2, $3, $4, $5 FROM claimed)
       INSERT INTO subscriber_emails (subscriber_id, kind, to_email, token_at, next_attempt_at, idempotency_key)
       SELECT id, 'confirm', email, confirm_requested_at, $2, 'confirm-' || id || '-' || $9 FROM claimed
       RETURNING id`,
      [c.email, c.now, c.source, c.formText, c.ipHash, c.name, c.beats, cutoff, String(c.now.getTime())],
    );
    return returningRows(rows).length > 0;
  }

  private cleanName(input: unknown): string | null {
    if (input === undefined || input === null || input === '') return null;
    if (typeof input !== 'string' || input.length > 200 || /[\p{Cc}\p{Cf}]/u.test(input))
      throw new InvalidPreferencesError('A name has at most 200 characters and no control characters.', [
        { field: 'name', message: 'A name has at most 200 characters and no control characters.' },
      ]);
    return input.trim() || null;
  }

  cleanBeats(input: unknown): string[] | null {
    if (input === undefined || input === null || input === '') return null;
    const list = (Array.isArray(input) ? input : typeof input === 'string' ? input.split(/[;,]/) : [null])
      .map((b) => (typeof b === 'string' ? b.trim() : b))
      .filter((b) => b !== '');
    if (list.length > MAX_BEATS || list.some((b) => typeof b !== 'string' || !BEAT.test(b))) {
      throw new InvalidPreferencesError('Beats are slugs such as "ai-agents": lowercase letters, digits and hyphens.', [
        { field: 'beats', message: 'Beats are slugs such as "ai-agents": lowercase letters, digits and hyphens.' },
      ]);
    }
    return list.length ? [...new Set(list as string[])] : null;
  }

  // ---- tokens ---------------------------------------------------------------------------------------------

  confirmToken(subscriberId: string, requestedAt: Date): string {
    return this.keys.sign(CONFIRM, `${subscriberId}:${requestedAt.getTime()}`);
  }
  confirmUrl(subscriberId: string, requestedAt: Date): string {
    return `${this.config.server.publicUrl}/subscribe/confirm?token=${encodeURIComponent(this.confirmToken(subscriberId, requestedAt))}`;
  }
  changeEmailToken(subscriberId: string, requestedAt: Date): string {
    return this.keys.sign(CHANGE_EMAIL, `${subscriberId}:${requestedAt.getTime()}`);
  }
  changeEmailUrl(subscriberId: string, requestedAt: Date): string {
    return `${this.config.server.publicUrl}/preferences/confirm-email?token=${encodeURIComponent(this.changeEmailToken(subscriberId, requestedAt))}`;
  }
  /** A signed, address-free token for the subscriber's unsubscribe link. */
  unsubscribeToken(subscriberId: string): string {
    return this.keys.sign(UNSUBSCRIBE, subscriberId);
  }
  unsubscribeUrl(subscriberId: string): string {
    return `${this.config.server.publicUrl}/unsubscribe?token=${encodeURIComponent(this.unsubscribeToken(subscriberId))}`;
  }
  preferencesToken(subscriberId: string): string {
    return this.keys.sign(PREFERENCES, subscriberId);
  }
  /** The signed link to the preferences page, for every email. */
  preferencesUrl(subscriberId: string): string {
    return `${this.config.server.publicUrl}/preferences?token=${encodeURIComponent(this.preferencesToken(subscriberId))}`;
  }

  private readToken(purpose: string, token: unknown, what: string): string {
    const payload = typeof token === 'string' && token.length <= 4096 ? this.keys.verify(purpose, token) : null;
    if (!payload || !/^[0-9a-f-]{36}(:\d{1,15})?$/.test(payload))
      throw new InvalidTokenError(`This ${what} link is invalid. Please use the link from the most recent email.`);
    return payload;
  }

  private readTimedToken(purpose: string, token: unknown, what: string): { id: string; at: number } {
    const [id, at] = this.readToken(purpose, token, what).split(':');
    if (!at) throw new InvalidTokenError(`This ${what} link is invalid. Please use the link from the most recent email.`);
    if (this.clock.now().getTime() - Number(at) > this.config.subscribers.linkTtlMs) {
      throw new ExpiredTokenError(`This ${what} link has expired. Please ask for a new one.`);
    }
    return { id, at: Number(at) };
  }

  private async row(m: EntityManager, id: string, lock = false): Promise<SubscriberRow | null> {
    const [row] = await m.query(`SELECT * FROM subscribers WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    return row ?? null;
  }

  // ---- confirmation ---------------------------------------------------------------------------------------

  private confirmState(row: SubscriberRow | null, at: number): 'ready' | 'already-active' {
    if (!row || row.status === SubscriberStatus.Deleted || row.confirm_requested_at?.getTime() !== at) {
      throw new InvalidTokenError('This confirmation link is invalid or has been replaced by a newer one.');
    }
    if (row.status === SubscriberStatus.Active) return 'already-active';
    const requested = row.confirm_requested_at.getTime();
    if ((row.unsubscribed_at && row.unsubscribed_at.getTime() >= requested) || (row.suppressed_at && row.suppressed_at.getTime() >= requested)) {
      // Unsubscribing (or a bounce or complaint) withdraws the consent this link was sent for.
      throw new InvalidTokenError('This confirmation link is no longer valid because the address was unsubscribed since. Subscribe again to get a new link.');
    }
    return 'ready';
  }

  /** For the GET page: checks the link, changes nothing (a link scanner opening it confirms no one). */
  async checkConfirmToken(token: unknown): Promise<'ready' | 'already-active'> {
    const { id, at } = this.readTimedToken(CONFIRM, token, 'confirmation');
    return this.confirmState(await this.row(this.dataSource.manager, id), at);
  }

  /** The POST behind the page's button: activates the subscription and queues the welcome email. */
  async confirm(token: unknown): Promise<{ subscriberId: string; alreadyActive: boolean }> {
    const { id, at } = this.readTimedToken(CONFIRM, token, 'confirmation');
    const now = this.clock.now();
    const result = await this.dataSource.transaction(async (m) => {
      const row = await this.row(m, id, true);
      if (this.confirmState(row, at) === 'already-active') return { subscriberId: id, alreadyActive: true };
      await m.query(
        `UPDATE subscribers SET status = 'active', confirmed_at = $2, unsubscribed_at = NULL, suppressed_at = NULL,
           suppression_reason = NULL, suppression_detail = NULL, paused_until = NULL, updated_at = now() WHERE id = $1`,
        [id, now],
      );
      await this.statusEvent(m, id, row!.status, SubscriberStatus.Active, now);
      await m.query(`INSERT INTO subscriber_consents (subscriber_id, kind, at, source, form_text, ip_hash) VALUES ($1, 'confirmed', $2, $3, $4, $5)`, [
        id,
        now,
        row!.consent_source,
        row!.consent_text,
        row!.consent_ip_hash,
      ]);
      await this.queueEmail(m, { subscriberId: id, kind: 'welcome', to: row!.email, tokenAt: null, key: `welcome-${id}-${at}`, now });
      return { subscriberId: id, alreadyActive: false };
    });
    if (!result.alreadyActive) await this.notifyConfirmed(id);
    return result;
  }

  /**
   * Called after each new confirmation (delivery registers its catch-up send here: dependencies point from
   * delivery to subscribers, never back). A listener's failure is logged, never undoes the confirmation.
   */
  onConfirmed(listener: (subscriberId: string) => Promise<void>): void {
    this.confirmedListeners.push(listener);
  }

  /**
   * Where the welcome email finds the latest issue that went out (delivery provides it; dependencies point from
   * delivery to subscribers). Without one, or while none was sent, the welcome email links the archive.
   */
  provideLatestIssue(source: () => Promise<LatestIssueLink | null>): void {
    this.latestIssueSource = source;
  }

  /** The latest issue sent, for the welcome email; null when none was sent or the source fails (logged). */
  async latestIssue(): Promise<LatestIssueLink | null> {
    try {
      return await this.latestIssueSource();
    } catch (error) {
      this.logger.error(`could not find the latest issue for a welcome email: ${(error as Error).message}`);
      return null;
    }
  }

  private async notifyConfirmed(id: string): Promise<void> {
    for (const listener of this.confirmedListeners) {
      try {
        await listener(id);
      } catch (error) {
        this.logger.error(`a confirmation listener failed for subscriber ${id}: ${(error as Error).message}`);
      }
    }
  }

  private async queueEmail(
    m: EntityManager,
    e: { subscriberId: string; kind: string; to: string; tokenAt: Date | null; key: string; now: Date },
  ): Promise<void> {
    await m.query(
      `INSERT INTO subscriber_emails (subscriber_id, kind, to_email, token_at, next_attempt_at, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING`,
      [e.subscriberId, e.kind, e.to, e.tokenAt, e.now, e.key],
    );
  }

  private async statusEvent(m: EntityManager, id: string | null, from: string | null, to: string, at: Date): Promise<void> {
    if (from === to) return;
    await m.query(`INSERT INTO subscriber_status_events (subscriber_id, from_status, to_status, at) VALUES ($1, $2, $3, $4)`, [id, from, to, at]);
  }

  /** Moves one subscriber to `to` under a row lock, with its status event; null when the row is gone. */
  private async transition(
    m: EntityManager,
    id: string,
    to: SubscriberStatus,
    set: string,
    params: unknown[],
    allowed: (row: SubscriberRow) => boolean = () => true,
  ): Promise<SubscriberRow | null> {
    const row = await this.row(m, id, true);
    if (!row || row.status === SubscriberStatus.Deleted || !allowed(row)) return row;
    await m.query(`UPDATE subscribers SET status = $2, ${set}, updated_at = now() WHERE id = $1`, [id, to, ...params]);
    await this.statusEvent(m, id, row.status, to, this.clock.now());
    return row;
  }

  // ---- unsubscribe ----------------------------------------------------------------------------------------

  /** Verifies an unsubscribe token without changing anything (for the GET page). */
  async checkUnsubscribeToken(token: unknown): Promise<{ alreadyUnsubscribed: boolean }> {
    const id = this.readToken(UNSUBSCRIBE, token, 'unsubscribe');
    const row = await this.row(this.dataSource.manager, id);
    if (!row) throw new InvalidTokenError('This unsubscribe link is invalid.');
    return { alreadyUnsubscribed: row.status !== SubscriberStatus.Active && row.status !== SubscriberStatus.Pending };
  }

  /** Instant and idempotent (RFC 8058 one-click and our page's button). */
  async unsubscribe(token: unknown): Promise<{ alreadyUnsubscribed: boolean; subscriberId: string }> {
    const id = this.readToken(UNSUBSCRIBE, token, 'unsubscribe');
    return this.unsubscribeById(id);
  }

  private async unsubscribeById(id: string): Promise<{ alreadyUnsubscribed: boolean; subscriberId: string }> {
    const now = this.clock.now();
    const before = await this.dataSource.transaction((m) =>
      this.transition(
        m,
        id,
        SubscriberStatus.Unsubscribed,
        'unsubscribed_at = $3, paused_until = NULL',
        [now],
        (r) => r.status === SubscriberStatus.Active || r.status === SubscriberStatus.Pending,
      ),
    );
    if (!before) throw new InvalidTokenError('This unsubscribe link is invalid.');
    return { alreadyUnsubscribed: before.status !== SubscriberStatus.Active && before.status !== SubscriberStatus.Pending, subscriberId: id };
  }

  // ---- suppression ----------------------------------------------------------------------------------------

  /**
   * Hard bounces and complaints (delivery's webhooks) and editors' decisions: the address is never mailed
   * again, and only a fresh, confirmed sign-up revives it. An unknown address is recorded as suppressed, so a
   * later sign-up still needs its confirmation. Idempotent; returns the subscriber's id.
   */
  async suppress(input: { email: string; reason: SuppressionReason; detail?: string }): Promise<string> {
    if (!['bounced', 'complained', 'manual'].includes(input.reason))
      throw new ValidationError(`Unknown suppression reason "${String(input.reason)}".`, [
        { field: 'reason', message: `Unknown suppression reason "${String(input.reason)}".` },
      ]);
    const email = this.normaliseEmail(input.email);
    const now = this.clock.now();
    const detail = input.detail?.slice(0, 2000) ?? null;
    return this.dataSource.transaction(async (m) => {
      const inserted = returningRows<{ id: string }>(
        await m.query(
          `INSERT INTO subscribers (email, status, consent_at, consent_source, suppressed_at, suppression_reason, suppression_detail)
         VALUES ($1, 'suppressed', $2, 'suppression', $2, $3, $4) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
          [email, now, input.reason, detail],
        ),
      );
      if (inserted.length) {
        await this.statusEvent(m, inserted[0].id, null, SubscriberStatus.Suppressed, now);
        return inserted[0].id;
      }
      const [{ id }] = await m.query(`SELECT id FROM subscribers WHERE lower(email) = lower($1)`, [email]);
      await this.transition(
        m,
        id,
        SubscriberStatus.Suppressed,
        'suppressed_at = $3, suppression_reason = $4, suppression_detail = $5',
        [now, input.reason, detail],
        (r) => r.status !== SubscriberStatus.Suppressed,
      );
      return id as string;
    });
  }

  // ---- preferences ----------------------------------------------------------------------------------------

  /**
   * The preferences page takes a preferences token (welcome and confirmation pages) or the unsubscribe token of a
   * digest (its preferences link is derived from its unsubscribe link, see preferencesUrlForUnsubscribeUrl): both
   * travel in every email to the subscriber alone, and neither reveals the address.
   */
  private async preferencesRow(token: unknown): Promise<SubscriberRow> {
    const id =
      typeof token === 'string' && token.length <= 4096 && this.keys.verify(UNSUBSCRIBE, token)
        ? this.readToken(UNSUBSCRIBE, token, 'preferences')
        : this.readToken(PREFERENCES, token, 'preferences');
    const row = await this.row(this.dataSource.manager, id);
    if (!row) throw new InvalidTokenError('This preferences link is invalid.');
    if (row.status === SubscriberStatus.Deleted)
      throw new NotFoundError('This subscription was deleted, with its personal data. You can subscribe again at any time.');
    return row;
  }

  async preferences(token: unknown): Promise<PreferencesView> {
    const row = await this.preferencesRow(token);
    return {
      email: row.email,
      status: row.status,
      beats: row.beat_slugs,
      pausedUntil: row.paused_until && row.paused_until > this.clock.now() ? row.paused_until : null,
      pendingEmail: row.pending_email,
      suppressionReason: row.suppression_reason,
    };
  }

  /** Beats to receive (null: all) and a pause of 0 to 52 weeks (0 resumes). */
  async updatePreferences(token: unknown, input: { beats: unknown; pauseWeeks?: unknown }): Promise<PreferencesView> {
    const row = await this.preferencesRow(token);
    const beats = this.cleanBeats(input.beats);
    let pausedUntil: Date | null | undefined;
    if (input.pauseWeeks !== undefined && input.pauseWeeks !== '') {
      const weeks = typeof input.pauseWeeks === 'number' ? input.pauseWeeks : /^\d{1,3}$/.test(String(input.pauseWeeks)) ? Number(input.pauseWeeks) : NaN;
      if (!Number.isInteger(weeks) || weeks < 0 || weeks > MAX_PAUSE_WEEKS)
        throw new InvalidPreferencesError(`A pause is a whole number of weeks from 0 to ${MAX_PAUSE_WEEKS}.`, [
          { field: 'pauseWeeks', message: `A pause is a whole number of weeks from 0 to ${MAX_PAUSE_WEEKS}.` },
        ]);
      pausedUntil = weeks === 0 ? null : new Date(this.clock.now().getTime() + weeks * 7 * 86_400_000);
    }
    await this.dataSource.query(
      `UPDATE subscribers SET beat_slugs = $2, paused_until = CASE WHEN $3 THEN $4::timestamptz ELSE paused_until END, updated_at = now() WHERE id = $1 AND status <> 'deleted'`,
      [row.id, beats, pausedUntil !== undefined, pausedUntil ?? null],
    );
    return this.preferences(token);
  }

  /** Unsubscribe from the preferences page. */
  async unsubscribeWithPreferences(token: unknown): Promise<{ alreadyUnsubscribed: boolean }> {
    return this.unsubscribeById((await this.preferencesRow(token)).id);
  }

  /**
   * Resubscribe from the preferences page: the signed link proves the mailbox, so an unsubscribed address is
   * active again at once; a suppressed one (bounce, complaint) must confirm afresh, and gets a new link.
   */
  async resubscribe(token: unknown, ip: string | null): Promise<'active' | 'check-inbox'> {
    const row = await this.preferencesRow(token);
    const now = this.clock.now();
    if (row.status === SubscriberStatus.Active) return 'active';
    if (row.status === SubscriberStatus.Unsubscribed) {
      const done = await this.dataSource.transaction(async (m) => {
        const before = await this.transition(
          m,
          row.id,
          SubscriberStatus.Active,
          'unsubscribed_at = NULL, confirmed_at = COALESCE(confirmed_at, $3)',
          [now],
          (r) => r.status === SubscriberStatus.Unsubscribed,
        );
        if (before?.status !== SubscriberStatus.Unsubscribed) return false;
        await m.query(
          `INSERT INTO subscriber_consents (subscriber_id, kind, at, source, form_text, ip_hash) VALUES ($1, 'resubscribed', $2, 'preferences', $3, $4)`,
          [row.id, now, 'Resubscribe (preferences page)', this.ipHash(ip)],
        );
        return true;
      });
      if (done) return 'active';
    }
    await this.claimConfirmation(this.dataSource.manager, {
      email: row.email,
      name: null,
      beats: null,
      now,
      source: 'preferences',
      formText: 'Resubscribe (preferences page)',
      ipHash: this.ipHash(ip),
    });
    return 'check-inbox';
  }

  /** Change of address: the new one gets a confirmation link; nothing moves until it is used. */
  async requestEmailChange(token: unknown, newEmail: unknown, ip: string | null): Promise<void> {
    const row = await this.preferencesRow(token);
    const email = this.normaliseEmail(newEmail);
    const limits = this.config.subscribers;
    await this.limiter.hit(
      { name: 'subscribe-address', limit: limits.addressLimit, windowMs: limits.addressWindowMs },
      this.keys.sign('addr', email.toLowerCase()).split('.')[1],
      (at) => `This address was used too often. Please try again after ${at.toISOString().slice(11, 16)} UTC.`,
    );
    if (email.toLowerCase() === row.email.toLowerCase()) throw new InvalidEmailError('This is already the address of your subscription.', 'same_address');
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - limits.resendAfterMs);
    await this.dataSource.transaction(async (m) => {
      const claimed = returningRows(
        await m.query(
          `UPDATE subscribers SET pending_email = $2, pending_email_requested_at = $3, updated_at = now()
         WHERE id = $1 AND status <> 'deleted' AND (pending_email_requested_at IS NULL OR pending_email_requested_at <= $4 OR lower(pending_email) <> lower($2))
         RETURNING id`,
          [row.id, email, now, cutoff],
        ),
      );
      if (claimed.length) {
        await this.queueEmail(m, {
          subscriberId: row.id,
          kind: 'change-email',
          to: email,
          tokenAt: now,
          key: `change-email-${row.id}-${now.getTime()}-${this.keys.sign('addr', email.toLowerCase()).split('.')[1].slice(0, 16)}`,
          now,
        });
        await m.query(
          `INSERT INTO subscriber_consents (subscriber_id, kind, at, source, form_text, ip_hash) VALUES ($1, 'address-change-requested', $2, 'preferences', $3, $4)`,
          [row.id, now, 'Change address (preferences page)', this.ipHash(ip)],
        );
      }
    });
  }

  async checkEmailChangeToken(token: unknown): Promise<{ newEmail: string }> {
    const { id, at } = this.readTimedToken(CHANGE_EMAIL, token, 'address confirmation');
    const row = await this.row(this.dataSource.manager, id);
    if (!row || row.status === SubscriberStatus.Deleted || !row.pending_email || row.pending_email_requested_at?.getTime() !== at) {
      throw new InvalidTokenError('This address confirmation link is invalid or has been replaced by a newer one.');
    }
    return { newEmail: row.pending_email };
  }

  /** The POST of the new address's confirmation page: the subscription moves to it. */
  async confirmEmailChange(token: unknown): Promise<{ email: string }> {
    const { newEmail } = await this.checkEmailChangeToken(token);
    const { id, at } = this.readTimedToken(CHANGE_EMAIL, token, 'address confirmation');
    return this.dataSource.transaction(async (m) => {
      const row = await this.row(m, id, true);
      if (!row || row.pending_email_requested_at?.getTime() !== at)
        throw new InvalidTokenError('This address confirmation link is invalid or has been replaced by a newer one.');
      const [taken] = await m.query(`SELECT id, status FROM subscribers WHERE lower(email) = lower($1) AND id <> $2`, [newEmail, id]);
      if (taken && taken.status !== SubscriberStatus.Deleted) {
        throw new InvalidEmailError(
          `${newEmail} already has its own subscription (or is blocked after bounces or complaints), so this one cannot move to it.`,
          'address_taken',
        );
      }
      await m.query(`UPDATE subscribers SET email = $2, pending_email = NULL, pending_email_requested_at = NULL, updated_at = now() WHERE id = $1`, [
        id,
        newEmail,
      ]);
      await m.query(
        `INSERT INTO subscriber_consents (subscriber_id, kind, at, source, form_text, ip_hash) VALUES ($1, 'address-changed', $2, 'preferences', $3, NULL)`,
        [id, this.clock.now(), `Confirmed new address`],
      );
      return { email: newEmail };
    });
  }

  /** Everything we hold about the subscriber, as JSON. */
  async exportData(token: unknown): Promise<SubscriberDataExport> {
    const row = await this.preferencesRow(token);
    const consents = await this.dataSource.query(`SELECT kind, at, source, form_text, ip_hash FROM subscriber_consents WHERE subscriber_id = $1 ORDER BY at`, [
      row.id,
    ]);
    const events = await this.dataSource.query(`SELECT from_status, to_status, at FROM subscriber_status_events WHERE subscriber_id = $1 ORDER BY id`, [
      row.id,
    ]);
    const emails = await this.dataSource.query(`SELECT kind, status, created_at, sent_at FROM subscriber_emails WHERE subscriber_id = $1 ORDER BY created_at`, [
      row.id,
    ]);
    return {
      subscriber: { ...toView(row), pendingEmail: row.pending_email },
      consents: consents.map((c: Record<string, unknown>) => ({ kind: c.kind, at: c.at, source: c.source, formText: c.form_text, ipHash: c.ip_hash })),
      statusChanges: events.map((e: Record<string, unknown>) => ({ from: e.from_status, to: e.to_status, at: e.at })),
      emails: emails.map((e: Record<string, unknown>) => ({ kind: e.kind, status: e.status, createdAt: e.created_at, sentAt: e.sent_at })),
      exportedAt: this.clock.now(),
    } as SubscriberDataExport;
  }

  /** Self-deletion from the preferences page. */
  async deleteSelf(token: unknown): Promise<void> {
    await this.erase((await this.preferencesRow(token)).id);
  }

  /**
   * Removes the personal data (address, name, beats, consent records, queued mail) and keeps an anonymous
   * row (status `deleted`, dates) and its status events, so counts over time stay true.
   */
  private async erase(id: string): Promise<boolean> {
    const now = this.clock.now();
    return this.dataSource.transaction(async (m) => {
      const before = await this.transition(
        m,
        id,
        SubscriberStatus.Deleted,
        `email = 'deleted-' || id || '@deleted.invalid', name = NULL, beat_slugs = NULL, consent_ip = NULL, consent_ip_hash = NULL,
         consent_text = NULL, consent_source = 'deleted', pending_email = NULL, pending_email_requested_at = NULL,
         suppression_detail = NULL, confirm_requested_at = NULL, deleted_at = $3`,
        [now],
      );
      if (!before) return false;
      await m.query(`DELETE FROM subscriber_consents WHERE subscriber_id = $1`, [id]);
      await m.query(`DELETE FROM subscriber_emails WHERE subscriber_id = $1`, [id]);
      return true;
    });
  }

  // ---- editors --------------------------------------------------------------------------------------------

  async list(query: SubscriberListQuery = {}): Promise<SubscriberPage> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (query.status) {
      if (!ALL_STATUSES.includes(query.status))
        throw new ValidationError(`Unknown status "${query.status}".`, [{ field: 'status', message: `Unknown status "${query.status}".` }]);
      where.push(`status = ${p(query.status)}`);
    }
    if (query.beat) where.push(`(beat_slugs IS NULL OR ${p(query.beat)} = ANY(beat_slugs))`);
    if (query.search) where.push(`lower(email) LIKE ${p(`%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
    if (query.createdFrom) where.push(`created_at >= ${p(query.createdFrom)}`);
    if (query.createdTo) where.push(`created_at < ${p(query.createdTo)}`);
    if (query.cursor) {
      const [at, id] = Buffer.from(query.cursor, 'base64url').toString().split('|');
      if (!at || !id || Number.isNaN(Date.parse(at))) throw new ValidationError('Invalid cursor.', [{ field: 'cursor', message: 'Invalid cursor.' }]);
      where.push(`(created_at, id) < (${p(new Date(at))}, ${p(id)}::uuid)`);
    }
    const rows: SubscriberRow[] = await this.dataSource.query(
      `SELECT * FROM subscribers ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`,
      params,
    );
    const items = rows.slice(0, limit).map(toView);
    const last = rows.length > limit ? rows[limit - 1] : null;
    return { items, nextCursor: last ? Buffer.from(`${last.created_at.toISOString()}|${last.id}`).toString('base64url') : null };
  }

  async get(id: string): Promise<SubscriberView> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.row(this.dataSource.manager, id) : null;
    if (!row) throw new NotFoundError(`No subscriber ${id}.`);
    return toView(row);
  }

  /** How many subscribers are in each status, every status present (0 when none); deleted rows are anonymous. */
  async countByStatus(): Promise<{ total: number; byStatus: StatusCounts }> {
    const rows: Array<{ status: SubscriberStatus; n: number }> = await this.dataSource.query(
      `SELECT status, count(*)::int AS n FROM subscribers GROUP BY status`,
    );
    const byStatus = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as StatusCounts;
    for (const r of rows) if (r.status in byStatus) byStatus[r.status] = r.n;
    return { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus };
  }

  /** Subscribers in each status at the end of each of the last `days` days (UTC), from the status events. */
  async statusHistory(days = 30): Promise<StatusHistoryPoint[]> {
    const span = Math.min(Math.max(Math.floor(days), 1), 3660);
    const end = this.clock.now();
    const today = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate());
    const firstDay = new Date(today - (span - 1) * 86_400_000);
    const before: Array<{ status: string; n: number }> = await this.dataSource
      .query(
        `SELECT s, sum(d)::int AS n FROM (SELECT to_status AS s, 1 AS d FROM subscriber_status_events WHERE at < $1
        UNION ALL SELECT from_status, -1 FROM subscriber_status_events WHERE at < $1 AND from_status IS NOT NULL) x GROUP BY s`,
        [firstDay],
      )
      .then((r: Array<{ s: string; n: number }>) => r.map((x) => ({ status: x.s, n: x.n })));
    const deltas: Array<{ day: string; s: string; n: number }> = await this.dataSource.query(
      `SELECT to_char(date_trunc('day', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, s, sum(d)::int AS n FROM (
         SELECT at, to_status AS s, 1 AS d FROM subscriber_status_events WHERE at >= $1
         UNION ALL SELECT at, from_status, -1 FROM subscriber_status_events WHERE at >= $1 AND from_status IS NOT NULL) x
       GROUP BY 1, 2`,
      [firstDay],
    );
    const running = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as StatusCounts;
    for (const b of before) if (b.status in running) running[b.status as SubscriberStatus] += b.n;
    const points: StatusHistoryPoint[] = [];
    for (let i = 0; i < span; i++) {
      const day = new Date(firstDay.getTime() + i * 86_400_000).toISOString().slice(0, 10);
      for (const d of deltas) if (d.day === day && d.s in running) running[d.s as SubscriberStatus] += d.n;
      points.push({ day, counts: { ...running } });
    }
    return points;
  }

  async adminUnsubscribe(id: string): Promise<SubscriberView> {
    await this.get(id);
    await this.unsubscribeById(id);
    return this.get(id);
  }

  async adminSuppress(id: string, detail?: string): Promise<SubscriberView> {
    const view = await this.get(id);
    if (view.status === SubscriberStatus.Deleted) throw new ValidationError('This subscriber was deleted.');
    await this.suppress({ email: view.email, reason: 'manual', detail });
    return this.get(id);
  }

  async adminDelete(id: string): Promise<void> {
    await this.get(id);
    await this.erase(id);
  }

  // ---- delivery -------------------------------------------------------------------------------------------

  /** Active, unpaused subscribers after `afterId` in id order, for freezing a send's audience page by page. */
  async getActiveAfter(afterId: string | null, limit: number): Promise<AudienceMember[]> {
    const rows: Array<{ id: string; email: string; beat_slugs: string[] | null }> = await this.dataSource.query(
      `SELECT id, email, beat_slugs FROM subscribers WHERE status = 'active' AND (paused_until IS NULL OR paused_until <= $1)
       ${afterId ? 'AND id > $3' : ''} ORDER BY id LIMIT $2`,
      afterId ? [this.clock.now(), limit, afterId] : [this.clock.now(), limit],
    );
    return rows.map((r) => ({ id: r.id, email: r.email, beatSlugs: r.beat_slugs }));
  }

  /**
   * SQL (no parameters) selecting `id, email, beat_slugs` of every subscriber an issue may be mailed to now (active,
   * not paused), so delivery can freeze an audience of any size with one INSERT … SELECT.
   */
  audienceSql(): string {
    return `SELECT id, email, beat_slugs FROM subscribers WHERE status = 'active' AND (paused_until IS NULL OR paused_until <= now())`;
  }

  /**
   * Ids of subscribers who may be mailed now (active, not paused) and confirmed at or after `since`, oldest
   * first, at most `limit`: delivery's catch-up send looks among them for new subscribers without the latest issue.
   */
  async activeConfirmedSince(since: Date, limit = 10_000): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM subscribers WHERE status = 'active' AND (paused_until IS NULL OR paused_until <= $1) AND confirmed_at >= $2
       ORDER BY confirmed_at, id LIMIT $3`,
      [this.clock.now(), since, Math.min(Math.max(Math.floor(limit), 1), 100_000)],
    );
    return rows.map((r) => r.id);
  }

  /** Which of these subscribers may still be mailed (checked again just before each batch goes out). */
  activeIds(ids: string[]): Promise<Set<string>> {
    return this.repo.activeIds(ids, this.clock.now());
  }

  /** Seeds already-confirmed subscribers (the demo); existing addresses are left alone. */
  async seedActive(emails: string[], source: string): Promise<void> {
    const now = this.clock.now();
    for (const raw of emails) {
      const email = this.normaliseEmail(raw);
      const created = await this.repo.insertIfAbsent({ email, status: SubscriberStatus.Active, consentAt: now, consentSource: source, confirmedAt: now });
      if (created) await this.statusEvent(this.dataSource.manager, created, null, SubscriberStatus.Active, now);
    }
  }
}

/**
 * The preferences link that goes with an unsubscribe link: the same signed token on the preferences page, which
 * accepts it. Delivery derives a digest's preferences link from the unsubscribe link it stored on the recipient,
 * so a batch's payload depends on stored values only (a rotated key or PUBLIC_URL cannot change a re-sent one).
 */
export function preferencesUrlForUnsubscribeUrl(unsubscribeUrl: string): string {
  try {
    const url = new URL(unsubscribeUrl);
    if (!url.pathname.endsWith('/unsubscribe')) return unsubscribeUrl;
    url.pathname = `${url.pathname.slice(0, -'unsubscribe'.length)}preferences`;
    return url.toString();
  } catch {
    return unsubscribeUrl;
  }
}

export function toView(row: SubscriberRow): SubscriberView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status: row.status,
    beats: row.beat_slugs,
    consentSource: row.consent_source,
    consentAt: row.consent_at,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    unsubscribedAt: row.unsubscribed_at,
    suppressedAt: row.suppressed_at,
    suppressionReason: row.suppression_reason,
    pausedUntil: row.paused_until,
  };
}

/** For other modules, which reach this one only through its services and their view types (never the entity). */
export type {
  AudienceMember,
  LatestIssueLink,
  PreferencesView,
  StatusCounts,
  StatusHistoryPoint,
  SubscriberDataExport,
  SubscriberListQuery,
  SubscriberPage,
  SubscriberView,
} from './subscriber.views';
export type { SuppressionReason } from './subscriber.entity';
export { ChallengeError, solveProofOfWork, type ChallengeAnswer, type ChallengeOffer } from './signup-challenge';
export { RateLimitedError } from './rate-limiter';
export { SubscriberStatus } from './subscriber.entity';
