import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { EmailSender } from '../kernel/email/email-sender.port';
import { ConflictError, NotFoundError, ValidationError } from '../kernel/errors/domain-error';
import { IssuesService } from '../issues/issues.service';
import { SubscribersService } from '../subscribers/subscribers.service';
import { DeliveryEngine, type DeliveryRunSummary } from './delivery-engine';
import { SendKind, SendStatus, type BatchStatus, type RecipientStatus, type DeliveryBatch, type Recipient, type Send } from './delivery.entities';
import { DeliveryRepository } from './delivery.repository';

export type { DeliveryRunSummary } from './delivery-engine';

export class SendNotFoundError extends NotFoundError {
  override readonly code: string = 'send_not_found';
}
export class SendStateError extends ConflictError {
  override readonly code: string = 'send_state';
}

/**
 * An issue's delivery figures, counted over all of its sends (test sends excluded), so that
 * accepted + failed + suppressed + skipped + held + pending = audience.
 */
export interface IssueDeliveryStatus {
  issue: number;
  /** The latest send's status, or the issue's own status when it was never sent. */
  status: string;
  audience: number;
  accepted: number;
  failed: number;
  suppressed: number;
  skipped: number;
  held: number;
  pending: number;
  /** Recipients released by a cancel before anything was sent to them (not in `audience`). */
  cancelled: number;
  sends: Array<{
    number: number;
    status: SendStatus;
    audience: number;
    scheduledAt: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    pauseReason: string | null;
    resumeAt: string | null;
  }>;
  /** Batches waiting for an editor (`issues release`). */
  heldBatches: Array<{ id: string; send: number; number: number; recipients: number; lastError: string | null }>;
  /** Webhook figures: recipients with at least one such event. */
  events: { delivered: number; bounced: number; complained: number; opened: number; clicked: number; delayed: number; failed: number; suppressed: number };
}

export interface SendView {
  id: string;
  issueId: string;
  kind: SendKind;
  number: number;
  status: SendStatus;
  audience: number;
  accepted: number;
  failed: number;
  suppressed: number;
  skipped: number;
  held: number;
  scheduledAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  pauseReason: string | null;
}

/** One batch of a send, as editors and tools see it (no lease token, no payload hash). */
export interface BatchView {
  id: string;
  number: number;
  status: BatchStatus;
  idempotencyKey: string;
  attempts: number;
  /** A request under this key may have reached the provider (its payload is fixed). */
  keyUsed: boolean;
  nextAttemptAt: Date;
  firstAttemptAt: Date | null;
  lastError: string | null;
  releaseNote: string | null;
}

/** One recipient of a send (its unsubscribe link is not shown). */
export interface RecipientView {
  id: string;
  subscriberId: string | null;
  email: string;
  batchNumber: number | null;
  status: RecipientStatus;
  providerMessageId: string | null;
  error: string | null;
}

function view(send: Send): SendView {
  const { id, issueId, kind, number, status, audience, accepted, failed, suppressed, skipped, held, scheduledAt, startedAt, finishedAt, pauseReason } = send;
  return { id, issueId, kind, number, status, audience, accepted, failed, suppressed, skipped, held, scheduledAt, startedAt, finishedAt, pauseReason };
}

function batchView(b: DeliveryBatch): BatchView {
  const { id, number, status, idempotencyKey, attempts, keyUsed, nextAttemptAt, firstAttemptAt, lastError, releaseNote } = b;
  return { id, number, status, idempotencyKey, attempts, keyUsed, nextAttemptAt, firstAttemptAt, lastError, releaseNote };
}

function recipientView(r: Recipient): RecipientView {
  const { id, subscriberId, email, batchNumber, status, providerMessageId, error } = r;
  return { id, subscriberId, email, batchNumber, status, providerMessageId, error };
}

