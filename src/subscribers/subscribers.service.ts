import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { EmailSender } from '../kernel/email/email-sender.port';
import { UnavailableError, ValidationError } from '../kernel/errors/domain-error';
import { SigningKey } from '../kernel/secrets/signing-key';
import { EmailTemplates } from '../kernel/templates/email-templates';
import { SubscriberStatus, type Subscriber } from './subscriber.entity';
import { SubscriberRepository } from './subscriber.repository';

export class InvalidEmailError extends ValidationError {
  override readonly code: string = 'invalid_email';
}
export class InvalidTokenError extends ValidationError {
  override readonly code: string = 'invalid_token';
}

const emailSchema = z.string().trim().max(254).pipe(z.email());

const CONFIRM = 'confirm';
/** A pending address gets at most one confirmation email per window, however often the form is posted. */
const CONFIRMATION_RESEND_AFTER_MS = 10 * 60_000;
const UNSUBSCRIBE = 'unsubscribe';

export type SubscribeResult = 'confirmation-sent' | 'already-active';

@Injectable()
export class SubscribersService {
  private readonly logger = new Logger(SubscribersService.name);

  constructor(
    private readonly repo: SubscriberRepository,
    private readonly keys: SigningKey,
    private readonly email: EmailSender,
    private readonly templates: EmailTemplates,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  normaliseEmail(input: unknown): string {
    const parsed = emailSchema.safeParse(input);
    if (!parsed.success) throw new InvalidEmailError('Please enter a valid email address, like name@example.com.');
    return parsed.data;
  }

  /**
   * Double opt-in: records consent as pending and emails a signed confirmation link. Subscribing again while
   * pending (after ten minutes) or after unsubscribing sends a fresh link and voids the old one; an active
   * address is left as it is.
   */
  async subscribe(input: { email: unknown; ip: string | null; source: string }): Promise<SubscribeResult> {
    const email = this.normaliseEmail(input.email);
    const now = this.clock.now();
    const { subscriber, created } = await this.repo.insertIfAbsent({
      email, status: SubscriberStatus.Pending, beatSlugs: null, consentAt: now, consentSource: input.source,
      consentIp: input.ip, confirmedAt: null, unsubscribedAt: null,
    });
    if (!created) {
      if (subscriber.status === SubscriberStatus.Active) return 'already-active';
      const recent = now.getTime() - subscriber.consentAt.getTime() < CONFIRMATION_RESEND_AFTER_MS;
      // Same answer either way, so the form can't be used to flood someone's inbox or to probe addresses.
      if (subscriber.status === SubscriberStatus.Pending && recent) return 'confirmation-sent';
      Object.assign(subscriber, { status: SubscriberStatus.Pending, consentAt: now, consentSource: input.source, consentIp: input.ip });
      await this.repo.save(subscriber);
    }
    await this.sendConfirmation(subscriber);
    return 'confirmation-sent';
  }

  private async sendConfirmation(subscriber: Subscriber): Promise<void> {
    const confirmUrl = `${this.config.server.publicUrl}/subscribe/confirm?token=${encodeURIComponent(this.confirmToken(subscriber))}`;
    const { html, text } = await this.templates.render('confirm', {
      title: `Confirm your subscription to ${this.config.site.title}`,
      preview: 'One click to start receiving the weekly digest.',
      site: { title: this.config.site.title, url: this.config.server.publicUrl },
      masthead: 'Confirm your subscription',
      email: subscriber.email,
      confirmUrl,
    });
    const outcome = await this.email.sendBatch(
      [{ from: this.config.email.from, to: subscriber.email, subject: `Confirm your subscription to ${this.config.site.title}`, html, text, headers: {} }],
      { idempotencyKey: `confirm-${subscriber.id}-${subscriber.consentAt.getTime()}` },
    );
    if (outcome.kind !== 'accepted' || outcome.messages[0]?.status !== 'accepted') {
      const reason = outcome.kind === 'accepted' ? (outcome.messages[0] as { error?: string }).error : outcome.error;
      this.logger.error(`confirmation email to subscriber ${subscriber.id} failed: ${reason}`);
      throw new ConfirmationEmailError(`We could not send the confirmation email just now. Please try again in a few minutes.`);
    }
  }

  confirmToken(subscriber: Subscriber): string {
    // Bound to the consent time, so a new signup invalidates older links.
    return this.keys.sign(CONFIRM, `${subscriber.id}:${subscriber.consentAt.getTime()}`);
  }

  async confirm(token: string): Promise<Subscriber> {
    const payload = this.keys.verify(CONFIRM, token);
    const [id, consentAt] = payload?.split(':') ?? [];
    const subscriber = id ? await this.repo.getById(id) : null;
    if (!subscriber || String(subscriber.consentAt.getTime()) !== consentAt) {
      throw new InvalidTokenError('This confirmation link is invalid or has been replaced by a newer one.');
    }
    if (subscriber.status === SubscriberStatus.Unsubscribed) {
      // Unsubscribing withdraws the consent this link was sent for.
      throw new InvalidTokenError('This confirmation link is no longer valid because the address was unsubscribed since. Subscribe again to get a new link.');
    }
    if (subscriber.status === SubscriberStatus.Pending) {
      Object.assign(subscriber, { status: SubscriberStatus.Active, confirmedAt: this.clock.now(), unsubscribedAt: null });
      await this.repo.save(subscriber);
    }
    return subscriber;
  }

  /** A signed, address-free token for the subscriber's unsubscribe link. */
  unsubscribeToken(subscriberId: string): string {
    return this.keys.sign(UNSUBSCRIBE, subscriberId);
  }

  unsubscribeUrl(subscriberId: string): string {
    return `${this.config.server.publicUrl}/unsubscribe?token=${encodeURIComponent(this.unsubscribeToken(subscriberId))}`;
  }

  /** Verifies a token without changing anything (for the GET page). */
  async checkUnsubscribeToken(token: string): Promise<Subscriber> {
    const id = this.keys.verify(UNSUBSCRIBE, token);
    const subscriber = id ? await this.repo.getById(id) : null;
    if (!subscriber) throw new InvalidTokenError('This unsubscribe link is invalid.');
    return subscriber;
  }

  /** Instant and idempotent. */
  async unsubscribe(token: string): Promise<Subscriber> {
    const subscriber = await this.checkUnsubscribeToken(token);
    if (subscriber.status !== SubscriberStatus.Unsubscribed) {
      Object.assign(subscriber, { status: SubscriberStatus.Unsubscribed, unsubscribedAt: this.clock.now() });
      await this.repo.save(subscriber);
    }
    return subscriber;
  }

  /**
   * The provider reported a hard bounce or a complaint: the address is not mailed again. Minimal version (delivery,
   * issue 11): the subscriber is unsubscribed. Returns false when no subscriber has the address.
   */
  async suppress(input: { email: string; reason: 'bounced' | 'complained'; detail?: string }): Promise<boolean> {
    const subscriber = await this.repo.getByEmail(input.email);
    if (!subscriber) return false;
    if (subscriber.status !== SubscriberStatus.Unsubscribed) {
      Object.assign(subscriber, { status: SubscriberStatus.Unsubscribed, unsubscribedAt: this.clock.now() });
      await this.repo.save(subscriber);
      this.logger.warn(`subscriber ${subscriber.id} suppressed: ${input.reason}${input.detail ? ` (${input.detail})` : ''}`);
    }
    return true;
  }

  /** Seeds already-confirmed subscribers (the demo); existing addresses are left alone. */
  /** How many subscribers are in each status, every status present (0 when none). */
  async countByStatus(): Promise<{ total: number; byStatus: Record<SubscriberStatus, number> }> {
    const counts = await this.repo.countByStatus();
    const byStatus = Object.fromEntries(Object.values(SubscriberStatus).map((status) => [status, counts[status] ?? 0])) as Record<SubscriberStatus, number>;
    return { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus };
  }

  async seedActive(emails: string[], source: string): Promise<void> {
    const now = this.clock.now();
    for (const raw of emails) {
      const email = this.normaliseEmail(raw);
      await this.repo.insertIfAbsent({ email, status: SubscriberStatus.Active, beatSlugs: null, consentAt: now, consentSource: source, consentIp: null, confirmedAt: now, unsubscribedAt: null });
    }
  }

  getActiveAfter(afterId: string | null, limit: number): Promise<Subscriber[]> {
    return this.repo.getActiveAfter(afterId, limit);
  }

  /**
   * SQL (no parameters) selecting `id, email, beat_slugs` of every subscriber an issue may be mailed to now, so
   * delivery can freeze an audience of any size with one INSERT … SELECT instead of reading it into memory.
   */
  audienceSql(): string {
    return this.repo.audienceSql();
  }

  /** Which of these subscribers are still active (checked again just before each batch goes out). */
  activeIds(ids: string[]): Promise<Set<string>> {
    return this.repo.activeIds(ids);
  }
}

export class ConfirmationEmailError extends UnavailableError {
  override readonly code = 'confirmation_email_failed';
}
