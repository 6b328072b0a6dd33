import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { returningRows } from '../kernel/database/returning-rows';
import { EmailSender, type OutgoingEmail } from '../kernel/email/email-sender.port';
import { scheduleStage } from '../kernel/jobs/cron-jobs';
import { JobRunner } from '../kernel/jobs/job-runner';
import { EmailTemplates } from '../kernel/templates/email-templates';
import { RateLimiter } from './rate-limiter';
import { SubscribersService } from './subscribers.service';

const LEASE_MS = 5 * 60_000;
const MAX_ATTEMPTS = 8;

interface QueuedEmail {
  id: string;
  subscriber_id: string;
  kind: 'confirm' | 'welcome' | 'change-email';
  to_email: string;
  token_at: Date | null;
  attempts: number;
  idempotency_key: string;
}

export interface MailRunSummary {
  sent: number;
  skipped: number;
  retried: number;
  failed: number;
}

/**
 * Sends the subscriber emails queued in `subscriber_emails` (confirmation, welcome, change of address). Rows
 * are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so several instances share the work without sending
 * twice; each goes out under its row's idempotency key. A row is re-checked just before sending: a superseded
 * confirmation, an address that was suppressed or deleted meanwhile, is skipped.
 */
@Injectable()
export class SubscriberMailer implements OnApplicationBootstrap {
  private readonly logger = new Logger(SubscriberMailer.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly subscribers: SubscribersService,
    private readonly sender: EmailSender,
    private readonly templates: EmailTemplates,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly runner: JobRunner,
    private readonly registry: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.schedule.enabled) return;
    scheduleStage({ registry: this.registry, runner: this.runner, name: 'subscriber-mail', cron: this.config.schedule.subscriberMail, run: () => this.run() });
  }

  /** Sends everything due (in rounds of 50) and prunes old rate-limit windows. */
  async run(): Promise<MailRunSummary> {
    const total: MailRunSummary = { sent: 0, skipped: 0, retried: 0, failed: 0 };
    for (;;) {
      const round = await this.sendDue(50);
      for (const k of Object.keys(total) as Array<keyof MailRunSummary>) total[k] += round[k];
      if (round.sent + round.skipped + round.retried + round.failed < 50) break;
    }
    const s = this.config.subscribers;
    await this.limiter.prune(new Date(this.clock.now().getTime() - 2 * Math.max(s.clientWindowMs, s.addressWindowMs)));
    return total;
  }

  async sendDue(limit = 50): Promise<MailRunSummary> {
    const now = this.clock.now();
    const claimed = returningRows<QueuedEmail>(
      await this.dataSource.query(
        `UPDATE subscriber_emails SET status = 'sending', lease_until = $2, attempts = attempts + 1
       WHERE id IN (SELECT id FROM subscriber_emails
                    WHERE (status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until < $1)
                    ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, subscriber_id, kind, to_email, token_at, attempts, idempotency_key`,
        [now, new Date(now.getTime() + LEASE_MS), limit],
      ),
    );
    const summary: MailRunSummary = { sent: 0, skipped: 0, retried: 0, failed: 0 };
    for (const row of claimed) summary[await this.sendOne(row)] += 1;
    return summary;
  }

  private async sendOne(row: QueuedEmail): Promise<keyof MailRunSummary> {
    let email: OutgoingEmail | null;
    try {
      email = await this.compose(row);
    } catch (error) {
      return this.finish(row, 'failed', `could not render: ${(error as Error).message}`);
    }
    if (!email) return this.finish(row, 'skipped', 'no longer applies');
    const outcome = await this.sender.sendBatch([email], { idempotencyKey: row.idempotency_key });
    if (outcome.kind === 'accepted') {
      const message = outcome.messages[0];
      return message?.status === 'accepted' ? this.finish(row, 'sent', null) : this.finish(row, 'failed', message?.error ?? 'no result');
    }
    if (outcome.kind === 'failed' || row.attempts >= MAX_ATTEMPTS) return this.finish(row, 'failed', outcome.error);
    // Rate limits, quota, transient or unknown outcomes: try again later under the same idempotency key.
    const hinted =
      'retryAfterMs' in outcome
        ? outcome.retryAfterMs
        : outcome.kind === 'quota' && outcome.resetAt
          ? outcome.resetAt.getTime() - this.clock.now().getTime()
          : 0;
    const delay = Math.max(hinted, Math.min(3_600_000, 30_000 * 2 ** (row.attempts - 1)));
    await this.dataSource.query(`UPDATE subscriber_emails SET status = 'queued', lease_until = NULL, next_attempt_at = $2, last_error = $3 WHERE id = $1`, [
      row.id,
      new Date(this.clock.now().getTime() + delay),
      outcome.error,
    ]);
    return 'retried';
  }

  private async finish(row: QueuedEmail, status: 'sent' | 'skipped' | 'failed', error: string | null): Promise<keyof MailRunSummary> {
    await this.dataSource.query(`UPDATE subscriber_emails SET status = $2, lease_until = NULL, last_error = $3, sent_at = $4 WHERE id = $1`, [
      row.id,
      status,
      error,
      status === 'sent' ? this.clock.now() : null,
    ]);
    if (status === 'failed') this.logger.error(`${row.kind} email ${row.id} failed: ${error}`);
    return status;
  }

  /** The message for a queued row, or null when it no longer applies. */
  private async compose(row: QueuedEmail): Promise<OutgoingEmail | null> {
    const [s] = await this.dataSource.query(
      `SELECT id, email, status, confirm_requested_at, pending_email, pending_email_requested_at FROM subscribers WHERE id = $1`,
      [row.subscriber_id],
    );
    if (!s || s.status === 'deleted') return null;
    const site = { title: this.config.site.title, url: this.config.server.publicUrl };
    const expiresIn = `${Math.round(this.config.subscribers.linkTtlMs / 3_600_000)} hours`;
    const base = { site, preview: '', masthead: '', email: row.to_email };
    let subject: string;
    let rendered: { html: string; text: string };
    const headers: Record<string, string> = {};
    switch (row.kind) {
      case 'confirm': {
        // Only the link of the latest request, to the address it was asked for, and never once confirmed.
        if (s.status === 'active' || s.confirm_requested_at?.getTime() !== row.token_at?.getTime() || s.email.toLowerCase() !== row.to_email.toLowerCase())
          return null;
        subject = `Confirm your subscription to ${site.title}`;
        rendered = await this.templates.render('confirm', {
          ...base,
          title: subject,
          preview: 'One click to start receiving the weekly digest.',
          masthead: 'Confirm your subscription',
          confirmUrl: this.subscribers.confirmUrl(s.id, row.token_at!),
          expiresIn,
        });
        break;
      }
      case 'welcome': {
        if (s.status !== 'active') return null;
        subject = `Welcome to ${site.title}`;
        const unsubscribeUrl = this.subscribers.unsubscribeUrl(s.id);
        // The latest issue itself comes as its own email (delivery's catch-up send); this one links it, or the
        // archive while no issue has gone out yet.
        const latest = await this.subscribers.latestIssue();
        rendered = await this.templates.render('welcome', {
          ...base,
          email: s.email,
          title: subject,
          preview: 'Your subscription is confirmed.',
          masthead: 'Welcome',
          latest,
          archiveUrl: `${site.url}/issues`,
          preferencesUrl: this.subscribers.preferencesUrl(s.id),
          unsubscribeUrl,
        });
        headers['List-Unsubscribe'] = `<${unsubscribeUrl}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
        return { from: this.config.email.from, to: s.email, subject, html: rendered.html, text: rendered.text, headers };
      }
      case 'change-email': {
        if (
          !s.pending_email ||
          s.pending_email.toLowerCase() !== row.to_email.toLowerCase() ||
          s.pending_email_requested_at?.getTime() !== row.token_at?.getTime()
        )
          return null;
        const [blocked] = await this.dataSource.query(`SELECT 1 FROM subscribers WHERE lower(email) = lower($1) AND status = 'suppressed'`, [row.to_email]);
        if (blocked) return null;
        subject = `Confirm your new address for ${site.title}`;
        rendered = await this.templates.render('change-email', {
          ...base,
          title: subject,
          preview: 'One click to move your subscription here.',
          masthead: 'Confirm your new address',
          confirmUrl: this.subscribers.changeEmailUrl(s.id, row.token_at!),
          expiresIn,
        });
        break;
      }
      default:
        throw new Error(`unknown email kind ${String(row.kind)}`);
    }
    return { from: this.config.email.from, to: row.to_email, subject, html: rendered.html, text: rendered.text, headers };
  }
}