/** Delivery's use cases for editors, the CLI and the scheduler. The sending itself is DeliveryEngine's. */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly engine: DeliveryEngine,
    private readonly issues: IssuesService,
    private readonly subscribers: SubscribersService,
    private readonly sender: EmailSender,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One delivery pass (what the scheduler and `run deliver` call): see DeliveryEngine.run. */
  run(): Promise<DeliveryRunSummary> {
    return this.engine.run();
  }

  /**
   * Queues a send of an approved (or already sent) issue, now or at `at`; the audience is frozen when it starts.
   * On an issue that was sent before, it goes only to active subscribers who have no copy yet.
   */
  async send(issueNumber: number, options: { at?: Date } = {}): Promise<SendView> {
    const issue = await this.issues.getByNumber(issueNumber);
    if (issue.status !== 'approved' && issue.status !== 'sent') throw new SendStateError(`issue ${issueNumber} is ${issue.status}: approve it first`);
    if (options.at && Number.isNaN(options.at.getTime())) throw new ValidationError('the time to send is not a valid date');
    const send = await this.repo.queueSend({ issueId: issue.id, kind: SendKind.Issue, provider: this.sender.name, at: options.at ?? this.clock.now() });
    if (!send) throw new SendStateError(`issue ${issueNumber} already has a send in progress (see issues status ${issueNumber})`);
    if (!options.at || options.at <= this.clock.now()) await this.engine.freeze(send.id);
    return view((await this.repo.getSend(send.id))!);
  }

  /** Freezes (now) an issue's send that was queued: for callers that start sends themselves (tests, tools). */
  async startSend(issueId: string): Promise<SendView | null> {
    const queued = await this.repo.queueSend({ issueId, kind: SendKind.Issue, provider: this.sender.name, at: this.clock.now() });
    if (!queued) return null;
    await this.engine.freeze(queued.id);
    return view((await this.repo.getSend(queued.id))!);
  }

  private async liveSend(issueNumber: number): Promise<Send> {
    const issue = await this.issues.getByNumber(issueNumber);
    const send = await this.repo.latestIssueSend(issue.id);
    if (!send) throw new SendNotFoundError(`issue ${issueNumber} has never been sent`);
    return send;
  }

  /** Stops claiming the send's batches (those in flight finish). Never re-sends anything. */
  async pause(issueNumber: number): Promise<SendView> {
    const send = await this.liveSend(issueNumber);
    if (!(await this.repo.setSendStatus(send.id, [SendStatus.Sending, SendStatus.Scheduled], SendStatus.Paused, { pauseReason: 'paused by an editor' }))) {
      throw new SendStateError(`issue ${issueNumber}'s send is ${send.status}: only a scheduled or sending send can be paused`);
    }
    return view((await this.repo.getSend(send.id))!);
  }

  /** Resumes a paused send where it stopped (a quota pause too, if the editor knows the quota was raised). */
  async resume(issueNumber: number): Promise<SendView> {
    const send = await this.liveSend(issueNumber);
    const to = send.startedAt ? SendStatus.Sending : SendStatus.Scheduled;
    if (!(await this.repo.setSendStatus(send.id, [SendStatus.Paused], to)))
      throw new SendStateError(`issue ${issueNumber}'s send is ${send.status}, not paused`);
    await this.engine.finish(send.id);
    return view((await this.repo.getSend(send.id))!);
  }

  /** Cancels the live send: recipients nobody has tried are released; nothing is re-sent. */
  async cancel(issueNumber: number): Promise<SendView & { released: number }> {
    const send = await this.liveSend(issueNumber);
    const result = await this.repo.cancel(send.id);
    if (!result) throw new SendStateError(`issue ${issueNumber}'s send is ${send.status}: nothing to cancel`);
    return { ...view((await this.repo.getSend(send.id))!), released: result.released };
  }

  /** Puts the failed recipients of the issue's latest send back in the queue (new batches, new keys). */
  async retryFailed(issueNumber: number): Promise<{ recipients: number }> {
    const send = await this.liveSend(issueNumber);
    if (send.status === SendStatus.Cancelled) throw new SendStateError(`issue ${issueNumber}'s send was cancelled`);
    const recipients = await this.repo.retryFailed(send, Math.min(this.config.email.batchSize, this.sender.maxBatchSize), this.clock.now());
    return { recipients };
  }

  /**
   * An editor's decision on a held batch: `resend` under a new idempotency key (the provider may deliver twice if
   * it had the first), `accepted` (they checked: it went out), or `failed`. The reason is recorded.
   */
  async releaseHeld(input: { batchId: string; action: 'resend' | 'accepted' | 'failed'; reason: string }): Promise<{ recipients: number }> {
    if (!['resend', 'accepted', 'failed'].includes(input.action)) throw new ValidationError('action must be resend, accepted or failed');
    if (!input.reason?.trim()) throw new ValidationError('a reason is required to release a held batch');
    const result = await this.repo.release(input.batchId, input.action, input.reason.trim().slice(0, 500));
    if (!result) throw new SendStateError(`batch ${input.batchId} is not held`);
    await this.engine.finish(result.sendId);
    this.logger.warn(`held batch ${input.batchId} released (${input.action}): ${input.reason}`);
    return { recipients: result.recipients };
  }

  /** Sends the issue's digest to the given addresses at once, marked as a test and kept out of every statistic. */
  async testSend(issueNumber: number, addresses: string[]): Promise<SendView> {
    if (addresses.length === 0 || addresses.length > 50) throw new ValidationError('give 1 to 50 addresses for a test send');
    const emails = addresses.map((a) => this.subscribers.normaliseEmail(a));
    return view(await this.engine.sendTest((await this.issues.getByNumber(issueNumber)).id, emails));
  }

  /** The figures of `issues status N`, summed over the issue's sends (tests excluded). */
  /** An issue's digest as subscribers would get it, before personalisation (the editors' preview). */
  async previewDigest(issueNumber: number): Promise<{ subject: string; preheader: string; html: string; text: string }> {
    const { subject, preheader, html, text } = await this.engine.render(await this.issues.getByNumber(issueNumber));
    return { subject, preheader, html, text };
  }

  async issueStatus(issueNumber: number): Promise<IssueDeliveryStatus> {
    const issue = await this.issues.getByNumber(issueNumber);
    const [totals, sends, events, heldBatches] = [
      await this.repo.issueTotals(issue.id),
      await this.repo.issueSends(issue.id),
      await this.repo.eventCounts(issue.id),
      await this.repo.heldBatches(issue.id),
    ];
    const latest = sends[sends.length - 1];
    const pending = totals.audience - totals.accepted - totals.failed - totals.suppressed - totals.skipped - totals.held;
    return {
      issue: issue.number,
      status: latest?.status ?? issue.status,
      audience: totals.audience,
      accepted: totals.accepted,
      failed: totals.failed,
      suppressed: totals.suppressed,
      skipped: totals.skipped,
      held: totals.held,
      pending,
      cancelled: totals.cancelled,
      sends: sends.map((s) => ({
        number: s.number,
        status: s.status,
        audience: s.audience,
        scheduledAt: s.scheduledAt?.toISOString() ?? null,
        startedAt: s.startedAt?.toISOString() ?? null,
        finishedAt: s.finishedAt?.toISOString() ?? null,
        pauseReason: s.pauseReason,
        resumeAt: s.resumeAt?.toISOString() ?? null,
      })),
      heldBatches,
      events: {
        delivered: events['email.delivered'] ?? 0,
        bounced: events['email.bounced'] ?? 0,
        complained: events['email.complained'] ?? 0,
        opened: events['email.opened'] ?? 0,
        clicked: events['email.clicked'] ?? 0,
        delayed: events['email.delivery_delayed'] ?? 0,
        failed: events['email.failed'] ?? 0,
        suppressed: events['email.suppressed'] ?? 0,
      },
    };
  }

  /** Live figures of one send: its counters and recipients made final per minute. */
  async sendStats(sendId: string): Promise<{ send: SendView; queued: number; perMinute: Array<{ minute: Date; accepted: number; failed: number }> }> {
    const send = await this.repo.getSend(sendId);
    if (!send) throw new SendNotFoundError(`send ${sendId} does not exist`);
    const queued = send.audience - send.accepted - send.failed - send.suppressed - send.skipped - send.held;
    return { send: view(send), queued, perMinute: await this.repo.perMinute(sendId, 60) };
  }

  /** The issue's latest send (not a test). */
  async getSendForIssue(issueId: string): Promise<SendView | null> {
    const send = await this.repo.latestIssueSend(issueId);
    return send ? view(send) : null;
  }

  async recipientsOf(sendId: string): Promise<RecipientView[]> {
    return (await this.repo.recipientsOf(sendId)).map(recipientView);
  }

  async batchesOf(sendId: string): Promise<BatchView[]> {
    return (await this.repo.batchesOf(sendId)).map(batchView);
  }
}
