import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../clock/clock';
import { returningRows } from '../database/returning-rows';

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
  private readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async runExclusive<T>(name: string, leaseMs: number, job: () => Promise<T>): Promise<JobOutcome<T>> {
    const now = this.clock.now();
    const claimed = await this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`, [`broadsheet:job:${name}`]);
      if (!locked) return false;
      const rows = returningRows(await manager.query(
        `INSERT INTO job_locks (name, owner, locked_until, last_started_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE
           SET owner = EXCLUDED.owner, locked_until = EXCLUDED.locked_until,
               last_started_at = EXCLUDED.last_started_at, updated_at = now()
           WHERE job_locks.locked_until <= $4
         RETURNING name`,
        [name, this.owner, new Date(now.getTime() + leaseMs), now],
      ));
      return rows.length === 1;
    });
    if (!claimed) return { ran: false, reason: `${name} is already running` };

    let error: unknown;
    try {
      return { ran: true, result: await job() };
    } catch (caught) {
      error = caught;
      throw caught;
    } finally {
      await this.dataSource.query(
        `UPDATE job_locks SET locked_until = $3, last_finished_at = $3, last_error = $4, updated_at = now()
         WHERE name = $1 AND owner = $2`,
        [name, this.owner, this.clock.now(), error ? String((error as Error).message ?? error).slice(0, 2000) : null],
      );
      if (error) this.logger.error(`job ${name} failed: ${(error as Error).message}`);
    }
  }
}
