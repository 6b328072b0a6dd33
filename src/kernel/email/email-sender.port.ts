/** One personalised message, in our own terms (no SDK types leak out of the adapters). */
export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  tags?: Array<{ name: string; value: string }>;
  /**
   * A stable id for this message (delivery derives it from issue and subscriber). Providers that take one (SMTP's
   * Message-ID) use it, so a retried message keeps its identity and receivers can drop the duplicate.
   */
  messageKey?: string;
}

/** What happened to one message of a batch. */
export type MessageOutcome = { status: 'accepted'; messageId: string } | { status: 'rejected'; error: string };

/**
 * What happened to a whole batch:
 * - `accepted`: the provider answered for every message (some may be individually rejected).
 * - `rate-limited`: the provider refused the request for the request rate (429) and did nothing: wait
 *   `retryAfterMs`, then send again. Not a failed attempt.
 * - `quota`: the daily or monthly sending quota is used up (429): nothing was done, and waiting seconds won't
 *   help; `resetAt` is when it lifts, if known.
 * - `retry`: a transient failure (5xx, network, timeout, the same key still in flight). Safe to send again with the
 *   same idempotency key and payload after `retryAfterMs`; `mayHaveSent` says whether the provider may have
 *   acted on the request anyway.
 * - `unknown`: the provider says the key was already used with another payload: an earlier attempt's outcome is
 *   unknown. Never "failed", never re-sent blindly.
 * - `failed`: the provider refused the whole batch for a reason a retry will not fix (4xx validation). `account`
 *   is true when the refusal is about the account (bad API key, forbidden) and would refuse every batch.
 */
export type BatchOutcome =
  | { kind: 'accepted'; messages: MessageOutcome[] }
  | { kind: 'rate-limited'; retryAfterMs: number; error: string }
  | { kind: 'quota'; error: string; resetAt: Date | null }
  | { kind: 'retry'; retryAfterMs: number; error: string; mayHaveSent: boolean }
  | { kind: 'unknown'; error: string }
  | { kind: 'failed'; error: string; account: boolean };

export interface SendBatchOptions {
  /** The same key and payload never send twice (within the provider's idempotency window). */
  idempotencyKey: string;
  /** Abort the request after this long (then the outcome is `retry` with `mayHaveSent`). */
  timeoutMs?: number;
}

export abstract class EmailSender {
  /** The provider's largest batch. */
  abstract readonly maxBatchSize: number;
  /** A short name shown to editors and recorded on sends ("resend", "smtp", "outbox"). */
  abstract readonly name: string;
  /** Sends up to `maxBatchSize` messages. Never throws. */
  abstract sendBatch(emails: OutgoingEmail[], options: SendBatchOptions): Promise<BatchOutcome>;
}
