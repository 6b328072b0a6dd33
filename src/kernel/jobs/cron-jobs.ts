import { Logger } from '@nestjs/common';
import { type SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { type JobRunner } from './job-runner';

/** Leases outlive any sane run; a crashed instance's lease expires and another instance takes over. */
const LEASE_MS = 30 * 60_000;

/**
 * Registers a stage as a cron job (expression from config) that runs at most once at a time across every
 * instance (JobRunner's advisory-lock-guarded lease), or, with `shared`, on every instance at once for work that
 * is claimed item by item. Failures are logged (and recorded in job_locks for exclusive stages).
 */
export function scheduleStage(input: {
  registry: SchedulerRegistry;
  runner: JobRunner;
  name: string;
  cron: string;
  run: () => Promise<unknown>;
  shared?: boolean;
}): void {
  const logger = new Logger(`Job:${input.name}`);
  let running = false;
  const job = CronJob.from({
    cronTime: input.cron,
    timeZone: 'UTC',
    onTick: async () => {
      if (input.shared) {
        // Work shared per item with its own claims and leases (delivery): every instance runs it, one pass at a
        // time in this process, behind no job-wide lock that a killed instance could keep for the lease's length.
        if (running) return;
        running = true;
        try {
          await input.run();
        } catch (error) {
          logger.error(`failed: ${(error as Error).message}`);
        } finally {
          running = false;
        }
        return;
      }
      try {
        const outcome = await input.runner.runExclusive(input.name, LEASE_MS, input.run);
        if (!outcome.ran) logger.debug(outcome.reason);
      } catch (error) {
        logger.error(`failed: ${(error as Error).message}`);
      }
    },
  });
  input.registry.addCronJob(input.name, job);
  job.start();
}
