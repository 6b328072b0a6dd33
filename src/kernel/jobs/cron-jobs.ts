import { Logger } from '@nestjs/common';
import { type SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { type JobRunner } from './job-runner';

/** Leases outlive any sane run; a crashed instance's lease expires and another instance takes over. */
const LEASE_MS = 30 * 60_000;

/**
 * Registers a stage as a cron job (expression from config) that runs at most once at a time across every
 * instance (JobRunner's advisory-lock-guarded lease). Failures are logged and recorded in job_locks.
 */
export function scheduleStage(input: { registry: SchedulerRegistry; runner: JobRunner; name: string; cron: string; run: () => Promise<unknown> }): void {
  const logger = new Logger(`Job:${input.name}`);
  const job = CronJob.from({
    cronTime: input.cron,
    timeZone: 'UTC',
    onTick: async () => {
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
