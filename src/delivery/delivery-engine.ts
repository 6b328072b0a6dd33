import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { EmailSender, type OutgoingEmail } from '../kernel/email/email-sender.port';
import { EmailTemplates } from '../kernel/templates/email-templates';
import { IssuesService } from '../issues/issues.service';
import { SubscribersService } from '../subscribers/subscribers.service';
import { BatchStatus, RecipientStatus, SendKind, SendStatus, type Send } from './delivery.entities';
import { DeliveryRepository, type ClaimedBatch, type Member, type RecipientResult } from './delivery.repository';
import { digestTemplate, personalise, personaliseHtml, personaliseText, recipientLinks, renderDigest, type DigestTemplate } from './digest-renderer';
import { RateLimiter, sleep } from './rate-limiter';

/** Resend keeps idempotency keys for 24 hours; a used key older than this (with margin) is never relied on. */
const IDEMPOTENCY_WINDOW_MS = 23 * 3_600_000;

export interface DeliveryRunSummary {
  sendsStarted: number;
  batchesSent: number;
  batchesRetried: number;
  batchesFailed: number;
  batchesHeld: number;
  /** Batches whose processing met an unexpected error (a database outage): left to their lease, logged. */
  errors: number;
}

type Outcome = 'batchesSent' | 'batchesRetried' | 'batchesFailed' | 'batchesHeld' | 'lost';

/** What every message of a send shares, frozen when the send started. */
export interface SendContent {
  id: string;
  issueId: string;
  subject: string;
  html: string;
  text: string;
  from: string;
  /** Hash of the frozen content; with each recipient's address and link it fixes a batch's payload. */
  hash: string;
  /** `html` and `text` cut at their per-recipient links, once per send. */
  template: DigestTemplate;
}

/**
 * A batch's messages: the send's frozen content with each recipient's stored link spliced in. A function of the
 * content and the members only, so a retry rebuilds the identical payload (and the benchmark's raw rate posts the
 * same bytes). `html` and `text` are spliced from the send's template each time they are read, so a message holds
 * only its links: a sender that serialises the batch (Resend's SDK) builds each full copy while it writes it, and
 * none outlives the serialisation (see the Resend adapter).
 */
