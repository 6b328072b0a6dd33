import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { scheduleStage } from '../kernel/jobs/cron-jobs';
import { JobRunner } from '../kernel/jobs/job-runner';
import { IssuesService, type IssueSummary } from '../issues/issues.service';
import { SubscribersService, type LatestIssueLink } from '../subscribers/subscribers.service';
import { DeliveryService, SendStateError } from './delivery.service';

/** A confirmation that commits just after a send froze its audience can carry an earlier timestamp: look back this far. */
const COMMIT_MARGIN_MS = 5 * 60_000;

export type CatchUpOutcome = 'sent' | 'nothing-sent-yet' | 'up-to-date' | 'busy';

/**
 * The welcome's catch-up: a newly confirmed subscriber gets the latest sent issue, through an ordinary catch-up
 * send of it (`DeliveryService.send` on a sent issue: only active subscribers with no copy, never a second copy,
 * since recipients are unique per issue and subscriber). Registered on `SubscribersService.onConfirmed`, so it runs
 * right after each confirmation (in the background: confirming never waits for it), and again on the deliver
 * schedule, which picks up confirmations that came while another send of the issue was live or before a crash.
 * It also tells the welcome email which issue that is.
 */
@Injectable()
export class WelcomeCatchUp implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WelcomeCatchUp.name);
  private current: Promise<CatchUpOutcome> | null = null;
  private again = false;

  constructor(
    private readonly subscribers: SubscribersService,
    private readonly issues: IssuesService,
    private readonly delivery: DeliveryService,
    private readonly dataSource: DataSource,
    private readonly runner: JobRunner,
    private readonly registry: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.subscribers.onConfirmed(async () => {
      void this.kick();
    });
    this.subscribers.provideLatestIssue(async () => {
      const issue = await this.latestSent();
      return issue ? this.link(issue) : null;
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.schedule.enabled) return;
    scheduleStage({ registry: this.registry, runner: this.runner, name: 'catch-up', cron: this.config.schedule.deliver, run: () => this.run(), shared: true });
  }

  /** A pass started by a confirmation finishes before the database closes (a lost one is redone by the schedule). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.idle();
  }

  /** Starts a pass in the background, or asks the running one to go again; failures are logged. */
  private kick(): Promise<CatchUpOutcome> {
    if (this.current) {
      this.again = true;
      return this.current;
    }
    this.current = (async () => {
      let outcome: CatchUpOutcome;
      do {
        this.again = false;
        outcome = await this.run().catch((error: Error) => {
          this.logger.error(`catch-up send failed: ${error.message}`);
          return 'busy' as const;
        });
      } while (this.again);
      return outcome;
    })().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  /** Resolves when no background pass is running (for callers that must see its effect: tests, shutdown). */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  /**
   * One pass: when subscribers confirmed since the latest sent issue's last send started have no copy of it,
   * queues (and freezes) a catch-up send of it; the deliver job sends its batches.
   */
  async run(): Promise<CatchUpOutcome> {
    const issue = await this.latestSent();
    if (!issue) return 'nothing-sent-yet';
    const last = await this.delivery.getSendForIssue(issue.id);
    if (!last?.startedAt) return 'busy';
    const candidates = await this.subscribers.activeConfirmedSince(new Date(last.startedAt.getTime() - COMMIT_MARGIN_MS));
    if (candidates.length === 0) return 'up-to-date';
    const [{ missing }] = await this.dataSource.query(
      `SELECT count(*)::int AS missing FROM unnest($2::uuid[]) c(id)
       WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.issue_id = $1 AND r.subscriber_id = c.id)`,
      [issue.id, candidates],
    );
    if (missing === 0) return 'up-to-date';
    try {
      const send = await this.delivery.send(issue.number);
      this.logger.log(`issue ${issue.number}: catch-up send ${send.number} to ${send.audience} new subscriber(s)`);
      return 'sent';
    } catch (error) {
      // Another send of the issue is live: the next scheduled pass tries again once it has ended.
      if (error instanceof SendStateError) return 'busy';
      throw error;
    }
  }

  private async latestSent(): Promise<IssueSummary | null> {
    return (await this.issues.listPublic(20)).find((i) => i.status === 'sent') ?? null;
  }

  private link(issue: IssueSummary): LatestIssueLink {
    return { number: issue.number, title: issue.title, url: `${this.config.server.publicUrl}/issues/${issue.number}` };
  }
}
