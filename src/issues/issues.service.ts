import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { weekLabel, type Week } from '../kernel/clock/week';
import { ConflictError, NotFoundError, ValidationError } from '../kernel/errors/domain-error';
import { NarrativeWriter, templateIntro, type IntroBrief } from '../kernel/llm/narrative-writer.port';
import { NarrativesService, type NarrativeView } from '../narratives/narratives.service';
import { IssueStatus, type Issue } from './issue.entity';
import { IssueRepository } from './issue.repository';

/** An issue as other modules see it: a plain view, not the entity (mutating it changes nothing stored). */
export interface IssueSummary {
  id: string;
  number: number;
  weekStart: Date;
  weekEnd: Date;
  title: string;
  intro: string;
  /** The email subject an editor set, or null for the default. */
  subject: string | null;
  /** The inbox preview text an editor set, or null for the intro's opening. */
  preheader: string | null;
  status: IssueStatus;
  approvedAt: Date | null;
  publishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface IssueView extends IssueSummary {
  stories: NarrativeView[];
}

/** What the issue editor shows: the issue with its chosen stories, and the week's other stories ranked by signal. */
export interface IssueEditorView {
  issue: IssueView;
  candidates: NarrativeView[];
}

export function issueSummary(issue: Issue): IssueSummary {
  return {
    id: issue.id,
    number: issue.number,
    weekStart: issue.weekStart,
    weekEnd: issue.weekEnd,
    title: issue.title,
    intro: issue.intro,
    subject: issue.subject ?? null,
    preheader: issue.preheader ?? null,
    status: issue.status,
    approvedAt: issue.approvedAt,
    publishedAt: issue.publishedAt,
    createdAt: issue.createdAt,
    updatedAt: issue.updatedAt,
  };
}

const MAX_INTRO = 4000;
const MAX_TITLE = 200;
const MAX_SUBJECT = 150;
const MAX_PREHEADER = 200;

export class IssueNotFoundError extends NotFoundError {}

@Injectable()
export class IssuesService {
  private readonly logger = new Logger(IssuesService.name);

  constructor(
    private readonly repo: IssueRepository,
    private readonly narratives: NarrativesService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly writer: NarrativeWriter,
  ) {}

  /**
   * Drafts the issue for a week from its best published narratives per beat. Idempotent: an existing issue for
   * the week is returned untouched (editors may have curated it). Returns null when the week has no stories.
   */
  async assemble(week: Week): Promise<IssueSummary | null> {
    const existing = await this.repo.getByWeek(week.start);
    if (existing) return issueSummary(existing);
    const stories = await this.narratives.topOfWeek(week, this.config.issues.storiesPerBeat);
    if (stories.length === 0) {
      this.logger.log(`no published stories for the week of ${weekLabel(week)}: no issue`);
      return null;
    }
    const beats = [...new Set(stories.map((s) => s.beat.name))];
    try {
      return issueSummary(
        await this.repo.create({
          weekStart: week.start,
          weekEnd: week.end,
          title: `The week of ${weekLabel(week)}`,
          intro: `This week: ${stories.length} stories from ${beats.join(', ')} — what the communities we follow argued about, with every claim linked to the posts behind it.`,
          narrativeIds: stories.map((s) => s.id),
        }),
      );
    } catch (error) {
      // Another instance assembled the same week first.
      const raced = await this.repo.getByWeek(week.start);
      if (raced) return issueSummary(raced);
      throw error;
    }
  }

  /**
   * The weekly job: drafts the week's issue, and approves it only when ISSUES_AUTO_APPROVE is on. Otherwise it
   * waits for an editor: nothing goes out without a person.
   */
  async assembleWeekly(week: Week): Promise<IssueSummary | null> {
    const issue = await this.assemble(week);
    if (!issue) return null;
    if (this.config.issues.autoApprove && issue.status === IssueStatus.Draft) return this.approve(issue.id);
    return issue;
  }

  async approve(issueId: string): Promise<IssueSummary> {
    const changed = await this.repo.setStatus(issueId, [IssueStatus.Draft], IssueStatus.Approved, this.clock.now());
    const issue = await this.repo.getById(issueId);
    if (!issue) throw new IssueNotFoundError(`issue ${issueId} does not exist`);
    if (!changed && issue.status !== IssueStatus.Approved) throw new ConflictError(`issue ${issue.number} is ${issue.status}, not a draft`);
    if (changed) this.logger.log(`issue ${issue.number} approved`);
    return issueSummary(issue);
  }

