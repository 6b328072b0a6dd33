import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returningRows } from '../kernel/database/returning-rows';
import { BatchStatus, DeliveryBatch, DeliveryEvent, Recipient, RecipientStatus, Send, SendKind, SendStatus } from './delivery.entities';

/** A final answer for one recipient of a batch. */
export interface RecipientResult {
  recipientId: string;
  status: RecipientStatus.Accepted | RecipientStatus.Failed | RecipientStatus.Suppressed;
  messageId: string | null;
  error: string | null;
  /** The link the recipient's copy carried, copied onto its row with the result (null: none was sent). */
  unsubscribeUrl?: string | null;
}

/** A batch as claimed: the fencing token is what lets this claimer, and only it, record an outcome. */
export interface ClaimedBatch {
  id: string;
  sendId: string;
  issueId: string;
  sendNumber: number;
  number: number;
  idempotencyKey: string;
  attempts: number;
  firstAttemptAt: Date | null;
  keyUsed: boolean;
  payloadHash: string | null;
  /** Recipient id → unsubscribe link, stored with the payload hash (null before, and for batches prepared before it was). */
  links: Record<string, string> | null;
  leaseToken: string;
}

export interface Member {
  id: string;
  subscriberId: string | null;
  email: string;
  unsubscribeUrl: string | null;
}

export interface Totals {
  audience: number;
  accepted: number;
  failed: number;
  suppressed: number;
  skipped: number;
  held: number;
  cancelled: number;
}

/** Idempotency keys derive from (issue, send number, batch number) and, after an editor's re-send, a generation. */
export function idempotencyKey(issueId: string, sendNumber: number, batchNumber: number, generation = 0): string {
  return `broadsheet-${issueId}-send-${sendNumber}-batch-${batchNumber}${generation ? `-r${generation}` : ''}`;
}

const LIVE = [SendStatus.Scheduled, SendStatus.Sending, SendStatus.Paused, SendStatus.Held];

