import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returningRows } from '../kernel/database/returning-rows';
import { BatchStatus, DeliveryBatch, Recipient, RecipientStatus, Send, SendStatus } from './delivery.entities';

export interface FrozenRecipient {
  subscriberId: string;
  email: string;
  status: RecipientStatus.Pending | RecipientStatus.Skipped | RecipientStatus.Suppressed;
}

/** The only place that builds queries for sends, batches and recipients. */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  getSendByIssue(issueId: string): Promise<Send | null> {
    return this.dataSource.getRepository(Send).findOneBy({ issueId });
  }

  getSend(id: string): Promise<Send | null> {
    return this.dataSource.getRepository(Send).findOneBy({ id });
  }

  /**
   * Creates the send with its frozen audience in one transaction: a recipient row per (issue, subscriber),
   * pending recipients cut into fixed batches of `batchSize`. Returns null if another instance got there first.
   */
  createSend(input: { issueId: string; provider: string; subject: string; html: string; text: string; recipients: FrozenRecipient[]; batchSize: number; now: Date }): Promise<Send | null> {
    return this.dataSource.transaction(async (m) => {
      const inserted = await m.query(
        `INSERT INTO sends (issue_id, status, provider, subject, html, text, audience, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (issue_id) DO NOTHING RETURNING id`,
        [input.issueId, SendStatus.Sending, input.provider, input.subject, input.html, input.text, input.recipients.length, input.now],
      );
      if (inserted.length === 0) return null;
      const sendId: string = inserted[0].id;
      const pending = input.recipients.filter((r) => r.status === RecipientStatus.Pending);
      const batchIds: string[] = [];
      for (let number = 1; (number - 1) * input.batchSize < pending.length; number++) {
        const [row] = await m.query(
          `INSERT INTO delivery_batches (send_id, number, status, idempotency_key, next_attempt_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
          [sendId, number, BatchStatus.Pending, `broadsheet-issue-${input.issueId}-batch-${number}`, input.now],
        );
        batchIds.push(row.id);
      }
      let position = 0;
      const rows = input.recipients.map((r) => ({
        sendId, issueId: input.issueId, subscriberId: r.subscriberId, email: r.email, status: r.status,
        batchId: r.status === RecipientStatus.Pending ? batchIds[Math.floor(position++ / input.batchSize)] : null,
        providerMessageId: null, error: null,
      }));
      for (let i = 0; i < rows.length; i += 1000) {
        await m.getRepository(Recipient).insert(rows.slice(i, i + 1000));
      }
      await this.recount(m, sendId);
      return m.getRepository(Send).findOneByOrFail({ id: sendId });
    });
  }

  /**
   * Claims one batch that is due, or whose submitting lease expired (a crash mid-request), with SKIP LOCKED so
   * instances never take the same batch. The claim bumps attempts and sets a lease.
   */
  async claimDueBatch(now: Date, leaseMs: number): Promise<DeliveryBatch | null> {
    const rows = returningRows<{ id: string }>(await this.dataSource.query(
      `UPDATE delivery_batches b SET status = $3, attempts = b.attempts + 1, lease_until = $2,
              first_attempt_at = coalesce(b.first_attempt_at, $1), updated_at = now()
       WHERE b.id = (
         SELECT id FROM delivery_batches
         WHERE (status = $4 AND next_attempt_at <= $1) OR (status = $3 AND lease_until < $1)
         ORDER BY next_attempt_at, number FOR UPDATE SKIP LOCKED LIMIT 1)
       RETURNING b.id`,
      [now, new Date(now.getTime() + leaseMs), BatchStatus.Submitting, BatchStatus.Pending],
    ));
    return rows.length ? this.dataSource.getRepository(DeliveryBatch).findOneBy({ id: rows[0].id }) : null;
  }

  batchRecipients(batchId: string): Promise<Recipient[]> {
    return this.dataSource.getRepository(Recipient).find({ where: { batchId }, order: { subscriberId: 'ASC' } });
  }

  /** Records a provider answer for every recipient of a batch and closes the batch, atomically. */
  completeBatch(batch: DeliveryBatch, results: Array<{ recipientId: string; status: RecipientStatus.Accepted | RecipientStatus.Failed | RecipientStatus.Suppressed; messageId: string | null; error: string | null }>, status: BatchStatus, error: string | null): Promise<void> {
    return this.dataSource.transaction(async (m) => {
      for (const r of results) {
        await m.getRepository(Recipient).update({ id: r.recipientId, status: RecipientStatus.Pending }, { status: r.status, providerMessageId: r.messageId, error: r.error });
      }
      await m.getRepository(DeliveryBatch).update({ id: batch.id }, { status, leaseUntil: null, lastError: error });
      await this.recount(m, batch.sendId);
    });
  }

  rescheduleBatch(batch: DeliveryBatch, at: Date, error: string): Promise<unknown> {
    return this.dataSource.getRepository(DeliveryBatch).update({ id: batch.id, status: BatchStatus.Submitting }, { status: BatchStatus.Pending, nextAttemptAt: at, leaseUntil: null, lastError: error });
  }

  /** The provider asked us to wait: no pending batch of any send goes out before `at`. */
  deferPendingBatches(at: Date): Promise<unknown> {
    return this.dataSource.query(`UPDATE delivery_batches SET next_attempt_at = greatest(next_attempt_at, $1), updated_at = now() WHERE status = $2`, [at, BatchStatus.Pending]);
  }

  holdBatch(batch: DeliveryBatch, error: string): Promise<unknown> {
    return this.dataSource.transaction(async (m) => {
      await m.getRepository(DeliveryBatch).update({ id: batch.id }, { status: BatchStatus.Held, leaseUntil: null, lastError: error });
      await m.getRepository(Send).update({ id: batch.sendId }, { status: SendStatus.Held });
    });
  }

  /** Marks the send done when every recipient row is final; returns true the one time it flips. */
  async finishIfComplete(sendId: string, now: Date): Promise<boolean> {
    const result = returningRows(await this.dataSource.query(
      `UPDATE sends SET status = $2, finished_at = $3, updated_at = now()
       WHERE id = $1 AND status = $4
         AND NOT EXISTS (SELECT 1 FROM recipients WHERE send_id = $1 AND status = $5)
       RETURNING id`,
      [sendId, SendStatus.Sent, now, SendStatus.Sending, RecipientStatus.Pending],
    ));
    return result.length === 1;
  }

  private async recount(m: import('typeorm').EntityManager, sendId: string): Promise<void> {
    await m.query(
      `UPDATE sends s SET
         accepted = (SELECT count(*) FROM recipients WHERE send_id = s.id AND status = 'accepted'),
         suppressed = (SELECT count(*) FROM recipients WHERE send_id = s.id AND status = 'suppressed'),
         failed = (SELECT count(*) FROM recipients WHERE send_id = s.id AND status = 'failed'),
         skipped = (SELECT count(*) FROM recipients WHERE send_id = s.id AND status = 'skipped'),
         updated_at = now()
       WHERE s.id = $1`,
      [sendId],
    );
  }

  /**
   * Recipient counts of an issue over all its sends: pending recipients of a held batch count as held, so the
   * figures always add up to the audience.
   */
  async issueCounts(issueId: string): Promise<{ sends: number; counts: Record<string, number> }> {
    const rows: Array<{ status: string; count: number }> = await this.dataSource.query(
      `SELECT CASE WHEN r.status = $2 AND b.status = $3 THEN 'held' ELSE r.status END AS status, count(*)::int AS count
         FROM recipients r LEFT JOIN delivery_batches b ON b.id = r.batch_id
        WHERE r.issue_id = $1
        GROUP BY 1`,
      [issueId, RecipientStatus.Pending, BatchStatus.Held],
    );
    const [{ sends }] = await this.dataSource.query(`SELECT count(*)::int AS sends FROM sends WHERE issue_id = $1`, [issueId]);
    return { sends: Number(sends), counts: Object.fromEntries(rows.map((r) => [r.status, Number(r.count)])) };
  }

  recipientsOf(sendId: string): Promise<Recipient[]> {
    return this.dataSource.getRepository(Recipient).find({ where: { sendId }, order: { email: 'ASC' } });
  }

  batchesOf(sendId: string): Promise<DeliveryBatch[]> {
    return this.dataSource.getRepository(DeliveryBatch).find({ where: { sendId }, order: { number: 'ASC' } });
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