  /** Every issue, drafts included, newest first (editors and the CLI). */
  async list(limit = 100): Promise<IssueSummary[]> {
    return (await this.repo.list(limit)).map(issueSummary);
  }

  /** An issue of any status by its number, with its stories; fails with IssueNotFoundError. */
  async getByNumber(number: number): Promise<IssueView> {
    const issue = Number.isSafeInteger(number) ? await this.repo.getByNumber(number) : null;
    if (!issue) throw new IssueNotFoundError(`There is no issue ${number}.`);
    return this.view(issue);
  }

  /** The issue with its stories in order, and the week's other published stories ranked by signal. */
  async editorView(number: number): Promise<IssueEditorView> {
    const issue = await this.getByNumber(number);
    const chosen = new Set(issue.stories.map((s) => s.id));
    const week = await this.narratives.topOfWeek({ start: issue.weekStart, end: issue.weekEnd }, 1000);
    return { issue, candidates: week.filter((n) => !chosen.has(n.id)) };
  }

  private async draftIssue(number: number): Promise<Issue> {
    const issue = Number.isSafeInteger(number) ? await this.repo.getByNumber(number) : null;
    if (!issue) throw new IssueNotFoundError(`There is no issue ${number}.`);
    if (issue.status !== IssueStatus.Draft) throw new ConflictError(`Issue ${number} is ${issue.status}: only a draft can be changed.`);
    return issue;
  }

  private async writeEntries(issue: Issue, ids: string[]): Promise<IssueView> {
    if (!(await this.repo.setEntries(issue.id, ids, IssueStatus.Draft)))
      throw new ConflictError(`Issue ${issue.number} is no longer a draft: only a draft can be changed.`);
    return this.getByNumber(issue.number);
  }

  /** Adds a published story of any week to the issue, at `position` (0-based) or at the end. */
  async include(number: number, narrativeId: string, position?: number): Promise<IssueView> {
    const issue = await this.draftIssue(number);
    const current = await this.repo.entries(issue.id);
    if (current.includes(narrativeId)) throw new ConflictError('That story is in the issue already.');
    const [story] = await this.narratives.getPublishedByIds(isUuid(narrativeId) ? [narrativeId] : []);
    if (!story) throw new NotFoundError(`There is no published story ${narrativeId}.`);
    const at = position === undefined ? current.length : Math.max(0, Math.min(position, current.length));
    current.splice(at, 0, narrativeId);
    return this.writeEntries(issue, current);
  }

  async drop(number: number, narrativeId: string): Promise<IssueView> {
    const issue = await this.draftIssue(number);
    const current = await this.repo.entries(issue.id);
    if (!current.includes(narrativeId)) throw new NotFoundError('That story is not in the issue.');
    return this.writeEntries(
      issue,
      current.filter((id) => id !== narrativeId),
    );
  }

  /** Puts the issue's stories in the order given, which must name each of them exactly once. */
  async reorder(number: number, narrativeIds: string[]): Promise<IssueView> {
    const issue = await this.draftIssue(number);
    const current = await this.repo.entries(issue.id);
    const same = narrativeIds.length === current.length && new Set(narrativeIds).size === current.length && narrativeIds.every((id) => current.includes(id));
    if (!same)
      throw new ValidationError("The new order must list each of the issue's stories exactly once.", [
        { field: 'narrativeIds', message: `each of the ${current.length} stories of the issue exactly once` },
      ]);
    return this.writeEntries(issue, narrativeIds);
  }

