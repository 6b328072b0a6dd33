import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { previousWeek, weekContaining, type Week } from '../kernel/clock/week';
import { scheduleStage } from '../kernel/jobs/cron-jobs';
import { JobRunner } from '../kernel/jobs/job-runner';
import { ConflictError } from '../kernel/errors/domain-error';
import { SourcesService, type PollSummary } from '../sources/sources.service';
import { NarrativesService, type BuildSummary } from '../narratives/narratives.service';
import { IssuesService } from '../issues/issues.service';
import { DeliveryService, type DeliveryRunSummary } from '../delivery/delivery.service';

/**
 * The pipeline's stages as scheduled jobs (crons from config, each run once across instances), plus a
 * one-shot run of every stage used at first boot and by tests.
 */
export const PIPELINE_STAGES = ['poll', 'build', 'assemble', 'deliver'] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export type StageResult =
  | { stage: 'poll'; polls: PollSummary[] }
  | { stage: 'build'; narratives: BuildSummary[] }
  | { stage: 'assemble'; issue: { number: number; status: string; title: string } | null }
  | { stage: 'deliver'; delivery: DeliveryRunSummary };

export class JobBusyError extends ConflictError {
  override readonly code = 'job_running';
}

@Injectable()
export class PipelineService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PipelineService.name);

  constructor(
    private readonly sources: SourcesService,
    private readonly narratives: NarrativesService,
    private readonly issues: IssuesService,
    private readonly delivery: DeliveryService,
    private readonly runner: JobRunner,
    private readonly registry: SchedulerRegistry,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.schedule.enabled) return;
    const s = this.config.schedule;
    scheduleStage({ registry: this.registry, runner: this.runner, name: 'poll-sources', cron: s.pollSources, run: () => this.sources.pollDue() });
    scheduleStage({ registry: this.registry, runner: this.runner, name: 'build-narratives', cron: s.buildNarratives, run: () => this.buildRecentWeeks() });
    scheduleStage({
      registry: this.registry,
      runner: this.runner,
      name: 'assemble-issue',
      cron: s.assembleIssue,
      run: () => this.issues.assembleWeekly(previousWeek(weekContaining(this.clock.now()))),
    });
    scheduleStage({ registry: this.registry, runner: this.runner, name: 'deliver', cron: s.deliver, run: () => this.delivery.run(), shared: true });
  }

  /** This week and last week (late posts still reach last week's storylines before Monday's issue). */
  async buildRecentWeeks(): Promise<BuildSummary[]> {
    const current = weekContaining(this.clock.now());
    return [...(await this.narratives.build(previousWeek(current))), ...(await this.narratives.build(current))];
  }

  /**
   * Runs one stage now, whatever its schedule, as the scheduler would (`broadsheet run`): `poll` every active
   * source, `build` this and last week's narratives, `assemble` last week's issue, `deliver` approved issues.
   * Each takes the same job lock as its scheduled run, so it never overlaps one on another instance.
   */
  async runStage(stage: PipelineStage): Promise<StageResult> {
    const lease = 30 * 60_000;
    const outcome = await (async () => {
      switch (stage) {
        case 'poll':
          return this.runner.runExclusive('poll-sources', lease, async () => ({ stage, polls: await this.sources.pollAll() }) as StageResult);
        case 'build':
          return this.runner.runExclusive('build-narratives', lease, async () => ({ stage, narratives: await this.buildRecentWeeks() }) as StageResult);
        case 'assemble':
          return this.runner.runExclusive('assemble-issue', lease, async () => {
            const issue = await this.issues.assemble(previousWeek(weekContaining(this.clock.now())));
            return { stage, issue: issue ? { number: issue.number, status: issue.status, title: issue.title } : null } as StageResult;
          });
        case 'deliver':
          return this.runner.runExclusive('deliver', lease, async () => ({ stage, delivery: await this.delivery.run() }) as StageResult);
      }
    })();
    if (!outcome.ran) throw new JobBusyError(`${outcome.reason} on another instance or process: try again when it ends`);
    return outcome.result;
  }

  /**
   * Runs every stage once for the week of the newest record (the bundled demo week on a fresh install):
   * poll, cluster and write, assemble the issue, approve it if asked (or ISSUES_AUTO_APPROVE is on), deliver it.
   */
  async runOnce(options: { approve: boolean }): Promise<{ week: Week | null; issueNumber: number | null }> {
    const outcome = await this.runner.runExclusive('pipeline-once', 30 * 60_000, async () => {
      const polls = await this.sources.pollAll();
      this.logger.log(`polled ${polls.length} sources: ${polls.reduce((n, p) => n + p.new, 0)} new records, ${polls.filter((p) => !p.ok).length} failed`);
      const latest = await this.sources.latestRecordAt();
      if (!latest) return { week: null, issueNumber: null };
      const week = weekContaining(latest);
      const built = await this.narratives.build(week);
      this.logger.log(
        `narratives: ${built.map((b) => `${b.beat} ${b.written} written/${b.held} held/${b.failed} failed of ${b.storylines} storylines`).join('; ')}`,
      );
      const issue = await this.issues.assemble(week);
      if (!issue) return { week, issueNumber: null };
      // Nothing goes out without a person, unless the caller (the demo's first run) or ISSUES_AUTO_APPROVE says so.
      if (options.approve || this.config.issues.autoApprove) await this.issues.approve(issue.id);
      const delivered = await this.delivery.run();
      this.logger.log(`delivery: ${delivered.sendsStarted} sends started, ${delivered.batchesSent} batches sent, ${delivered.batchesFailed} failed`);
      return { week, issueNumber: issue.number };
    });
    return outcome.ran ? outcome.result : { week: null, issueNumber: null };
  }
}
