import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { EmailSender, type OutgoingEmail } from '../kernel/email/email-sender.port';
import { EmailTemplates } from '../kernel/templates/email-templates';
import { IssuesService } from '../issues/issues.service';
import { SubscribersService } from '../subscribers/subscribers.service';
import { BatchStatus, RecipientStatus, SendStatus, type DeliveryBatch, type Send } from './delivery.entities';
import { DeliveryRepository, type FrozenRecipient } from './delivery.repository';
import { personalise, renderDigest } from './digest-renderer';

/** Resend keeps idempotency keys for 24 hours; past that a batch of unknown outcome must not be re-sent. */
const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
const LEASE_MS = 120_000;

/** Where an issue's delivery stands, over all its sends: accepted + failed + suppressed + skipped + held + pending = audience. */
export interface IssueDeliveryStatus {
  sends: number;
  audience: number;
  accepted: number;
  failed: number;
  suppressed: number;
  skipped: number;
  held: number;
  pending: number;
}

export interface DeliveryRunSummary {
  sendsStarted: number;
  batchesSent: number;
  batchesRetried: number;
  batchesFailed: number;
  batchesHeld: number;
}

@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly issues: IssuesService,
    private readonly subscribers: SubscribersService,
    private readonly sender: EmailSender,
    private readonly templates: EmailTemplates,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Starts a send for every approved issue that has none and closes the books of sends whose recipients are all
   * final (also after a crash between the last batch and the bookkeeping), then submits due batches until the
   * provider asks us to wait.
   */
  async issueStatus(issueId: string): Promise<IssueDeliveryStatus> {
    const { sends, counts } = await this.repo.issueCounts(issueId);
    const figures = { accepted: 0, failed: 0, suppressed: 0, skipped: 0, held: 0, pending: 0 };
    for (const key of Object.keys(figures) as Array<keyof typeof figures>) figures[key] = counts[key] ?? 0;
    return { sends, audience: Object.values(figures).reduce((a, b) => a + b, 0), ...figures };
  }

  async run(options: { maxBatches?: number } = {}): Promise<DeliveryRunSummary> {
    const summary: DeliveryRunSummary = { sendsStarted: 0, batchesSent: 0, batchesRetried: 0, batchesFailed: 0, batchesHeld: 0 };
    for (const issue of await this.issues.readyToSend()) {
      const existing = await this.repo.getSendByIssue(issue.id);
      if (!existing) {
        if (await this.startSend(issue.id)) summary.sendsStarted++;
      } else if (existing.status === SendStatus.Sent) {
        await this.issues.markSent(issue.id);
      } else if (existing.status === SendStatus.Sending) {
        await this.finishIfComplete(existing.id, issue.id);
      }
    }
    for (let i = 0; i < (options.maxBatches ?? 10_000); i++) {
      const outcome = await this.processNextBatch();
      if (outcome === 'idle') break;
      summary[outcome]++;
      // A rate limit or outage applies to the whole account, not to one batch: wait for the next run.
      if (outcome === 'batchesRetried') break;
    }
    return summary;
  }

  /**
   * Renders the digest once and freezes the audience: one recipient row per active subscriber, those whose
   * beat preferences exclude every beat of the issue marked skipped. Returns null if a send already exists.
   */
  async startSend(issueId: string): Promise<Send | null> {
    if (await this.repo.getSendByIssue(issueId)) return null;
    const issue = await this.issues.getView(issueId);
    const digest = await renderDigest(issue, this.templates, this.config);
    const issueBeats = new Set(issue.stories.map((s) => s.beat.slug));
    const recipients: FrozenRecipient[] = [];
    for (let after: string | null = null; ; ) {
      const page = await this.subscribers.getActiveAfter(after, 1_000);
      if (page.length === 0) break;
      for (const s of page) {
        const wanted = !s.beatSlugs || s.beatSlugs.some((b) => issueBeats.has(b));
        recipients.push({ subscriberId: s.id, email: s.email, status: wanted ? RecipientStatus.Pending : RecipientStatus.Skipped });
      }
      after = page[page.length - 1].id;
    }
    const send = await this.repo.createSend({
      issueId, provider: this.sender.name, subject: digest.subject, html: digest.html, text: digest.text, recipients,
      batchSize: Math.min(this.config.email.batchSize, this.sender.maxBatchSize), now: this.clock.now(),
    });
    if (send) {
      this.logger.log(`issue ${issue.number}: send started to ${recipients.length} recipients via ${this.sender.name}`);
      await this.finishIfComplete(send.id, issueId);
    }
    return send;
  }

  /** Submits one due batch. Never throws for provider trouble: it is recorded on the batch. */
  async processNextBatch(): Promise<'idle' | 'batchesSent' | 'batchesRetried' | 'batchesFailed' | 'batchesHeld'> {
    const now = this.clock.now();
    const batch = await this.repo.claimDueBatch(now, LEASE_MS);
    if (!batch) return 'idle';
    const send = (await this.repo.getSend(batch.sendId))!;
    if (batch.firstAttemptAt && now.getTime() - batch.firstAttemptAt.getTime() > IDEMPOTENCY_WINDOW_MS) {
      await this.repo.holdBatch(batch, 'outcome unknown and past the 24-hour idempotency window: an editor must decide whether to resend');
      return 'batchesHeld';
    }
    const pending = (await this.repo.batchRecipients(batch.id)).filter((r) => r.status === RecipientStatus.Pending);
    // Whoever unsubscribed since the send started is suppressed, not mailed. Only on a batch's first attempt: a
    // resend must carry exactly the same payload, or Resend refuses the idempotency key (409) and the outcome of
    // the first attempt stays unknown.
    const active = batch.attempts === 1 ? await this.subscribers.activeIds(pending.map((r) => r.subscriberId)) : new Set(pending.map((r) => r.subscriberId));
    const suppressed = pending.filter((r) => !active.has(r.subscriberId)).map((r) => ({ recipientId: r.id, status: RecipientStatus.Suppressed as const, messageId: null, error: 'unsubscribed before delivery' }));
    const recipients = pending.filter((r) => active.has(r.subscriberId));
    const emails: OutgoingEmail[] = recipients.map((r) => {
      const unsubscribeUrl = this.subscribers.unsubscribeUrl(r.subscriberId);
      const body = personalise(send, unsubscribeUrl);
      return {
        from: this.config.email.from,
        to: r.email,
        subject: send.subject,
        html: body.html,
        text: body.text,
        headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        tags: [{ name: 'send', value: send.id }],
      };
    });
    const outcome = emails.length ? await this.sender.sendBatch(emails, { idempotencyKey: batch.idempotencyKey }) : { kind: 'accepted' as const, messages: [] };
    switch (outcome.kind) {
      case 'accepted': {
        const results = recipients.map((r, i) => {
          const m = outcome.messages[i] ?? { status: 'rejected' as const, error: 'provider returned no result' };
          return m.status === 'accepted'
            ? { recipientId: r.id, status: RecipientStatus.Accepted as const, messageId: m.messageId, error: null }
            : { recipientId: r.id, status: RecipientStatus.Failed as const, messageId: null, error: m.error };
        });
        await this.repo.completeBatch(batch, [...suppressed, ...results], BatchStatus.Sent, null);
        await this.finishIfComplete(send.id, send.issueId);
        return 'batchesSent';
      }
      case 'retry': {
        if (batch.attempts >= this.config.email.maxAttempts) {
          const error = `gave up after ${batch.attempts} attempts: ${outcome.error}`;
          if (outcome.mayHaveSent) {
            // The provider may have sent it: never mark it failed (or resend it) without an editor.
            await this.repo.holdBatch(batch, `${error} (the provider may have accepted it: an editor must check before resending)`);
            return 'batchesHeld';
          }
          await this.failBatch(batch, [...suppressed.map((s) => s.recipientId), ...recipients.map((r) => r.id)], error);
          await this.finishIfComplete(send.id, send.issueId);
          return 'batchesFailed';
        }
        const delay = Math.max(outcome.retryAfterMs, backoffMs(batch.attempts));
        this.logger.warn(`batch ${batch.number} of send ${send.id}: ${outcome.error}; retrying in ${Math.round(delay / 1000)} s`);
        await this.repo.rescheduleBatch(batch, new Date(now.getTime() + delay), outcome.error);
        // Rate limits and outages are the account's: every other pending batch waits for retry-after too.
        await this.repo.deferPendingBatches(new Date(now.getTime() + outcome.retryAfterMs));
        return 'batchesRetried';
      }
      case 'failed':
        await this.failBatch(batch, recipients.map((r) => r.id), outcome.error, suppressed);
        await this.finishIfComplete(send.id, send.issueId);
        return 'batchesFailed';
    }
  }

  private async failBatch(batch: DeliveryBatch, recipientIds: string[], error: string, suppressed: SuppressedResult[] = []): Promise<void> {
    this.logger.error(`batch ${batch.number} of send ${batch.sendId} failed: ${error}`);
    const failed = recipientIds.map((recipientId) => ({ recipientId, status: RecipientStatus.Failed as const, messageId: null, error }));
    await this.repo.completeBatch(batch, [...suppressed, ...failed], BatchStatus.Failed, error);
  }

  private async finishIfComplete(sendId: string, issueId: string): Promise<void> {
    if (await this.repo.finishIfComplete(sendId, this.clock.now())) {
      await this.issues.markSent(issueId);
      const send = await this.repo.getSend(sendId);
      this.logger.log(`send ${sendId} done: ${send?.accepted} accepted, ${send?.failed} failed, ${send?.skipped} skipped, ${send?.suppressed} suppressed of ${send?.audience}`);
    }
  }

  getSendForIssue(issueId: string) {
    return this.repo.getSendByIssue(issueId);
  }

  recipientsOf(sendId: string) {
    return this.repo.recipientsOf(sendId);
  }

  batchesOf(sendId: string) {
    return this.repo.batchesOf(sendId);
  }
}

type SuppressedResult = { recipientId: string; status: RecipientStatus.Suppressed; messageId: null; error: string };

/** Exponential backoff with full jitter: 2 s, 4 s, 8 s … capped at 10 minutes. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(600_000, 2_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
