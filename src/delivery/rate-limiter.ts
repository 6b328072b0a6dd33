import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { returningRows } from '../kernel/database/returning-rows';

/**
 * Slack added to the provider's one-second window: a request reaches the provider a little after the start we
 * record for it, and the recorded starts of `limit + 1` requests are kept at least a second plus this apart, so
 * differences in that last delay up to this much still leave the provider counting at most `limit` in any second.
 */
export const MARGIN_MS = 30;
/** A request that left less than this later than its recorded start keeps that start. */
const CONFIRM_AFTER_MS = 5;
/** How many of its own last requests a process looks at to know how soon after a stamp it can send at the earliest. */
const LATE_SAMPLES = 16;
/** How many recorded starts a process remembers for `recordedStarts()`. */
const KEPT_STARTS = 1024;

export interface RateSlot {
  /** How long until the planned start (ms): the caller may sleep it, or let `start()` do so. */
  waitMs: number;
  /**
   * Resolves when the request may be sent, its start recorded in the shared budget: call it immediately before
   * the request and start the request in the same turn of the event loop. Resolves with the recorded start (epoch
   * ms, the database's clock).
   */
  start(): Promise<number>;
}

interface StampResult {
  ok: boolean;
  /** When rejected: ms until a start would be accepted, by the database's clock. */
  waitMs: number;
  /** When accepted: the start recorded, exactly as the database keeps it (epoch seconds, numeric text). */
  at: string;
}

/**
 * One budget of provider requests shared by every instance, held in PostgreSQL (`delivery_rate_budget`, one row
 * per provider: the last `limit` recorded starts, the next planned start, a pause the provider asked for).
 *
 * **What is kept.** A request is sent only under a start the database accepted. Checking it and recording it is
 * one UPDATE of that row, serialised by its row lock: a start is accepted only at least `windowMs` (a second plus
 * `MARGIN_MS`) after the start recorded `limit` requests before it, at least `minGapMs` after the latest one, and
 * not before a pause ends. So, by the database's clock, any `windowMs` holds at most `limit` recorded starts,
 * whichever instances made them, and no two are back to back. A recorded start is only ever moved later.
 *
 * **Keeping the recorded starts close to what the provider sees.** The provider counts requests when they arrive.
 * - Planned spacing: `acquire` gives each request its own time, `spacingMs` after the one planned before it, so
 *   all instances' requests are spread evenly instead of leaving in bursts, which reach the provider bunched.
 * - Checked when it goes, not when planned: a request whose timer fired late is checked against the starts
 *   actually recorded meanwhile, and waits if it would come too close to them (it does not fire on its plan).
 * - Recorded when it really left: building a 100-message request (serialising the body, handing it to the HTTP
 *   client) takes a while on a busy machine after the stamp came back. When that turn of the event loop is over,
 *   the start is moved to then (`confirm`), so the next requests keep their distance from when it really left.
 * - Each process checks its starts as of when it can send at the earliest (the shortest delay from stamp to
 *   sending among its last requests), instead of losing that delay on every request.
 * What is not promised: a request that spends longer between leaving this process and reaching the provider than
 * others do by more than `MARGIN_MS` (a saturated machine, a slow network) can still meet a 429, which the engine
 * honours (`pauseAll`) and retries; nothing is sent twice or lost.
 */
