import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { weekLabel, type Week } from '../kernel/clock/week';
import { ConflictError, NotFoundError } from '../kernel/errors/domain-error';
import { NarrativesService, type NarrativeView } from '../narratives/narratives.service';
import { IssueStatus, type Issue } from './issue.entity';
import { IssueRepository } from './issue.repository';

export interface IssueView extends Issue {
  stories: NarrativeView[];
}

export class IssueNotFoundError extends NotFoundError {}

@Injectable()
export class IssuesService {
  private readonly logger = new Logger(IssuesService.name);

  constructor(
    private readonly repo: IssueRepository,
    private readonly narratives: NarrativesService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Drafts the issue for a week from its best published narratives per beat. Idempotent: an existing issue for
   * the week is returned untouched (editors may have curated it). Returns null when the week has no stories.
   */
  async assemble(week: Week): Promise<Issue | null> {
    const existing = await this.repo.getByWeek(week.start);
    if (existing) return existing;
    const stories = await this.narratives.topOfWeek(week, this.config.issues.storiesPerBeat);
    if (stories.length === 0) {
      this.logger.log(`no published stories for the week of ${weekLabel(week)}: no issue`);
      return null;
    }
    const beats = [...new Set(stories.map((s) => s.beat.name))];
    try {
      return await this.repo.create({
        weekStart: week.start,
        weekEnd: week.end,
        title: `The week of ${weekLabel(week)}`,
        intro: `This week: ${stories.length} stories from ${beats.join(', ')} — what the communities we follow argued about, with every claim linked to the posts behind it.`,
        narrativeIds: stories.map((s) => s.id),
      });
    } catch (error) {
      // Another instance assembled the same week first.
      const raced = await this.repo.getByWeek(week.start);
      if (raced) return raced;
      throw error;
    }
  }

  async approve(issueId: string): Promise<Issue> {
    const changed = await this.repo.setStatus(issueId, [IssueStatus.Draft], IssueStatus.Approved, this.clock.now());
    const issue = await this.repo.getById(issueId);
    if (!issue) throw new IssueNotFoundError(`issue ${issueId} does not exist`);
    if (!changed && issue.status !== IssueStatus.Approved) throw new ConflictError(`issue ${issue.number} is ${issue.status}, not a draft`);
    return issue;
  }

  async markSent(issueId: string): Promise<void> {
    await this.repo.setStatus(issueId, [IssueStatus.Approved], IssueStatus.Sent, this.clock.now());
  }

  /** Approved issues nobody has sent yet. */
  readyToSend(): Promise<Issue[]> {
    return this.repo.listByStatus(IssueStatus.Approved);
  }

  listPublic(limit = 100): Promise<Issue[]> {
    return this.repo.listPublic(limit);
  }

  /** The newest public issues, each with its stories. */
  async listPublicWithStories(limit: number): Promise<IssueView[]> {
    const views: IssueView[] = [];
    for (const issue of await this.repo.listPublic(limit)) views.push(await this.view(issue));
    return views;
  }

  async getPublicByNumber(number: number): Promise<IssueView | null> {
    const issue = await this.repo.getByNumber(number);
    if (!issue || issue.status === IssueStatus.Draft) return null;
    return this.view(issue);
  }

  /** Every issue, drafts included, newest first (editors and the CLI). */
  list(limit = 100): Promise<Issue[]> {
    return this.repo.list(limit);
  }

  /** An issue of any status by its number, with its stories; fails with IssueNotFoundError. */
  async getByNumber(number: number): Promise<IssueView> {
    const issue = await this.repo.getByNumber(number);
    if (!issue) throw new IssueNotFoundError(`issue #${number} does not exist`);
    return this.view(issue);
  }

  async getView(issueId: string): Promise<IssueView> {
    const issue = await this.repo.getById(issueId);
    if (!issue) throw new IssueNotFoundError(`issue ${issueId} does not exist`);
    return this.view(issue);
  }

  /** An issue with its stories in order; a story held since it was chosen (rewritten below the fidelity bar) is left out. */
  private async view(issue: Issue): Promise<IssueView> {
    return Object.assign(issue, { stories: await this.narratives.getPublishedByIds(await this.repo.entries(issue.id)) });
  }
}
