import { Controller, Get, Inject, Logger, Param, Res } from '@nestjs/common';
import { type Response } from 'express';
import { z } from 'zod';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { DomainError } from '../kernel/errors/domain-error';
import { IssuesService } from '../issues/issues.service';
import { NarrativesService } from '../narratives/narratives.service';
import { sendHtml } from './html-response';
import { type SafeHtml } from './pages/html';
import { beatPage, homePage, issuePage, issuesPage, messagePage, notFoundPage, storyPage } from './pages/site-pages';
import { siteInfo, type SiteInfo } from './pages/views';

const HOME_STORIES = 30;
const BEAT_STORIES = 50;

/** Positive integers only (and small enough for an `int` column); anything else is a 404, never a 500. */
const issueNumber = z.string().regex(/^[1-9]\d{0,8}$/).transform(Number);
/** Slugs are what slugify() makes: lowercase letters, digits and hyphens; anything else is a 404 without a query. */
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,199}$/);

interface Rendered {
  status: number;
  page: SafeHtml;
  cache?: 'public' | 'no-store';
  headers?: Record<string, string>;
}

/**
 * The public website. Every page is rendered here, errors included: domain errors become friendly HTML pages with
 * their status instead of the JSON the API filter writes.
 */
@Controller()
export class SiteController {
  private readonly logger = new Logger(SiteController.name);

  constructor(
    private readonly narratives: NarrativesService,
    private readonly issues: IssuesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get site(): SiteInfo {
    return siteInfo(this.config);
  }

  @Get()
  async home(@Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const [stories, beats] = [await this.narratives.latest(HOME_STORIES), await this.narratives.listBeats()];
      return { status: 200, page: homePage(this.site, { stories, beats }), cache: 'public' };
    });
  }

  @Get('stories/:slug')
  async story(@Param('slug') param: string, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = slug.safeParse(param);
      const story = parsed.success ? await this.narratives.getBySlug(parsed.data) : null;
      if (!story) return { status: 404, page: notFoundPage(this.site, 'story') };
      return { status: 200, page: storyPage(this.site, story), cache: 'public' };
    });
  }

  @Get('issues')
  async issueList(@Res() res: Response): Promise<void> {
    await this.render(res, async () => ({ status: 200, page: issuesPage(this.site, await this.issues.listPublic()), cache: 'public' }));
  }

  @Get('issues/:number')
  async issue(@Param('number') param: string, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = issueNumber.safeParse(param);
      const issue = parsed.success ? await this.issues.getPublicByNumber(parsed.data) : null;
      if (!issue) return { status: 404, page: notFoundPage(this.site, 'issue') };
      return { status: 200, page: issuePage(this.site, issue), cache: 'public' };
    });
  }

  @Get('beats/:slug')
  async beat(@Param('slug') param: string, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const beat = (await this.narratives.listBeats()).find((b) => b.slug === param);
      if (!beat) return { status: 404, page: notFoundPage(this.site, 'beat') };
      const stories = await this.narratives.latest(BEAT_STORIES, beat.slug);
      return { status: 200, page: beatPage(this.site, beat, stories), cache: 'public' };
    });
  }

  /** Renders what `work` returns; a domain error becomes a page with its status and message, anything else a 500 page. */
  private async render(res: Response, work: () => Promise<Rendered>): Promise<void> {
    let rendered: Rendered;
    try {
      rendered = await work();
    } catch (error) {
      rendered = this.errorPage(error);
    }
    if (rendered.headers) res.set(rendered.headers);
    sendHtml(res, rendered.status, rendered.page, { cache: rendered.cache ?? 'no-store' });
  }

  private errorPage(error: unknown): Rendered {
    if (error instanceof DomainError) {
      if (error.status === 404) return { status: 404, page: notFoundPage(this.site) };
      const title = error.status === 400 ? 'This did not work' : error.status === 503 ? 'Please try again soon' : 'Something went wrong';
      return { status: error.status, page: messagePage(this.site, { title, message: error.message }) };
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return { status: 500, page: messagePage(this.site, { title: 'Something went wrong', message: 'Something went wrong on our side. Please try again in a moment.' }) };
  }
}