@Injectable()
export class RateLimiter {
  /** Requests allowed in one window (the provider's limit per second, at least 1). */
  readonly limit: number;
  /** The window: `limit + 1` recorded starts are never closer together than this (ms). */
  readonly windowMs: number;
  /** Planned spacing between requests: the window shared out evenly. */
  readonly spacingMs: number;
  /** No two recorded starts are closer than this: half the planned spacing, so a late one can catch up. */
  readonly minGapMs: number;
  private readonly initialised = new Map<string, Promise<void>>();
  private readonly logger = new Logger('RateLimiter');
  /** How long after its stamp's query each of this process's last requests left (ms). */
  private readonly recentLateMs: number[] = [];
  private readonly starts: number[] = [];
  private readonly confirming = new Set<Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const rate = config.email.ratePerSecond;
    // A fractional rate (0.5/s) is one request per longer window; 2.5/s is two per 800 ms.
    this.limit = rate > 0 ? Math.max(1, Math.floor(rate)) : 0;
    this.windowMs = rate > 0 ? Math.ceil((1000 * this.limit) / rate) + MARGIN_MS : 0;
    this.spacingMs = this.limit ? this.windowMs / this.limit : 0;
    this.minGapMs = this.spacingMs / 2;
  }

  get unlimited(): boolean {
    return this.limit === 0;
  }

  /** The starts this process recorded (epoch ms, database clock, as first recorded), oldest first; the last 1,024. */
  recordedStarts(): readonly number[] {
    return this.starts;
  }

  /** Resolves when every start this process has moved to when its request really left is written. */
  async settled(): Promise<void> {
    await Promise.all([...this.confirming]);
  }

  private ensureBudget(provider: string): Promise<void> {
    let done = this.initialised.get(provider);
    if (!done) {
      done = this.dataSource.query(`INSERT INTO delivery_rate_budget (provider) VALUES ($1) ON CONFLICT DO NOTHING`, [provider]).then(() => undefined);
      done.catch(() => this.initialised.delete(provider));
      this.initialised.set(provider, done);
    }
    return done;
  }

  /**
   * The earliest start the row `b` accepts: a window after the start recorded `limit` requests back, the minimum
   * gap after the latest, and not before a pause ends. Missing starts are NULL, which greatest() ignores.
   * Parameters: $2 limit, $3 window, $4 minimum gap.
   */
  private earliestSql(): string {
    return `greatest(b.starts[cardinality(b.starts) + 1 - $2::int] + $3::float8 * interval '1 millisecond',
                     b.starts[cardinality(b.starts)] + $4::float8 * interval '1 millisecond', b.paused_until)`;
  }

  /** Plans the next start: the next free planned time, never before the earliest accepted start. Returns ms from now. */
  private async plan(provider: string): Promise<number> {
    const rows = returningRows<{ wait_ms: string | number }>(
      await this.dataSource.query(
        `WITH c AS MATERIALIZED (SELECT clock_timestamp() AS t)
         UPDATE delivery_rate_budget b SET planned_at = greatest(b.planned_at, c.t, ${this.earliestSql()}) + $5::float8 * interval '1 millisecond', updated_at = c.t
         FROM c WHERE b.provider = $1
         RETURNING extract(epoch FROM b.planned_at) * 1000 - $5::float8 - extract(epoch FROM clock_timestamp()) * 1000 AS wait_ms`,
        [provider, this.limit, this.windowMs, this.minGapMs, this.spacingMs],
      ),
    );
    return Math.max(0, Number(rows[0]?.wait_ms ?? 0));
  }

  /**
   * Checks a start `leadMs` from now against the starts recorded, and records it when accepted: one UPDATE of the
   * row (the CTE reads the clock once; the row lock serialises concurrent stamps, and one that waited for the lock
   * is checked against the row as the previous one left it).
   */
  private async stamp(provider: string, leadMs: number): Promise<StampResult> {
    const token = randomUUID();
    const start = `c.t + $6::float8 * interval '1 millisecond'`;
    const rows = returningRows<{ ok: boolean | string; at: string; wait_ms: string | number }>(
      await this.dataSource.query(
        `WITH c AS MATERIALIZED (SELECT clock_timestamp() AS t)
         UPDATE delivery_rate_budget b SET
           starts = CASE WHEN ${start} >= ${this.earliestSql()} THEN (b.starts || (${start}))[cardinality(b.starts) + 2 - $2::int:] ELSE b.starts END,
           last_token = CASE WHEN ${start} >= ${this.earliestSql()} THEN $5::uuid ELSE b.last_token END,
           updated_at = c.t
         FROM c WHERE b.provider = $1
         RETURNING b.last_token IS NOT DISTINCT FROM $5::uuid AS ok, extract(epoch FROM ${start})::text AS at,
                   extract(epoch FROM greatest(${this.earliestSql()}, c.t)) * 1000 - extract(epoch FROM clock_timestamp()) * 1000 - $6::float8 AS wait_ms`,
        [provider, this.limit, this.windowMs, this.minGapMs, token, leadMs],
      ),
    );
    const row = rows[0];
    if (!row) throw new Error(`no rate budget row for ${provider}`);
    return { ok: row.ok === true || row.ok === 'true', waitMs: Math.max(0, Number(row.wait_ms)), at: row.at };
  }

  /**
   * Moves a recorded start `lateMs` later, to when its request really left. Moving a start later only makes later
   * checks stricter, so it is safe whenever it lands; a start no longer among the last `limit` is left alone.
   */
  private async confirm(provider: string, at: string, lateMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE delivery_rate_budget b SET updated_at = now(),
         starts = ARRAY(SELECT CASE WHEN extract(epoch FROM s) = $2::numeric THEN s + $3::float8 * interval '1 millisecond' ELSE s END
                        FROM unnest(b.starts) s ORDER BY 1)
       WHERE b.provider = $1 AND EXISTS (SELECT 1 FROM unnest(b.starts) s WHERE extract(epoch FROM s) = $2::numeric)`,
      [provider, at, lateMs],
    );
  }

  private remember(start: number): void {
    this.starts.push(start);
    if (this.starts.length > KEPT_STARTS) this.starts.shift();
  }

  /**
   * Plans a request: resolves with how long until its planned start and a `start()` to call immediately before
   * sending, which resolves once the start is recorded. Holds no connection while waiting. `shouldStop` lets a
   * shutting-down worker give up before it has a plan (null).
   */
  async acquire(provider: string, shouldStop: () => boolean = () => false): Promise<RateSlot | null> {
    if (this.unlimited) return { waitMs: 0, start: async () => Date.now() };
    await this.ensureBudget(provider);
    if (shouldStop()) return null;
    const waitMs = await this.plan(provider);
    let due = performance.now() + waitMs;
    return {
      waitMs,
      start: async () => {
        for (;;) {
          const early = due - performance.now();
          if (early > 0) await sleep(early);
          const asked = performance.now();
          // Each of this process's last 16 requests left at least `lead` after its stamp's query was sent: the
          // start is checked and recorded as of then, the earliest the provider can see it.
          const lead = this.recentLateMs.length === LATE_SAMPLES ? Math.min(...this.recentLateMs) : 0;
          const result = await this.stamp(provider, lead);
          const answered = performance.now();
          if (result.ok) {
            this.remember(Number(result.at) * 1000);
            this.afterThisTurn(provider, result.at, asked, lead);
            return Number(result.at) * 1000;
          }
          if (result.waitMs <= this.spacingMs) {
            // Too close to starts recorded meanwhile (this one is late, or another was): wait just that long.
            due = answered + result.waitMs;
          } else {
            // Far off (the provider asked everyone to pause): plan again, so the waiting requests don't all wake at
            // once when the pause ends but keep their spacing.
            due = answered + (await this.plan(provider));
          }
        }
      },
    };
  }

  /**
   * The caller starts its request as soon as `start()` resolves: serialising the body and handing it to the HTTP
   * client happen in that same turn of the event loop (synchronously and in promise callbacks), and the client
   * writes the headers in a next-tick callback queued meanwhile. A next-tick callback queued from one queued now
   * runs after all of that and before any other I/O: by then the request has left, at most `now - asked` after the
   * stamp's query was sent (by the database's clock the stamp was taken after `asked`).
   */
  private afterThisTurn(provider: string, at: string, asked: number, lead: number): void {
    const done = new Promise<void>((resolve) =>
      process.nextTick(() =>
        process.nextTick(() => {
          const lateMs = performance.now() - asked;
          this.recentLateMs.push(lateMs);
          if (this.recentLateMs.length > LATE_SAMPLES) this.recentLateMs.shift();
          if (lateMs - lead <= CONFIRM_AFTER_MS) return resolve();
          this.confirm(provider, at, lateMs - lead)
            .catch((error: Error) => this.logger.warn(`rate budget: could not record a late start: ${error.message}`))
            .finally(resolve);
        }),
      ),
    );
    this.confirming.add(done);
    void done.then(() => this.confirming.delete(done));
  }

  /** The provider asked everyone to wait (429, `retry-after`): no start is accepted before then. */
  async pauseAll(provider: string, ms: number): Promise<void> {
    if (this.unlimited) return;
    await this.ensureBudget(provider);
    await this.dataSource.query(
      `UPDATE delivery_rate_budget SET paused_until = greatest(paused_until, clock_timestamp() + $2::float8 * interval '1 millisecond'), updated_at = now() WHERE provider = $1`,
      [provider, ms],
    );
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
