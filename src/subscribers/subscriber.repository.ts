import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returningRows } from '../kernel/database/returning-rows';
import { type SubscriberStatus } from './subscriber.entity';

@Injectable()
export class SubscriberRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts a subscriber unless the address exists; returns the new id, or null. */
  async insertIfAbsent(row: {
    email: string;
    status: SubscriberStatus;
    consentAt: Date;
    consentSource: string;
    confirmedAt: Date | null;
  }): Promise<string | null> {
    const result = returningRows<{ id: string }>(
      await this.dataSource.query(
        `INSERT INTO subscribers (email, status, consent_at, consent_source, confirmed_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
        [row.email, row.status, row.consentAt, row.consentSource, row.confirmedAt],
      ),
    );
    return result[0]?.id ?? null;
  }

  async activeIds(ids: string[], now: Date): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM subscribers WHERE id = ANY($1::uuid[]) AND status = 'active' AND (paused_until IS NULL OR paused_until <= $2)`,
      [ids, now],
    );
    return new Set(rows.map((r) => r.id));
  }
}