/** The only place that builds queries for sends, batches, recipients and delivery events. */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  getSend(id: string): Promise<Send | null> {
    return this.dataSource.getRepository(Send).findOneBy({ id });
  }

  /** The issue's latest send that is not a test. */
  latestIssueSend(issueId: string): Promise<Send | null> {
    return this.dataSource.getRepository(Send).findOne({ where: { issueId, kind: SendKind.Issue }, order: { number: 'DESC' } });
  }

  issueSends(issueId: string): Promise<Send[]> {
    return this.dataSource.getRepository(Send).find({ where: { issueId, kind: SendKind.Issue }, order: { number: 'ASC' } });
  }

  /** Issue ids among these that have any non-test send. */
  async issuesWithSends(issueIds: string[]): Promise<Set<string>> {
    if (issueIds.length === 0) return new Set();
    const rows: Array<{ issue_id: string }> = await this.dataSource.query(`SELECT DISTINCT issue_id FROM sends WHERE kind = 'issue' AND issue_id = ANY($1)`, [
      issueIds,
    ]);
    return new Set(rows.map((r) => r.issue_id));
  }

  /**
   * Queues a send (status scheduled) unless the issue has a live one. Returns null when another send is live
   * (the partial unique index decides, so two instances or two editors can't both queue one).
   */
  async queueSend(input: { issueId: string; kind: SendKind; provider: string; at: Date }): Promise<Send | null> {
    return this.dataSource.transaction(async (m) => {
      const [{ next }] = await m.query(`SELECT coalesce(max(number), 0) + 1 AS next FROM sends WHERE issue_id = $1 AND kind = $2`, [input.issueId, input.kind]);
      const rows = await m.query(
        `INSERT INTO sends (issue_id, kind, number, status, provider, subject, html, text, scheduled_at)
         VALUES ($1, $2, $3, $4, $5, '', '', '', $6)
         ON CONFLICT DO NOTHING RETURNING id`,
        [input.issueId, input.kind, next, SendStatus.Scheduled, input.provider, input.at],
      );
      return rows.length ? m.getRepository(Send).findOneByOrFail({ id: rows[0].id }) : null;
    });
  }

  /** Scheduled sends due now, and quota-paused sends whose quota has reset. */
  async dueSends(now: Date): Promise<{ toStart: string[]; toResume: string[] }> {
    const start: Array<{ id: string }> = await this.dataSource.query(`SELECT id FROM sends WHERE status = $1 AND scheduled_at <= $2 ORDER BY scheduled_at`, [
      SendStatus.Scheduled,
      now,
    ]);
    const resume: Array<{ id: string }> = await this.dataSource.query(`SELECT id FROM sends WHERE status = $1 AND resume_at <= $2`, [SendStatus.Paused, now]);
    return { toStart: start.map((r) => r.id), toResume: resume.map((r) => r.id) };
  }

  /**
   * Freezes a scheduled send in one transaction: the rendered digest and sender on the send; one recipient row per
   * subscriber of `audienceSql` (id, email, beat_slugs) who has no row for this issue yet, those whose beat
   * preferences exclude every beat of the issue skipped; pending ones cut into fixed batches of `batchSize` in
   * subscriber-id order. All in SQL (INSERT … SELECT): no audience held in memory. Returns false when another
   * instance froze it first (or it is no longer scheduled).
   */
  freeze(input: {
    sendId: string;
    issueId: string;
    sendNumber: number;
    subject: string;
    html: string;
    text: string;
    from: string;
    issueBeats: string[];
    audienceSql: string;
    batchSize: number;
    now: Date;
  }): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const locked = await m.query(`SELECT id FROM sends WHERE id = $1 AND status = $2 FOR UPDATE SKIP LOCKED`, [input.sendId, SendStatus.Scheduled]);
      if (locked.length === 0) return false;
      await m.query(
        `INSERT INTO recipients (send_id, issue_id, subscriber_id, email, status, batch_number)
         SELECT $1, $2, a.id, a.email,
                CASE WHEN a.wanted THEN 'pending' ELSE 'skipped' END,
                CASE WHEN a.wanted THEN (row_number() OVER (PARTITION BY a.wanted ORDER BY a.id) - 1) / $4 + 1 END
         FROM (SELECT s.id, s.email, (s.beat_slugs IS NULL OR s.beat_slugs && $3::text[]) AS wanted
               FROM (${input.audienceSql}) s
               WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.issue_id = $2 AND r.subscriber_id = s.id)) a
         ON CONFLICT (issue_id, subscriber_id) DO NOTHING`,
        [input.sendId, input.issueId, input.issueBeats, input.batchSize],
      );
      const [counts] = await m.query(
        `SELECT count(*)::int AS audience, count(*) FILTER (WHERE status = 'skipped')::int AS skipped, coalesce(max(batch_number), 0)::int AS batches
         FROM recipients WHERE send_id = $1`,
        [input.sendId],
      );
      const keyBase = idempotencyKey(input.issueId, input.sendNumber, 0).replace(/-batch-0$/, '-batch-');
      await m.query(
        `INSERT INTO delivery_batches (send_id, number, status, idempotency_key, next_attempt_at)
         SELECT $1, n, 'pending', $2 || n, $3 FROM generate_series(1, $4::int) n`,
        [input.sendId, keyBase, input.now, counts.batches],
      );
      await m.query(
        `UPDATE sends SET status = $2, subject = $3, html = $4, text = $5, from_address = $6, audience = $7, skipped = $8,
                started_at = $9, updated_at = now() WHERE id = $1`,
        [input.sendId, SendStatus.Sending, input.subject, input.html, input.text, input.from, counts.audience, counts.skipped, input.now],
      );
      return true;
    });
  }

  /**
   * Claims up to `limit` batches of sending sends that are due, or whose lease expired (a dead or stuck claimer),
   * with SKIP LOCKED so instances never take the same batch. Each claim gets a new fencing token and lease.
   */
  async claim(now: Date, leaseMs: number, limit: number): Promise<ClaimedBatch[]> {
    const rows = returningRows<Record<string, unknown>>(
      await this.dataSource.query(
        `UPDATE delivery_batches b SET status = 'submitting', attempts = b.attempts + 1, lease_until = $2,
              lease_token = gen_random_uuid(), first_attempt_at = coalesce(b.first_attempt_at, $1), updated_at = now()
       FROM sends s
       WHERE s.id = b.send_id AND b.id IN (
         SELECT c.id FROM delivery_batches c JOIN sends cs ON cs.id = c.send_id AND cs.status = 'sending'
         WHERE (c.status = 'pending' AND c.next_attempt_at <= $1) OR (c.status = 'submitting' AND c.lease_until < $1)
         ORDER BY c.next_attempt_at, c.number LIMIT $3 FOR UPDATE OF c SKIP LOCKED)
       RETURNING b.id, b.send_id, s.issue_id, s.number AS send_number, b.number, b.idempotency_key, b.attempts,
                 b.first_attempt_at, b.key_used, b.payload_hash, b.links, b.lease_token`,
        [now, new Date(now.getTime() + leaseMs), limit],
      ),
    );
    return rows.map((r) => ({
      id: r.id as string,
      sendId: r.send_id as string,
      issueId: r.issue_id as string,
      sendNumber: Number(r.send_number),
      number: Number(r.number),
      idempotencyKey: r.idempotency_key as string,
      attempts: Number(r.attempts),
      firstAttemptAt: r.first_attempt_at ? new Date(r.first_attempt_at as string) : null,
      keyUsed: r.key_used as boolean,
      payloadHash: (r.payload_hash as string | null) ?? null,
      links: (typeof r.links === 'string' ? (JSON.parse(r.links) as Record<string, string>) : (r.links as Record<string, string> | null)) ?? null,
      leaseToken: r.lease_token as string,
    }));
  }

  /** The batch's recipients still waiting for an answer, in a fixed order. */
  async members(sendId: string, batchNumber: number): Promise<Member[]> {
    const rows: Array<{ id: string; subscriber_id: string | null; email: string; unsubscribe_url: string | null }> = await this.dataSource.query(
      `SELECT id, subscriber_id, email, unsubscribe_url FROM recipients WHERE send_id = $1 AND batch_number = $2 AND status = 'pending' ORDER BY subscriber_id, id`,
      [sendId, batchNumber],
    );
    return rows.map((r) => ({ id: r.id, subscriberId: r.subscriber_id, email: r.email, unsubscribeUrl: r.unsubscribe_url }));
  }

  /** Runs `work` in a transaction only if this claimer still holds the batch's lease (locks the row). */
  private fenced<T>(batch: ClaimedBatch, work: (m: EntityManager) => Promise<T>): Promise<T | null> {
    return this.dataSource.transaction(async (m) => {
      const held = await m.query(`SELECT id FROM delivery_batches WHERE id = $1 AND lease_token = $2 AND status = 'submitting' FOR UPDATE`, [
        batch.id,
        batch.leaseToken,
      ]);
      if (held.length === 0) return null;
      return work(m);
    });
  }

  /**
   * Fixes the batch's payload before a request that may reach the provider: who left since is suppressed (saved,
   * counted on the send), the remaining recipients' links and the payload hash stored on the batch row, and the
   * key marked used. The remaining recipients' rows are not written here (their links are copied onto them with
   * their results, `complete`): each is written once. One statement, fenced: the batch row is updated first, only
   * while this claimer holds its lease, and nothing else changes when it does not. False if the lease was lost.
   */
  async prepare(
    batch: ClaimedBatch,
    input: { suppress: string[]; links: Array<{ id: string; url: string }>; payloadHash: string; now: Date },
  ): Promise<boolean> {
    const [row] = await this.dataSource.query(
      `WITH b AS (
         UPDATE delivery_batches SET payload_hash = $4, prepared_at = $5, key_used = true, links = $7::jsonb, updated_at = now()
         WHERE id = $1 AND lease_token = $2 AND status = 'submitting' RETURNING id),
       gone AS (
         UPDATE recipients r SET status = 'suppressed', provider_message_id = NULL, error = 'unsubscribed before delivery', updated_at = now()
         WHERE r.id = ANY($6::uuid[]) AND r.send_id = $3 AND r.status = 'pending' AND EXISTS (SELECT 1 FROM b) RETURNING 1),
       counted AS (
         UPDATE sends SET suppressed = suppressed + (SELECT count(*) FROM gone), updated_at = now()
         WHERE id = $3 AND EXISTS (SELECT 1 FROM gone) RETURNING 1)
       SELECT (SELECT count(*) FROM b)::int AS fenced`,
      [
        batch.id,
        batch.leaseToken,
        batch.sendId,
        input.payloadHash,
        input.now,
        input.suppress,
        JSON.stringify(Object.fromEntries(input.links.map((l) => [l.id, l.url]))),
      ],
    );
    return Number(row.fenced) === 1;
  }

  /**
   * Records the answer for every member and closes the batch, if this claimer still holds it. One statement: the
   * batch row first (fenced by its lease token), then the members still pending moved to their results, then the
   * send's counters added from the rows that moved (the send's row is touched only when some did).
   */
  async complete(batch: ClaimedBatch, results: RecipientResult[], status: BatchStatus.Sent | BatchStatus.Failed, error: string | null): Promise<boolean> {
    const [row] = await this.dataSource.query(
      `WITH b AS (
         UPDATE delivery_batches SET status = $4, lease_until = NULL, lease_token = NULL, last_error = $5, updated_at = now()
         WHERE id = $1 AND lease_token = $2 AND status = 'submitting' RETURNING id),
       v AS (SELECT unnest($6::uuid[]) AS id, unnest($7::text[]) AS status, unnest($8::text[]) AS message_id, unnest($9::text[]) AS error,
                    unnest($10::text[]) AS url),
       changed AS (
         UPDATE recipients r SET status = v.status, provider_message_id = v.message_id, error = v.error,
                unsubscribe_url = coalesce(v.url, r.unsubscribe_url), updated_at = now()
         FROM v WHERE r.id = v.id AND r.send_id = $3 AND r.status = 'pending' AND EXISTS (SELECT 1 FROM b) RETURNING v.status),
       counted AS (
         UPDATE sends SET
           accepted = accepted + (SELECT count(*) FROM changed WHERE status = 'accepted'),
           failed = failed + (SELECT count(*) FROM changed WHERE status = 'failed'),
           suppressed = suppressed + (SELECT count(*) FROM changed WHERE status = 'suppressed'),
           updated_at = now()
         WHERE id = $3 AND EXISTS (SELECT 1 FROM changed) RETURNING 1)
       SELECT (SELECT count(*) FROM b)::int AS fenced`,
      [
        batch.id,
        batch.leaseToken,
        batch.sendId,
        status,
        error,
        results.map((r) => r.recipientId),
        results.map((r) => r.status),
        results.map((r) => r.messageId),
        results.map((r) => r.error),
        results.map((r) => r.unsubscribeUrl ?? null),
      ],
    );
    return Number(row.fenced) === 1;
  }

  /**
   * Puts the batch back for a later attempt. `countAttempt` false (a 429, a quota) gives the attempt back;
   * `keyUsed` false says the provider certainly did nothing with any request under this key so far.
   */
  async reschedule(batch: ClaimedBatch, input: { at: Date; error: string; countAttempt: boolean; keyUsed: boolean }): Promise<boolean> {
    const done = await this.fenced(batch, async (m) => {
      await m.query(
        `UPDATE delivery_batches SET status = 'pending', next_attempt_at = $2, last_error = $3, attempts = attempts - $4,
                key_used = $5, lease_until = NULL, lease_token = NULL, updated_at = now() WHERE id = $1`,
        [batch.id, input.at, input.error, input.countAttempt ? 0 : 1, input.keyUsed],
      );
      return true;
    });
    return done === true;
  }

  /** Outcome unknown: the batch and its pending recipients are held for an editor. */
  async hold(batch: ClaimedBatch, error: string): Promise<boolean> {
    const done = await this.fenced(batch, async (m) => {
      await m.query(
        `WITH changed AS (UPDATE recipients SET status = 'held', updated_at = now() WHERE send_id = $1 AND batch_number = $2 AND status = 'pending' RETURNING 1)
         UPDATE sends SET held = held + (SELECT count(*) FROM changed), updated_at = now() WHERE id = $1`,
        [batch.sendId, batch.number],
      );
      await m.query(`UPDATE delivery_batches SET status = 'held', lease_until = NULL, lease_token = NULL, last_error = $2, updated_at = now() WHERE id = $1`, [
        batch.id,
        error,
      ]);
      return true;
    });
    return done === true;
  }

  /** Keeps a claim alive while its request waits for the shared rate budget. */
  async extendLease(batch: ClaimedBatch, until: Date): Promise<boolean> {
    const rows = returningRows(
      await this.dataSource.query(
        `UPDATE delivery_batches SET lease_until = greatest(lease_until, $3) WHERE id = $1 AND lease_token = $2 AND status = 'submitting' RETURNING id`,
        [batch.id, batch.leaseToken, until],
      ),
    );
    return rows.length === 1;
  }

  /**
   * Closes a sending send once no batch is open: `sent` when every recipient is final, `held` when some batch
   * waits for an editor. Returns the new status the one time it flips, else null.
   */
  async finishIfComplete(sendId: string, now: Date): Promise<SendStatus | null> {
    const rows = returningRows<{ status: SendStatus }>(
      await this.dataSource.query(
        `UPDATE sends SET status = CASE WHEN EXISTS (SELECT 1 FROM delivery_batches WHERE send_id = $1 AND status = 'held') THEN 'held' ELSE 'sent' END,
              finished_at = CASE WHEN EXISTS (SELECT 1 FROM delivery_batches WHERE send_id = $1 AND status = 'held') THEN NULL ELSE $2::timestamptz END,
              updated_at = now()
       WHERE id = $1 AND status = 'sending'
         AND NOT EXISTS (SELECT 1 FROM delivery_batches WHERE send_id = $1 AND status IN ('pending', 'submitting'))
       RETURNING status`,
        [sendId, now],
      ),
    );
    return rows[0]?.status ?? null;
  }

  /** Sends left `sending` with nothing open (a crash between the last batch and the bookkeeping). */
  async openSendIds(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT s.id FROM sends s WHERE s.status = 'sending' AND NOT EXISTS (SELECT 1 FROM delivery_batches b WHERE b.send_id = s.id AND b.status IN ('pending', 'submitting'))`,
    );
    return rows.map((r) => r.id);
  }

  /** Changes a send's status if it is in one of `from`; returns whether it changed. */
  async setSendStatus(
    sendId: string,
    from: SendStatus[],
    to: SendStatus,
    extra: { pauseReason?: string | null; resumeAt?: Date | null } = {},
  ): Promise<boolean> {
    const rows = returningRows(
      await this.dataSource.query(
        `UPDATE sends SET status = $3, pause_reason = $4, resume_at = $5, updated_at = now() WHERE id = $1 AND status = ANY($2) RETURNING id`,
        [sendId, from, to, extra.pauseReason ?? null, extra.resumeAt ?? null],
      ),
    );
    return rows.length === 1;
  }

  /**
   * Cancels a live send: recipients of batches nobody has tried are released (their rows deleted, so a later send
   * of the issue can reach them), those batches cancelled. Batches in flight finish; held ones stay held.
   */
  cancel(sendId: string): Promise<{ released: number } | null> {
    return this.dataSource.transaction(async (m) => {
      const live = await m.query(`SELECT id FROM sends WHERE id = $1 AND status = ANY($2) FOR UPDATE`, [sendId, LIVE]);
      if (live.length === 0) return null;
      const batches = returningRows<{ number: number }>(
        await m.query(
          `UPDATE delivery_batches SET status = 'cancelled', updated_at = now() WHERE send_id = $1 AND status = 'pending' AND NOT key_used RETURNING number`,
          [sendId],
        ),
      );
      const numbers = batches.map((b) => b.number);
      const released = returningRows(
        await m.query(`DELETE FROM recipients WHERE send_id = $1 AND status = 'pending' AND batch_number = ANY($2::int[]) RETURNING id`, [sendId, numbers]),
      ).length;
      // A waiting batch whose key was used may have reached the provider: held for an editor, never dropped.
      const unknown = returningRows<{ number: number }>(
        await m.query(
          `UPDATE delivery_batches SET status = 'held', last_error = 'send cancelled after an attempt of unknown outcome', updated_at = now()
         WHERE send_id = $1 AND status = 'pending' RETURNING number`,
          [sendId],
        ),
      );
      const held = returningRows(
        await m.query(
          `UPDATE recipients SET status = 'held', updated_at = now() WHERE send_id = $1 AND status = 'pending' AND batch_number = ANY($2::int[]) RETURNING id`,
          [sendId, unknown.map((b) => b.number)],
        ),
      ).length;
      await m.query(
        `UPDATE sends SET status = 'cancelled', audience = audience - $2, cancelled = cancelled + $2, held = held + $3,
                pause_reason = NULL, resume_at = NULL, updated_at = now()
         WHERE id = $1`,
        [sendId, released, held],
      );
      return { released };
    });
  }

  /** Failed recipients of the send go back to pending in new batches (new keys): the others are untouched. */
  retryFailed(send: Send, batchSize: number, now: Date): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const [{ last }] = await m.query(`SELECT coalesce(max(number), 0)::int AS last FROM delivery_batches WHERE send_id = $1`, [send.id]);
      const moved = returningRows<{ batch_number: number }>(
        await m.query(
          `WITH f AS (SELECT id, $2 + (row_number() OVER (ORDER BY subscriber_id, id) - 1) / $3 + 1 AS n FROM recipients WHERE send_id = $1 AND status = 'failed')
         UPDATE recipients r SET status = 'pending', batch_number = f.n, unsubscribe_url = NULL, provider_message_id = NULL, updated_at = now()
         FROM f WHERE r.id = f.id RETURNING r.batch_number`,
          [send.id, last, batchSize],
        ),
      );
      if (moved.length === 0) return 0;
      const top = Math.max(...moved.map((r) => Number(r.batch_number)));
      const keyBase = idempotencyKey(send.issueId, send.number, 0).replace(/-batch-0$/, '-batch-');
      await m.query(
        `INSERT INTO delivery_batches (send_id, number, status, idempotency_key, next_attempt_at) SELECT $1, n, 'pending', $2 || n, $3 FROM generate_series($4::int, $5::int) n`,
        [send.id, keyBase, now, last + 1, top],
      );
      await m.query(
        `UPDATE sends SET failed = failed - $2, status = CASE WHEN status IN ('sent', 'held') THEN 'sending' ELSE status END, finished_at = NULL, updated_at = now() WHERE id = $1`,
        [send.id, moved.length],
      );
      return moved.length;
    });
  }

  /** An editor's decision on a held batch, with the reason recorded on the batch. */
  release(batchId: string, action: 'resend' | 'accepted' | 'failed', reason: string): Promise<{ sendId: string; recipients: number } | null> {
    return this.dataSource.transaction(async (m) => {
      const [batch] = await m.query(
        `SELECT b.id, b.send_id, b.number, b.generation, s.issue_id, s.number AS send_number FROM delivery_batches b JOIN sends s ON s.id = b.send_id WHERE b.id = $1 AND b.status = 'held' FOR UPDATE OF b`,
        [batchId],
      );
      if (!batch) return null;
      const note = `${action} by an editor: ${reason}`;
      let count: number;
      if (action === 'resend') {
        const generation = Number(batch.generation) + 1;
        count = returningRows(
          await m.query(
            `UPDATE recipients SET status = 'pending', updated_at = now() WHERE send_id = $1 AND batch_number = $2 AND status = 'held' RETURNING id`,
            [batch.send_id, batch.number],
          ),
        ).length;
        await m.query(
          `UPDATE delivery_batches SET status = 'pending', generation = $2, idempotency_key = $3, attempts = 0, first_attempt_at = NULL, key_used = false,
                  payload_hash = NULL, prepared_at = NULL, links = NULL, next_attempt_at = now(), release_note = $4, updated_at = now() WHERE id = $1`,
          [batch.id, generation, idempotencyKey(batch.issue_id, Number(batch.send_number), Number(batch.number), generation), note],
        );
        await m.query(`UPDATE sends SET held = held - $2, status = 'sending', finished_at = NULL, updated_at = now() WHERE id = $1`, [batch.send_id, count]);
      } else {
        const status = action === 'accepted' ? RecipientStatus.Accepted : RecipientStatus.Failed;
        count = returningRows(
          await m.query(
            `UPDATE recipients SET status = $3, error = $4, updated_at = now() WHERE send_id = $1 AND batch_number = $2 AND status = 'held' RETURNING id`,
            [batch.send_id, batch.number, status, note],
          ),
        ).length;
        await m.query(`UPDATE delivery_batches SET status = $2, release_note = $3, updated_at = now() WHERE id = $1`, [
          batch.id,
          action === 'accepted' ? BatchStatus.Sent : BatchStatus.Failed,
          note,
        ]);
        await m.query(
          `UPDATE sends SET held = held - $2, ${action === 'accepted' ? 'accepted = accepted + $2' : 'failed = failed + $2'},
                  status = CASE WHEN status = 'held' THEN 'sending' ELSE status END, updated_at = now() WHERE id = $1`,
          [batch.send_id, count],
        );
      }
      return { sendId: batch.send_id as string, recipients: count };
    });
  }

  /** Counters summed over the issue's sends (tests excluded). */
  async issueTotals(issueId: string): Promise<Totals> {
    const [row] = await this.dataSource.query(
      `SELECT coalesce(sum(audience), 0)::int AS audience, coalesce(sum(accepted), 0)::int AS accepted, coalesce(sum(failed), 0)::int AS failed,
              coalesce(sum(suppressed), 0)::int AS suppressed, coalesce(sum(skipped), 0)::int AS skipped, coalesce(sum(held), 0)::int AS held,
              coalesce(sum(cancelled), 0)::int AS cancelled
       FROM sends WHERE issue_id = $1 AND kind = 'issue'`,
      [issueId],
    );
    return row as Totals;
  }

  async heldBatches(issueId: string): Promise<Array<{ id: string; send: number; number: number; recipients: number; lastError: string | null }>> {
    const rows: Array<{ id: string; send: number; number: number; recipients: number; last_error: string | null }> = await this.dataSource.query(
      `SELECT b.id, s.number AS send, b.number, (SELECT count(*) FROM recipients r WHERE r.send_id = b.send_id AND r.batch_number = b.number AND r.status = 'held')::int AS recipients, b.last_error
       FROM delivery_batches b JOIN sends s ON s.id = b.send_id WHERE s.issue_id = $1 AND s.kind = 'issue' AND b.status = 'held' ORDER BY s.number, b.number`,
      [issueId],
    );
    return rows.map((r) => ({ id: r.id, send: Number(r.send), number: Number(r.number), recipients: r.recipients, lastError: r.last_error }));
  }

  /** Recipients made final per minute for a send (the last `minutes`). */
  async perMinute(sendId: string, minutes: number): Promise<Array<{ minute: Date; accepted: number; failed: number }>> {
    const rows: Array<{ minute: Date; accepted: number; failed: number }> = await this.dataSource.query(
      `SELECT date_trunc('minute', updated_at) AS minute, count(*) FILTER (WHERE status = 'accepted')::int AS accepted, count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM recipients WHERE send_id = $1 AND status IN ('accepted', 'failed') GROUP BY 1 ORDER BY 1 DESC LIMIT $2`,
      [sendId, minutes],
    );
    return rows.reverse();
  }

  batchesOf(sendId: string): Promise<DeliveryBatch[]> {
    return this.dataSource.getRepository(DeliveryBatch).find({ where: { sendId }, order: { number: 'ASC' } });
  }

  recipientsOf(sendId: string): Promise<Recipient[]> {
    return this.dataSource.getRepository(Recipient).find({ where: { sendId }, order: { email: 'ASC' } });
  }

  /** Records a test send and its results in one go (no batches: it is sent at once). */
  async recordTestSend(input: {
    issueId: string;
    provider: string;
    subject: string;
    html: string;
    text: string;
    from: string;
    results: Array<{ email: string; status: RecipientStatus; messageId: string | null; error: string | null }>;
    now: Date;
  }): Promise<Send> {
    return this.dataSource.transaction(async (m) => {
      const [{ next }] = await m.query(`SELECT coalesce(max(number), 0) + 1 AS next FROM sends WHERE issue_id = $1 AND kind = 'test'`, [input.issueId]);
      const count = (s: RecipientStatus) => input.results.filter((r) => r.status === s).length;
      const [row] = await m.query(
        `INSERT INTO sends (issue_id, kind, number, status, provider, subject, html, text, from_address, audience, accepted, failed, started_at, finished_at)
         VALUES ($1, 'test', $2, 'sent', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
        [
          input.issueId,
          next,
          input.provider,
          input.subject,
          input.html,
          input.text,
          input.from,
          input.results.length,
          count(RecipientStatus.Accepted),
          count(RecipientStatus.Failed),
          input.now,
        ],
      );
      await m.getRepository(Recipient).insert(
        input.results.map((r) => ({
          sendId: row.id,
          issueId: input.issueId,
          subscriberId: null,
          batchNumber: null,
          email: r.email,
          status: r.status,
          providerMessageId: r.messageId,
          error: r.error,
          unsubscribeUrl: null,
        })),
      );
      return m.getRepository(Send).findOneByOrFail({ id: row.id });
    });
  }

  /** Stores a webhook event once per event id, against its recipient when the message id is known. */
  async recordEvent(input: {
    eventId: string;
    type: string;
    messageId: string | null;
    occurredAt: Date | null;
    payload: unknown;
  }): Promise<{ stored: boolean; recipient: { id: string; sendId: string; email: string } | null }> {
    return this.dataSource.transaction(async (m) => {
      const [recipient] = input.messageId
        ? await m.query(`SELECT id, send_id, email FROM recipients WHERE provider_message_id = $1 LIMIT 1`, [input.messageId])
        : [];
      const rows = await m.query(
        `INSERT INTO delivery_events (event_id, type, provider_message_id, recipient_id, send_id, occurred_at, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING id`,
        [input.eventId, input.type, input.messageId, recipient?.id ?? null, recipient?.send_id ?? null, input.occurredAt, JSON.stringify(input.payload)],
      );
      return { stored: rows.length === 1, recipient: recipient ? { id: recipient.id, sendId: recipient.send_id, email: recipient.email } : null };
    });
  }

  /** Distinct recipients per event type over the issue's sends (tests excluded). */
  async eventCounts(issueId: string): Promise<Record<string, number>> {
    const rows: Array<{ type: string; n: number }> = await this.dataSource.query(
      `SELECT e.type, count(DISTINCT e.recipient_id)::int AS n FROM delivery_events e JOIN sends s ON s.id = e.send_id
       WHERE s.issue_id = $1 AND s.kind = 'issue' GROUP BY e.type`,
      [issueId],
    );
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  }

  getEvents(recipientId: string): Promise<DeliveryEvent[]> {
    return this.dataSource.getRepository(DeliveryEvent).find({ where: { recipientId }, order: { createdAt: 'ASC' } });
  }

  /** Batches not yet final, by status: the depth of the delivery queue (read by /metrics at scrape time). */
  async countOpenBatches(): Promise<Array<{ status: BatchStatus; count: number }>> {
    const open = [BatchStatus.Pending, BatchStatus.Submitting, BatchStatus.Held];
    const rows: Array<{ status: BatchStatus; count: number }> = await this.dataSource.query(
      `SELECT status, count(*)::int AS count FROM delivery_batches WHERE status = ANY($1) GROUP BY status`,
      [open],
    );
    return open.map((status) => ({ status, count: rows.find((r) => r.status === status)?.count ?? 0 }));
  }
}
