import { Resend } from 'resend';
import { EmailSender, type BatchOutcome, type OutgoingEmail, type SendBatchOptions } from './email-sender.port';

/**
 * How long to wait, from Resend's `retry-after` (seconds) and `ratelimit-reset` (seconds until the window resets):
 * the longer of the two, or `fallbackMs` when neither is given.
 */
export function retryDelayMs(headers: Record<string, string> | null, fallbackMs: number): number {
  const values = [headers?.['retry-after'], headers?.['ratelimit-reset']]
    .map((v) => (v === undefined ? NaN : Number(v)))
    .filter((n) => Number.isFinite(n) && n >= 0);
  return values.length ? Math.ceil(Math.max(...values) * 1000) : fallbackMs;
}

/** When a daily (next UTC midnight) or monthly (first of next month, UTC) quota resets. */
export function quotaResetAt(name: string, now: Date): Date {
  if (name === 'monthly_quota_exceeded') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/**
 * A message part the SDK serialises by reading it then. The SDK copies `html` and `text` into the body it passes
 * to `JSON.stringify`, and `JSON.stringify` asks a value for its `toJSON()`: the same JSON string, byte for byte,
 * as the plain string would give. What it spares is memory: a digest spliced for one recipient (~80 kB, twice
 * that in V8's two-byte strings) is built while the body is written and is garbage right after, instead of being
 * held by the SDK's copy of the batch until the answer arrives (one 100-message batch: ~16 MB per request in
 * flight). `JSON.stringify` is still the SDK's, the request still its own `fetch` with its headers.
 */
function readWhenSerialised(read: () => string): string {
  return { toJSON: read } as unknown as string;
}

/**
 * Resend's batch endpoint: up to 100 messages a request, an `Idempotency-Key` per batch (kept 24 h by Resend),
 * permissive validation so one bad address fails only its own message. The SDK neither throttles nor retries and
 * never throws on HTTP errors: every answer is mapped to a `BatchOutcome` here (the request rate is kept by the
 * caller, across instances).
 */
export class ResendEmailSender extends EmailSender {
  readonly maxBatchSize = 100;
  readonly name = 'resend';
  private readonly client: Resend;

  constructor(options: { apiKey: string; baseUrl?: string }) {
    super();
    this.client = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : undefined);
  }

  async sendBatch(emails: OutgoingEmail[], { idempotencyKey, timeoutMs }: SendBatchOptions): Promise<BatchOutcome> {
    if (emails.length > this.maxBatchSize) {
      return { kind: 'failed', error: `batch of ${emails.length} exceeds Resend's limit of ${this.maxBatchSize}`, account: false };
    }
    const payload = emails.map((e) => ({
      from: e.from,
      to: [e.to],
      subject: e.subject,
      html: readWhenSerialised(() => e.html),
      text: readWhenSerialised(() => e.text),
      headers: e.headers,
      tags: e.tags,
    }));
    let response: Awaited<ReturnType<Resend['batch']['send']>>;
    try {
      response = await this.client.batch.send(payload, {
        idempotencyKey,
        batchValidation: 'permissive',
        ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      } as Parameters<Resend['batch']['send']>[1]);
    } catch (error) {
      // Aborted by our timeout, or the connection failed: Resend may have acted on it; the key makes a retry safe.
      return { kind: 'retry', retryAfterMs: 2_000, error: `network error: ${(error as Error).message}`, mayHaveSent: true };
    }
    const { data, error, headers } = response;
    if (error) {
      const status = error.statusCode ?? 0;
      const message = `${error.name} (${status || 'no status'}): ${error.message}`;
      if (error.name === 'daily_quota_exceeded' || error.name === 'monthly_quota_exceeded') {
        return { kind: 'quota', error: message, resetAt: quotaResetAt(error.name, new Date()) };
      }
      if (status === 429) return { kind: 'rate-limited', retryAfterMs: retryDelayMs(headers, 1_000), error: message };
      if (status === 409 && error.name === 'invalid_idempotent_request') return { kind: 'unknown', error: message };
      // The same batch is still being processed: ask again later.
      if (status === 409) return { kind: 'retry', retryAfterMs: retryDelayMs(headers, 1_000), error: message, mayHaveSent: true };
      // No status: the SDK met a network error or an unreadable answer.
      if (status >= 500 || status === 0) return { kind: 'retry', retryAfterMs: retryDelayMs(headers, 2_000), error: message, mayHaveSent: true };
      return { kind: 'failed', error: message, account: status === 401 || status === 403 };
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