  /** Title, intro, subject and preheader of a draft; an empty subject or preheader returns to the default. */
  async updateCopy(number: number, changes: { title?: string; intro?: string; subject?: string | null; preheader?: string | null }): Promise<IssueView> {
    const issue = await this.draftIssue(number);
    const errors: Array<{ field: string; message: string }> = [];
    const text = (field: string, value: string | null | undefined, max: number, required: boolean): string | null | undefined => {
      if (value === undefined) return undefined;
      const trimmed = (value ?? '').replace(/\r\n/g, '\n').trim();
      if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(trimmed)) errors.push({ field, message: 'no control characters' });
      if ((field === 'subject' || field === 'preheader' || field === 'title') && /\n/.test(trimmed)) errors.push({ field, message: 'one line' });
      if (trimmed.length > max) errors.push({ field, message: `at most ${max} characters` });
      if (required && trimmed.length === 0) errors.push({ field, message: 'must not be empty' });
      return trimmed.length ? trimmed : required ? trimmed : null;
    };
    const update = {
      title: text('title', changes.title, MAX_TITLE, true),
      intro: text('intro', changes.intro, MAX_INTRO, false) ?? (changes.intro === undefined ? undefined : ''),
      subject: text('subject', changes.subject, MAX_SUBJECT, false),
      preheader: text('preheader', changes.preheader, MAX_PREHEADER, false),
    };
    if (errors.length) throw new ValidationError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
    const defined = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
    if (Object.keys(defined).length && !(await this.repo.updateCopy(issue.id, defined, IssueStatus.Draft)))
      throw new ConflictError(`Issue ${number} is no longer a draft.`);
    return this.getByNumber(number);
  }

  /**
   * A suggested intro from the chosen stories, by the narrative writer (Claude when a key is set, else a
   * template); an editor edits it before it is saved. A failed model call falls back to the template and says why.
   */
  async draftIntro(number: number): Promise<{ intro: string; writer: 'claude' | 'template'; model: string | null; warning: string | null }> {
    const issue = await this.getByNumber(number);
    const brief: IntroBrief = { stories: issue.stories.map((s) => ({ headline: s.headline, dek: s.dek, beat: s.beat.name })) };
    if (brief.stories.length === 0) return { intro: templateIntro(brief), writer: 'template', model: null, warning: null };
    try {
      const draft = await this.writer.writeIntro(brief);
      return { intro: draft.intro, writer: draft.writer === 'claude' ? 'claude' : 'template', model: draft.model, warning: null };
    } catch (error) {
      this.logger.warn(`issue ${number}: the intro writer failed: ${(error as Error).message}`);
      return {
        intro: templateIntro(brief),
        writer: 'template',
        model: null,
        warning: `The ${this.writer.name} writer could not draft the intro (${(error as Error).message}); this is the template.`,
      };
    }
  }

  async markSent(issueId: string): Promise<void> {
    await this.repo.setStatus(issueId, [IssueStatus.Approved], IssueStatus.Sent, this.clock.now());
  }

  /** Approved issues nobody has sent yet. */
  async readyToSend(): Promise<IssueSummary[]> {
    return (await this.repo.listByStatus(IssueStatus.Approved)).map(issueSummary);
  }

  async listPublic(limit = 100, offset = 0): Promise<IssueSummary[]> {
    return (await this.repo.listPublic(limit, offset)).map(issueSummary);
  }

  /** The public issues that carried a story, newest first. */
  async publicIssuesWithStory(narrativeId: string): Promise<IssueSummary[]> {
    return (await this.repo.publicContaining(narrativeId)).map(issueSummary);
  }

  countPublic(): Promise<number> {
    return this.repo.countPublic();
  }

  /** An opaque value that changes whenever an issue or its entries change (for caches). */
  changeMarker(): Promise<string> {
    return this.repo.changeMarker();
  }

  /** The newest public issues, each with its stories. */
  async listPublicWithStories(limit: number, offset = 0): Promise<IssueView[]> {
    const views: IssueView[] = [];
    for (const issue of await this.repo.listPublic(limit, offset)) views.push(await this.view(issue));
    return views;
  }

  async getPublicByNumber(number: number): Promise<IssueView | null> {
    const issue = await this.repo.getByNumber(number);
    if (!issue || issue.status === IssueStatus.Draft) return null;
    return this.view(issue);
  }

  async getView(issueId: string): Promise<IssueView> {
    const issue = await this.repo.getById(issueId);
    if (!issue) throw new IssueNotFoundError(`issue ${issueId} does not exist`);
    return this.view(issue);
  }

  /** An issue with its stories in order; a story held since it was chosen (rewritten below the fidelity bar) is left out. */
  private async view(issue: Issue): Promise<IssueView> {
    return { ...issueSummary(issue), stories: await this.narratives.getPublishedByIds(await this.repo.entries(issue.id)) };
  }
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