export function batchEmails(content: SendContent, members: Array<{ subscriberId: string | null; email: string; unsubscribeUrl: string }>): OutgoingEmail[] {
  return members.map((m) => {
    const links = recipientLinks(m.unsubscribeUrl);
    return {
      from: content.from,
      to: m.email,
      subject: content.subject,
      get html() {
        return personaliseHtml(content.template, links);
      },
      get text() {
        return personaliseText(content.template, links);
      },
      headers: { 'List-Unsubscribe': `<${m.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      tags: [{ name: 'send', value: content.id }],
      messageKey: `broadsheet.${content.issueId}.${m.subscriberId}`,
    };
  });
}

/** A send's content as batches use it, with its hash and template. */
export function sendContent(send: Pick<Send, 'id' | 'issueId' | 'subject' | 'html' | 'text' | 'fromAddress'>): SendContent {
  const hash = createHash('sha256')
    .update(JSON.stringify([send.fromAddress, send.subject, send.html, send.text]))
    .digest('base64');
  return {
    id: send.id,
    issueId: send.issueId,
    subject: send.subject,
    html: send.html,
    text: send.text,
    from: send.fromAddress,
    hash,
    template: digestTemplate(send),
  };
}

/**
 * The sending engine. Work is shared per batch, never behind a job-wide lock: every instance claims due batches
 * (SKIP LOCKED, short fenced leases), several at a time within one request budget shared in PostgreSQL. A dead
 * instance costs at most one lease. On shutdown it stops claiming and waits for the batches in flight.
 */
@Injectable()
export class DeliveryEngine implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Delivery');
  private stopping = false;
  private claimsRunning = 0;
  private markClaimingStopped!: () => void;
  /**
   * Settles once this instance's shutdown has begun and no claim is running: from then on it claims nothing
   * (batches already claimed still finish and are recorded).
   */
  readonly claimingStopped = new Promise<void>((resolve) => (this.markClaimingStopped = resolve));
  private current: Promise<DeliveryRunSummary> | null = null;
  private readonly contents = new Map<string, SendContent>();

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly issues: IssuesService,
    private readonly subscribers: SubscribersService,
    private readonly sender: EmailSender,
    private readonly limiter: RateLimiter,
    private readonly templates: EmailTemplates,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * One pass: starts sends that are due (scheduled ones, approved issues when sends start on approval), lifts
   * quota pauses that have reset, closes sends a crash left open, then submits every batch due now with
   * `DELIVERY_CONCURRENCY` in flight, and returns when none is due. Runs in this process one at a time: a call
   * while a pass is running joins it.
   */
  run(): Promise<DeliveryRunSummary> {
    if (this.current) return this.current;
    this.current = this.pass().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.claimsRunning === 0) this.markClaimingStopped();
    await this.current?.catch(() => undefined);
  }

  /** Claims one due batch unless the shutdown has begun; `claimingStopped` settles when the last claim returns. */
  private async claimOne(): Promise<ClaimedBatch | undefined> {
    if (this.stopping) return undefined;
    this.claimsRunning++;
    try {
      const [batch] = await this.repo.claim(this.clock.now(), this.config.email.leaseMs, 1);
      return batch;
    } finally {
      this.claimsRunning--;
      if (this.stopping && this.claimsRunning === 0) this.markClaimingStopped();
    }
  }

  private async pass(): Promise<DeliveryRunSummary> {
    const summary: DeliveryRunSummary = { sendsStarted: 0, batchesSent: 0, batchesRetried: 0, batchesFailed: 0, batchesHeld: 0, errors: 0 };
    if (this.stopping) return summary;
    summary.sendsStarted = await this.startDueSends();
    for (const id of await this.repo.openSendIds()) await this.finish(id);
    const worker = async () => {
      while (!this.stopping) {
        const batch = await this.claimOne();
        if (!batch) return;
        try {
          const outcome = await this.process(batch);
          if (outcome !== 'lost') summary[outcome]++;
        } catch (error) {
          // Nothing is lost: the batch keeps its lease, and when it expires it is claimed again with the same key
          // and the payload stored before the request. This worker stops for this pass.
          summary.errors++;
          this.logger.error(`batch ${batch.number} of send ${batch.sendId}: ${(error as Error).message}`);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: this.config.email.concurrency }, worker));
    return summary;
  }

  private async startDueSends(): Promise<number> {
    const now = this.clock.now();
    if (this.config.email.sendOnApprove) {
      const approved = await this.issues.readyToSend();
      const withSends = await this.repo.issuesWithSends(approved.map((i) => i.id));
      for (const issue of approved) {
        if (!withSends.has(issue.id)) await this.repo.queueSend({ issueId: issue.id, kind: SendKind.Issue, provider: this.sender.name, at: now });
      }
    }
    const { toStart, toResume } = await this.repo.dueSends(now);
    for (const id of toResume) {
      if (await this.repo.setSendStatus(id, [SendStatus.Paused], SendStatus.Sending)) this.logger.log(`send ${id}: quota reset, resuming`);
    }
    let started = 0;
    for (const id of toStart) if (await this.freeze(id)) started++;
    return started;
  }

  /** The issue's digest as rendered for a send, before personalisation (the editors' preview). */
  render(issue: Parameters<typeof renderDigest>[0]): ReturnType<typeof renderDigest> {
    return renderDigest(issue, this.templates, this.config);
  }

  /**
   * Sends the issue's digest to `emails` at once in one request (within the rate budget), recorded as a test send
   * and kept out of every figure; its unsubscribe link is a placeholder.
   */
  async sendTest(issueId: string, emails: string[]): Promise<Send> {
    const issue = await this.issues.getView(issueId);
    const digest = await this.render(issue);
    const link = `${this.config.server.publicUrl}/unsubscribe?test=1`;
    const body = personalise(digest, link);
    const subject = `[Test] ${digest.subject}`;
    const slot = await this.limiter.acquire(this.sender.name);
    if (slot && slot.waitMs > 0) await sleep(slot.waitMs);
    await slot?.start();
    const outcome = await this.sender.sendBatch(
      emails.map((to) => ({
        from: this.config.email.from,
        to,
        subject,
        html: body.html,
        text: body.text,
        headers: { 'List-Unsubscribe': `<${link}>`, 'X-Broadsheet-Test': 'true' },
        tags: [{ name: 'test', value: 'true' }],
      })),
      { idempotencyKey: `broadsheet-test-${issue.id}-${randomUUID()}`, timeoutMs: this.config.email.requestTimeoutMs },
    );
    const results = emails.map((email, i) => {
      if (outcome.kind !== 'accepted') return { email, status: RecipientStatus.Failed, messageId: null, error: outcome.error };
      const m = outcome.messages[i];
      return m?.status === 'accepted'
        ? { email, status: RecipientStatus.Accepted, messageId: m.messageId, error: null }
        : { email, status: RecipientStatus.Failed, messageId: null, error: m?.error ?? 'no result' };
    });
    return this.repo.recordTestSend({
      issueId: issue.id,
      provider: this.sender.name,
      subject,
      html: digest.html,
      text: digest.text,
      from: this.config.email.from,
      results,
      now: this.clock.now(),
    });
  }

  /** Renders the digest once and freezes the send's audience and batches (see DeliveryRepository.freeze). */
  async freeze(sendId: string): Promise<boolean> {
    const send = await this.repo.getSend(sendId);
    if (!send || send.status !== SendStatus.Scheduled) return false;
    const issue = await this.issues.getView(send.issueId);
    const digest = await renderDigest(issue, this.templates, this.config);
    const frozen = await this.repo.freeze({
      sendId,
      issueId: send.issueId,
      sendNumber: send.number,
      subject: digest.subject,
      html: digest.html,
      text: digest.text,
      from: this.config.email.from,
      issueBeats: [...new Set(issue.stories.map((s) => s.beat.slug))],
      audienceSql: this.subscribers.audienceSql(),
      batchSize: Math.min(this.config.email.batchSize, this.sender.maxBatchSize),
      now: this.clock.now(),
    });
    if (frozen) {
      const after = (await this.repo.getSend(sendId))!;
      this.logger.log(`issue ${issue.number}: send ${after.number} started to ${after.audience} recipients via ${after.provider}`);
      await this.finish(sendId);
    }
    return frozen;
  }

  private async content(sendId: string): Promise<SendContent> {
    let content = this.contents.get(sendId);
    if (!content) {
      content = sendContent((await this.repo.getSend(sendId)) as Send);
      if (this.contents.size > 20) this.contents.clear();
      this.contents.set(sendId, content);
    }
    return content;
  }

  /** The payload's fingerprint: the send's frozen content, the key, and each recipient's address and link. */
  private payloadHash(content: SendContent, key: string, members: Array<{ email: string; unsubscribeUrl: string }>): string {
    return createHash('sha256')
      .update(content.hash)
      .update(key)
      .update(JSON.stringify(members.map((m) => [m.email, m.unsubscribeUrl])))
      .digest('base64');
  }

  /** Submits one claimed batch. Never throws for provider trouble: it is recorded on the batch. */
  async process(batch: ClaimedBatch): Promise<Outcome> {
    const now = this.clock.now();
    const content = await this.content(batch.sendId);
    if (batch.keyUsed && batch.firstAttemptAt && now.getTime() - batch.firstAttemptAt.getTime() > IDEMPOTENCY_WINDOW_MS) {
      return this.hold(batch, 'outcome unknown and past the 24-hour idempotency window: an editor must decide whether to resend');
    }
    let members = await this.repo.members(batch.sendId, batch.number);
    let ready: Array<Member & { unsubscribeUrl: string }>;
    if (!batch.keyUsed) {
      // No request under this key can have reached the provider: fix the payload now, before the first one.
      // Whoever left since the send started is suppressed, and that is saved with the links of the others.
      const active = await this.subscribers.activeIds(members.filter((m) => m.subscriberId).map((m) => m.subscriberId!));
      const leavers = members.filter((m) => !m.subscriberId || !active.has(m.subscriberId));
      members = members.filter((m) => m.subscriberId && active.has(m.subscriberId));
      ready = members.map((m) => ({ ...m, unsubscribeUrl: this.subscribers.unsubscribeUrl(m.subscriberId!) }));
      const prepared = await this.repo.prepare(batch, {
        suppress: leavers.map((m) => m.id),
        links: ready.map((m) => ({ id: m.id, url: m.unsubscribeUrl })),
        payloadHash: this.payloadHash(content, batch.idempotencyKey, ready),
        now,
      });
      if (!prepared) return 'lost';
    } else {
      // A request under this key may have reached the provider: rebuild exactly that payload from what was stored
      // (the links on the batch; a batch prepared before they were stored there has them on its recipients' rows).
      const stored = members.map((m) => ({ ...m, unsubscribeUrl: batch.links?.[m.id] ?? m.unsubscribeUrl }));
      if (stored.some((m) => !m.unsubscribeUrl))
        return this.hold(batch, 'outcome unknown: this batch was attempted before its payload was stored, so it cannot be rebuilt identically');
      ready = stored as Array<Member & { unsubscribeUrl: string }>;
      if (this.payloadHash(content, batch.idempotencyKey, ready) !== batch.payloadHash) {
        return this.hold(batch, 'outcome unknown: the rebuilt payload differs from the one first sent under this key');
      }
    }
    if (ready.length === 0) {
      await this.repo.complete(batch, [], BatchStatus.Sent, null);
      await this.finish(batch.sendId);
      return 'batchesSent';
    }

    const slot = await this.limiter.acquire(this.sender.name, () => this.stopping);
    if (!slot) {
      await this.repo.reschedule(batch, { at: now, error: 'instance shutting down before the request', countAttempt: false, keyUsed: batch.keyUsed });
      return 'batchesRetried';
    }
    if (slot.waitMs > this.config.email.leaseMs / 3) {
      if (!(await this.repo.extendLease(batch, new Date(this.clock.now().getTime() + slot.waitMs + this.config.email.leaseMs)))) return 'lost';
    }
    // Personalised before the slot's start is stamped: the less work between the stamp and the request, the
    // closer the provider's arrival times follow the stamps.
    const emails = batchEmails(content, ready);
    if (slot.waitMs > 0) await sleep(slot.waitMs);
    await slot.start();
    const outcome = await this.sender.sendBatch(emails, { idempotencyKey: batch.idempotencyKey, timeoutMs: this.config.email.requestTimeoutMs });
    const after = this.clock.now();
    switch (outcome.kind) {
      case 'accepted': {
        const results: RecipientResult[] = ready.map((m, i) => {
          const message = outcome.messages[i] ?? { status: 'rejected' as const, error: 'provider returned no result' };
          return message.status === 'accepted'
            ? { recipientId: m.id, status: RecipientStatus.Accepted, messageId: message.messageId, error: null, unsubscribeUrl: m.unsubscribeUrl }
            : { recipientId: m.id, status: RecipientStatus.Failed, messageId: null, error: message.error, unsubscribeUrl: m.unsubscribeUrl };
        });
        if (!(await this.repo.complete(batch, results, BatchStatus.Sent, null))) return 'lost';
        await this.finish(batch.sendId);
        return 'batchesSent';
      }
      case 'rate-limited':
        // The account's budget, not this batch's fault: everyone waits, and the attempt is given back.
        await this.limiter.pauseAll(this.sender.name, outcome.retryAfterMs);
        await this.repo.reschedule(batch, {
          at: new Date(after.getTime() + outcome.retryAfterMs),
          error: outcome.error,
          countAttempt: false,
          keyUsed: batch.keyUsed,
        });
        return 'batchesRetried';
      case 'quota': {
        await this.repo.reschedule(batch, { at: after, error: outcome.error, countAttempt: false, keyUsed: batch.keyUsed });
        const resumeAt = outcome.resetAt ?? new Date(after.getTime() + 3_600_000);
        if (
          await this.repo.setSendStatus(batch.sendId, [SendStatus.Sending], SendStatus.Paused, { pauseReason: `provider quota: ${outcome.error}`, resumeAt })
        ) {
          this.logger.warn(`send ${batch.sendId} paused until ${resumeAt.toISOString()}: ${outcome.error}`);
        }
        return 'batchesRetried';
      }
      case 'retry': {
        const keyUsed = batch.keyUsed || outcome.mayHaveSent;
        if (batch.attempts >= this.config.email.maxAttempts) {
          const error = `gave up after ${batch.attempts} attempts: ${outcome.error}`;
          if (keyUsed) return this.hold(batch, `${error} (outcome unknown: the provider may have accepted it; an editor must check before resending)`);
          return this.failAll(batch, ready, error);
        }
        const delay = Math.max(outcome.retryAfterMs, backoffMs(batch.attempts));
        this.logger.warn(`batch ${batch.number} of send ${batch.sendId}: ${outcome.error}; retrying in ${Math.round(delay / 1000)} s`);
        await this.repo.reschedule(batch, { at: new Date(after.getTime() + delay), error: outcome.error, countAttempt: true, keyUsed });
        return 'batchesRetried';
      }
      case 'unknown':
        return this.hold(batch, `outcome unknown: ${outcome.error} (an earlier attempt under this key may have been delivered; an editor must decide)`);
      case 'failed':
        if (outcome.account) {
          // Every batch would meet the same refusal: stop the send instead of failing its whole audience.
          await this.repo.reschedule(batch, { at: after, error: outcome.error, countAttempt: false, keyUsed: batch.keyUsed });
          await this.repo.setSendStatus(batch.sendId, [SendStatus.Sending], SendStatus.Paused, {
            pauseReason: `provider refused the account: ${outcome.error}`,
          });
          this.logger.error(`send ${batch.sendId} paused: ${outcome.error}`);
          return 'batchesRetried';
        }
        return this.failAll(batch, ready, outcome.error);
    }
  }

  private async failAll(batch: ClaimedBatch, members: Member[], error: string): Promise<Outcome> {
    this.logger.error(`batch ${batch.number} of send ${batch.sendId} failed: ${error}`);
    const results = members.map((m) => ({
      recipientId: m.id,
      status: RecipientStatus.Failed as const,
      messageId: null,
      error,
      unsubscribeUrl: m.unsubscribeUrl,
    }));
    if (!(await this.repo.complete(batch, results, BatchStatus.Failed, error))) return 'lost';
    await this.finish(batch.sendId);
    return 'batchesFailed';
  }

  private async hold(batch: ClaimedBatch, error: string): Promise<Outcome> {
    this.logger.error(`batch ${batch.number} of send ${batch.sendId} held: ${error}`);
    if (!(await this.repo.hold(batch, error))) return 'lost';
    await this.finish(batch.sendId);
    return 'batchesHeld';
  }

  /** Closes the send when nothing is open; the issue is marked sent when a send of it completes. */
  async finish(sendId: string): Promise<void> {
    const status = await this.repo.finishIfComplete(sendId, this.clock.now());
    if (!status) return;
    const send = (await this.repo.getSend(sendId))!;
    if (status === SendStatus.Sent && send.kind === SendKind.Issue) await this.issues.markSent(send.issueId);
    this.logger.log(
      `send ${sendId} ${status}: ${send.accepted} accepted, ${send.failed} failed, ${send.skipped} skipped, ${send.suppressed} suppressed, ${send.held} held of ${send.audience}`,
    );
  }
}

/** Exponential backoff with full jitter: 2 s, 4 s, 8 s … capped at 10 minutes. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(600_000, 2_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
