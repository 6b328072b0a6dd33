import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { returningRows } from '../kernel/database/returning-rows';

/** Slack added to each slot's period, so arrival jitter at the provider never puts limit + 1 into one second. */
const MARGIN_MS = 50;

/**
 * One budget of provider requests per second shared by every instance, held in PostgreSQL
 * (`delivery_rate_slots`): `limit` slots, each usable once per period of a little over a second. Taking a slot is
 * one short UPDATE … SKIP LOCKED; whoever takes it learns how long to wait before starting the request, and marks
 * the real start just before sending, so a late timer can't bunch requests up. Any one-second window at the
 * provider therefore sees at most `limit` requests, whichever instances sent them.
 */
@Injectable()
export class RateLimiter {
  private readonly slots: number;
  private readonly periodMs: number;
  private initialised: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const rate = config.email.ratePerSecond;
    // A fractional rate (0.5/s) is one slot with a longer period; 2.5/s is two slots every 800 ms.
    this.slots = rate > 0 ? Math.max(1, Math.floor(rate)) : 0;
    this.periodMs = rate > 0 ? Math.ceil((1000 * this.slots) / rate) + MARGIN_MS : 0;
  }

  get unlimited(): boolean {
    return this.slots === 0;
  }

  private ensureSlots(provider: string): Promise<void> {
    this.initialised ??= this.dataSource
      .query(`INSERT INTO delivery_rate_slots (provider, slot) SELECT $1, s FROM generate_series(0, $2 - 1) s ON CONFLICT DO NOTHING`, [provider, this.slots])
      .then(() => undefined);
    return this.initialised;
  }

  /**
   * Takes the earliest free slot: resolves with a `start()` to call just before the request. Waits (without
   * holding a connection) when the budget is spent; `shouldStop` lets a shutting-down worker give up.
   */
  async acquire(provider: string, shouldStop: () => boolean = () => false): Promise<{ waitMs: number; start: () => Promise<void> } | null> {
    if (this.unlimited) return { waitMs: 0, start: async () => undefined };
    await this.ensureSlots(provider);
    for (;;) {
      if (shouldStop()) return null;
      const rows = returningRows<{ slot: number; wait_ms: string | number }>(
        await this.dataSource.query(
          `WITH s AS (
           SELECT slot, greatest(next_free_at, clock_timestamp()) AS start_at FROM delivery_rate_slots
           WHERE provider = $1 AND slot < $2 ORDER BY next_free_at, slot LIMIT 1 FOR UPDATE SKIP LOCKED)
         UPDATE delivery_rate_slots r SET next_free_at = s.start_at + $3 * interval '1 millisecond', updated_at = now()
         FROM s WHERE r.provider = $1 AND r.slot = s.slot
         RETURNING r.slot, extract(epoch FROM (s.start_at - clock_timestamp())) * 1000 AS wait_ms`,
          [provider, this.slots, this.periodMs],
        ),
      );
      const row = rows[0];
      if (!row) {
        // Every slot is being taken this instant by someone else: try again shortly.
        await sleep(5);
        continue;
      }
      const waitMs = Math.max(0, Number(row.wait_ms));
      return {
        waitMs,
        start: async () => {
          // Measured from the real start: a timer that fired late must not let the next use come early.
          await this.dataSource.query(
            `UPDATE delivery_rate_slots SET next_free_at = greatest(next_free_at, clock_timestamp() + $3 * interval '1 millisecond') WHERE provider = $1 AND slot = $2`,
            [provider, row.slot, this.periodMs],
          );
        },
      };
    }
  }

  /** The provider asked everyone to wait (429, `retry-after`): no slot starts a request before then. */
  async pauseAll(provider: string, ms: number): Promise<void> {
    if (this.unlimited) return;
    await this.ensureSlots(provider);
    await this.dataSource.query(
      `UPDATE delivery_rate_slots SET next_free_at = greatest(next_free_at, clock_timestamp() + $2 * interval '1 millisecond'), updated_at = now() WHERE provider = $1`,
      [provider, ms],
    );
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
