import Bottleneck from 'bottleneck';
import { Resend } from 'resend';
import { EmailSender, type BatchOutcome, type OutgoingEmail } from './email-sender.port';

/** Parses Resend's `retry-after` (seconds) or `ratelimit-reset` (seconds) into milliseconds. */
export function retryDelayMs(headers: Record<string, string> | null, fallbackMs: number): number {
  const value = headers?.['retry-after'] ?? headers?.['ratelimit-reset'];
  const seconds = value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : fallbackMs;
}

/**
 * Resend's batch endpoint: up to 100 messages a request, an `Idempotency-Key` per batch (kept 24 h by Resend),
 * requests spaced to the configured rate (Bottleneck) because the SDK neither throttles nor retries. 429 and
 * 5xx come back as `retry` with the provider's delay; other 4xx fail the batch with the provider's message.
 */
export class ResendEmailSender extends EmailSender {
  readonly maxBatchSize = 100;
  readonly name = 'resend';
  private readonly client: Resend;
  private readonly limiter: Bottleneck;

  constructor(options: { apiKey: string; baseUrl?: string; ratePerSecond: number }) {
    super();
    this.client = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : undefined);
    this.limiter = new Bottleneck({ maxConcurrent: 1, minTime: Math.ceil(1000 / options.ratePerSecond) });
  }

  async sendBatch(emails: OutgoingEmail[], { idempotencyKey }: { idempotencyKey: string }): Promise<BatchOutcome> {
    if (emails.length > this.maxBatchSize) {
      return { kind: 'failed', error: `batch of ${emails.length} exceeds Resend's limit of ${this.maxBatchSize}` };
    }
    const payload = emails.map((e) => ({
      from: e.from,
      to: [e.to],
      subject: e.subject,
      html: e.html,
      text: e.text,
      headers: e.headers,
      tags: e.tags,
    }));
    let response: Awaited<ReturnType<Resend['batch']['send']>>;
    try {
      response = await this.limiter.schedule(() =>
        this.client.batch.send(payload, { idempotencyKey, batchValidation: 'permissive' }),
      );
    } catch (error) {
      // Network failure: the request may or may not have reached Resend; the idempotency key makes a retry safe.
      return { kind: 'retry', retryAfterMs: 2_000, error: `network error: ${(error as Error).message}`, mayHaveSent: true };
    }
    const { data, error, headers } = response;
    if (error) {
      const status = error.statusCode ?? 0;
      const message = `${error.name} (${status || 'no status'}): ${error.message}`;
      if (status === 429) return { kind: 'retry', retryAfterMs: retryDelayMs(headers, 2_000), error: message, mayHaveSent: false };
      if (status >= 500 || status === 0) return { kind: 'retry', retryAfterMs: retryDelayMs(headers, 2_000), error: message, mayHaveSent: true };
      // 409 concurrent_idempotent_requests: the same batch is still being processed; ask again later.
      if (status === 409 && error.name === 'concurrent_idempotent_requests') {
        return { kind: 'retry', retryAfterMs: retryDelayMs(headers, 1_000), error: message, mayHaveSent: true };
      }
      return { kind: 'failed', error: message };
    }
    const rejected = new Map<number, string>();
    for (const problem of (data as { errors?: Array<{ index: number; message: string }> }).errors ?? []) {
      rejected.set(problem.index, problem.message);
    }
    // In permissive mode `data` lists ids for accepted messages only, in their original order.
    const ids = [...data.data];
    const messages = emails.map((_, index) => {
      const reason = rejected.get(index);
      if (reason !== undefined) return { status: 'rejected' as const, error: reason };
      const id = ids.shift();
      return id ? { status: 'accepted' as const, messageId: id.id } : { status: 'rejected' as const, error: 'no id returned' };
    });
    return { kind: 'accepted', messages };
  }
}
