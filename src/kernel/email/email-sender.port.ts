/** One personalised message, in our own terms (no SDK types leak out of the adapters). */
export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  tags?: Array<{ name: string; value: string }>;
}

/** What happened to one message of a batch. */
export type MessageOutcome = { status: 'accepted'; messageId: string } | { status: 'rejected'; error: string };

/**
 * What happened to a whole batch:
 * - `accepted`: the provider answered for every message (some may be individually rejected).
 * - `retry`: a transient failure (429, 5xx, network); safe to resend with the same idempotency key after
 *   `retryAfterMs`. `mayHaveSent` says whether the provider may have acted on the request anyway (a 5xx or a
 *   lost connection) or certainly did not (a 429).
 * - `failed`: the provider refused the whole batch for a reason a retry will not fix (bad key, 4xx validation).
 */
export type BatchOutcome =
  | { kind: 'accepted'; messages: MessageOutcome[] }
  | { kind: 'retry'; retryAfterMs: number; error: string; mayHaveSent: boolean }
  | { kind: 'failed'; error: string };

export abstract class EmailSender {
  /** The provider's largest batch. */
  abstract readonly maxBatchSize: number;
  /** A short name shown to editors and recorded on sends ("resend", "outbox"). */
  abstract readonly name: string;
  /** Sends up to `maxBatchSize` messages. The same `idempotencyKey` never sends twice. Never throws. */
  abstract sendBatch(emails: OutgoingEmail[], options: { idempotencyKey: string }): Promise<BatchOutcome>;
}
