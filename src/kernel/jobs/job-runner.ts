import { randomUUID } from 'node:crypto';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../clock/clock';
import { returningRows } from '../database/returning-rows';
import { runWithLogContext } from '../logging/log-context';
import { Metrics } from '../metrics/metrics';

export type JobOutcome<T> = { ran: true; result: T } | { ran: false; reason: string };

/**
 * Runs a named job at most once at a time across every instance sharing the database. The claim is a short
 * transaction guarded by `pg_try_advisory_xact_lock`, which writes a lease row in `job_locks`; the job itself
 * runs outside any transaction (so it never pins a connection, which PGlite's single session cannot spare),
 * and a crashed holder's lease simply expires.
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger(JobRunner.name);
  private readonly instance = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, { name: string; leaseMs: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  async runExclusive<T>(name: string, leaseMs: number, job: () => Promise<T>): Promise<JobOutcome<T>> {
    // Each run has its own token: finishing can only release this run's lease, never a later holder's.
    const token = `${this.instance}:${randomUUID().slice(0, 8)}`;
    const now = this.clock.now();
    const claimed = await this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`, [`broadsheet:job:${name}`]);
      if (!locked) return false;
      const rows = returningRows(
        await manager.query(
          `INSERT INTO job_locks (name, owner, locked_until, last_started_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE
           SET owner = EXCLUDED.owner, locked_until = EXCLUDED.locked_until,
               last_started_at = EXCLUDED.last_started_at, updated_at = now()
           WHERE job_locks.locked_until <= $4
         RETURNING name`,
          [name, token, new Date(now.getTime() + leaseMs), now],
        ),
      );
      return rows.length === 1;
    });
    if (!claimed) {
      this.metrics?.jobRun(name, 'skipped');
      return { ran: false, reason: `${name} is already running` };
    }

    // A long run (a big send, many model calls) keeps renewing its lease, so nobody else starts it meanwhile.
    this.running.set(token, { name, leaseMs });
    const renew = setInterval(() => void this.renewLeases(), Math.max(1_000, Math.floor(leaseMs / 3)));
    renew.unref();

    let error: unknown;
    const started = process.hrtime.bigint();
    try {
      // Every log line written by the job says which job it belongs to.
      return { ran: true, result: await runWithLogContext({ job: name }, job) };
    } catch (caught) {
      error = caught;
      throw caught;
    } finally {
      clearInterval(renew);
      this.running.delete(token);
      this.metrics?.jobRun(name, error ? 'failed' : 'ok', Number(process.hrtime.bigint() - started) / 1e9);
      await this.dataSource.query(
        `UPDATE job_locks SET locked_until = $3, last_finished_at = $3, last_error = $4, updated_at = now()
         WHERE name = $1 AND owner = $2`,
        [name, token, this.clock.now(), error ? String((error as Error).message ?? error).slice(0, 2000) : null],
      );
      if (error) this.logger.error(`job ${name} failed: ${(error as Error).message}`);
    }
  }

  /** Pushes the lease of every run of this runner still in progress to now + its lease. */
  async renewLeases(): Promise<void> {
    for (const [token, { name, leaseMs }] of this.running) {
      try {
        await this.dataSource.query(`UPDATE job_locks SET locked_until = $3, updated_at = now() WHERE name = $1 AND owner = $2`, [
          name,
          token,
          new Date(this.clock.now().getTime() + leaseMs),
        ]);
      } catch (error) {
        this.logger.warn(`could not renew the lease of ${name}: ${(error as Error).message}`);
      }
    }
  }
}
