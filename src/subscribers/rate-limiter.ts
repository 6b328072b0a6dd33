import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../kernel/clock/clock';
import { returningRows } from '../kernel/database/returning-rows';
import { DomainError } from '../kernel/errors/domain-error';

export class RateLimitedError extends DomainError {
  readonly code: string = 'rate_limited';
  readonly status: number = 429;
  override readonly extensions: Record<string, unknown>;
  constructor(
    message: string,
    readonly retryAt: Date,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.extensions = { retryAt: retryAt.toISOString(), retryAfterSeconds };
  }
}

export interface RateLimit {
  /** A stable name for what is limited: "subscribe-client", "subscribe-address". */
  name: string;
  limit: number;
  windowMs: number;
}

/**
 * Fixed-window counters in PostgreSQL, so every instance sharing the database enforces one limit: one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING hits`, atomic under any concurrency. Keys are hashed by the caller.
 */
@Injectable()
export class RateLimiter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Counts one hit; throws RateLimitedError when this one goes over the limit. */
  async hit(rule: RateLimit, key: string, message: (retryAt: Date, minutes: number) => string): Promise<void> {
    const now = this.clock.now().getTime();
    const windowStart = new Date(now - (now % rule.windowMs));
    const [{ hits }] = await this.dataSource.query(
      `INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES ($1, $2, 1)
       ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
       RETURNING hits`,
      [`${rule.name}:${key}`, windowStart],
    );
    if (hits > rule.limit) {
      const retryAt = new Date(windowStart.getTime() + rule.windowMs);
      const seconds = Math.max(1, Math.ceil((retryAt.getTime() - now) / 1000));
      throw new RateLimitedError(message(retryAt, Math.ceil(seconds / 60)), retryAt, seconds);
    }
  }

  /**
   * Claims `key` once, for anything that must be used at most once across instances (a sign-up challenge): a row of
   * its own bucket dated `until`, so pruning drops it only after that. True for the first claim, false after.
   */
  async claimOnce(key: string, until: Date): Promise<boolean> {
    return (
      returningRows(
        await this.dataSource.query(
          `INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES ($1, $2, 1) ON CONFLICT (bucket, window_start) DO NOTHING RETURNING hits`,
          [`once:${key}`, until],
        ),
      ).length > 0
    );
  }

  /** Drops windows that ended before `before` (run by the mail job). */
  async prune(before: Date): Promise<number> {
    return returningRows(await this.dataSource.query(`DELETE FROM rate_limit_windows WHERE window_start < $1 RETURNING 1`, [before])).length;
  }
}

/** Clients are counted per IPv4 address and per IPv6 /64 (one customer's whole network), IPv4-mapped forms as IPv4. */
export function clientKey(ip: string | null | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.split('%')[0].toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const full = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${full
    .slice(0, 4)
    .map((h) => h.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
