import { Inject, Injectable } from '@nestjs/common';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { IssuesService } from '../issues/issues.service';
import { NarrativesService } from '../narratives/narratives.service';
import { FEED_FORMATS, FEED_FILES, type FeedFormat } from './feed-builder';
import { FeedsService, type FeedTopic } from './feeds.service';
import { faviconIco, FAVICON_SVG } from './pages/favicon';
import { type SafeHtml } from '../kernel/web/html';
import { beatPage, homePage, issuePage, issuesPage, notFoundPage, storyPage } from './pages/site-pages';
import { robotsTxt, sitemapXml } from './pages/seo';
import { siteInfo, type SiteInfo } from './pages/views';
import { type Resource } from './public-cache';
import { CHALLENGE_PAGE_POLICY } from './pages/signup-challenge-script';
import { SubscribersService } from '../subscribers/subscribers.service';

export const FEED_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=3600, stale-if-error=86400';
export const PAGE_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=600, stale-if-error=86400';
const STATIC_CACHE_CONTROL = 'public, max-age=86400, stale-while-revalidate=604800';

/** Stories on a beat page, issues on an archive page. */
export const BEAT_PAGE_SIZE = 20;
export const ISSUES_PAGE_SIZE = 20;
/** Stories in the home page's sections. */
const HOME_STORIES = 40;
const SITEMAP_STORIES = 1000;

/** Slugs are what slugify() makes; anything else is not ours and never reaches the database. */
const SLUG = '[a-z0-9][a-z0-9-]{0,199}';
const FEED_PATH = new RegExp(`^(?:/issues|/beats/(${SLUG}))?/(feed\\.xml|atom\\.xml|feed\\.json)$`);
const STORY_PATH = new RegExp(`^/stories/(${SLUG})$`);
const BEAT_PATH = new RegExp(`^/beats/(${SLUG})$`);
const ISSUE_PATH = /^\/issues\/([1-9]\d{0,8})$/;

export interface Route {
  /** Cache key: the path and the one query parameter that matters (`page`). */
  key: string;
  /** What a 404 calls the thing: "story", "beat", … */
  what: string;
  /** The route's template, e.g. `/stories/:slug` (for metrics labels). */
  template: string;
  render: () => Promise<Resource | null>;
}

const FORMAT_BY_FILE = Object.fromEntries(FEED_FORMATS.map((f) => [FEED_FILES[f], f])) as Record<string, FeedFormat>;

/** A page; one with the sign-up panel's proof-of-work script (`site.signupChallenge`) gets the policy that lets it run. */
function htmlResource(page: SafeHtml, site: SiteInfo, lastModified: Date | null = null): Resource {
  return {
    contentType: 'text/html; charset=utf-8',
    body: page.toString(),
    lastModified,
    cacheControl: PAGE_CACHE_CONTROL,
    ...(site.signupChallenge ? { headers: { 'Content-Security-Policy': CHALLENGE_PAGE_POLICY } } : {}),
  };
}

/** `?page=N` (N ≥ 1, default 1); null for anything else, so `?page=x` is a 404 rather than page 1 under another key. */
export function pageParam(query: string): number | null {
  const value = new URLSearchParams(query).get('page');
  if (value === null) return 1;
  return /^[1-9]\d{0,5}$/.test(value) ? Number(value) : null;
}

/** Which public GET routes exist and how each renders; the middleware and the cache do the HTTP. */
@Injectable()
export class PublicSite {
  constructor(
    private readonly feeds: FeedsService,
    private readonly narratives: NarrativesService,
    private readonly issues: IssuesService,
    private readonly subscribers: SubscribersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get info(): SiteInfo {
    return siteInfo(this.config);
  }

  /** The site info with the beats for the navigation, and whether the sign-up panel carries the challenge script. */
  private async withBeats(): Promise<SiteInfo> {
    const beats = await this.narratives.listBeats();
    return {
      ...this.info,
      beats: beats.map((b) => ({ slug: b.slug, name: b.name, description: b.description })),
      signupChallenge: this.subscribers.challengeKind === 'pow',
    };
  }

  async notFound(what: string): Promise<SafeHtml> {
    return notFoundPage(await this.withBeats(), what);
  }

  /** The route for a request URL, or null when it is not a public GET route (Nest handles it). */
  match(url: string): Route | null {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const page = pageParam(query);
    const key = page === null ? `${path}?page=invalid` : page > 1 ? `${path}?page=${page}` : path;
    const route = (what: string, template: string, render: (page: number) => Promise<Resource | null>): Route => ({
      key,
      what,
      template,
      render: () => (page === null ? Promise.resolve(null) : render(page)),
    });

    const feed = FEED_PATH.exec(path);
    if (feed) {
      const topic: FeedTopic = path.startsWith('/issues/') ? { kind: 'issues' } : feed[1] ? { kind: 'beat', slug: feed[1] } : { kind: 'stories' };
      return route('feed', feed[1] ? `/beats/:slug/${feed[2]}` : path, (n) => this.feedResource(topic, FORMAT_BY_FILE[feed[2]], n));
    }
    if (path === '/') return route('page', '/', async (n) => (n === 1 ? this.home() : null));
    const story = STORY_PATH.exec(path);
    if (story) return route('story', '/stories/:slug', async (n) => (n === 1 ? this.story(story[1]) : null));
    const beat = BEAT_PATH.exec(path);
    if (beat) return route('beat', '/beats/:slug', (n) => this.beat(beat[1], n));
    if (path === '/issues') return route('page', '/issues', (n) => this.issueArchive(n));
    const issue = ISSUE_PATH.exec(path);
    if (issue) return route('issue', '/issues/:number', async (n) => (n === 1 ? this.issue(Number(issue[1])) : null));
    if (path === '/robots.txt')
      return route('file', path, async () => ({
        contentType: 'text/plain; charset=utf-8',
        body: robotsTxt(this.info),
        lastModified: null,
        cacheControl: STATIC_CACHE_CONTROL,
      }));
    if (path === '/sitemap.xml') return route('file', path, () => this.sitemap());
    if (path === '/favicon.ico')
      return route('file', path, async () => ({ contentType: 'image/x-icon', body: faviconIco(), lastModified: null, cacheControl: STATIC_CACHE_CONTROL }));
    if (path === '/favicon.svg')
      return route('file', path, async () => ({ contentType: 'image/svg+xml', body: FAVICON_SVG, lastModified: null, cacheControl: STATIC_CACHE_CONTROL }));
    return null;
  }

  private async feedResource(topic: FeedTopic, format: FeedFormat, page: number): Promise<Resource | null> {
    const feed = await this.feeds.feed(topic, format, page);
    if (!feed) return null;
    return {
      contentType: feed.contentType,
      body: feed.body,
      lastModified: feed.lastModified,
      cacheControl: FEED_CACHE_CONTROL,
      // Feeds are for other sites' readers too: any origin may fetch them.
      headers: {
        Link: feed.links.join(', '),
        'X-Content-Type-Options': 'nosniff',
        'Access-Control-Allow-Origin': '*',
        'Cross-Origin-Resource-Policy': 'cross-origin',
      },
    };
  }

  private async home(): Promise<Resource> {
    const site = await this.withBeats();
    const [stories, latestIssue] = [await this.narratives.latest(HOME_STORIES), (await this.issues.listPublic(1))[0] ?? null];
    return htmlResource(homePage(site, { stories, beats: site.beats ?? [], latestIssue }), site);
  }

  private async story(slug: string): Promise<Resource | null> {
    const story = await this.narratives.getBySlug(slug);
    if (!story) return null;
    const site = await this.withBeats();
    const beatStories = await this.narratives.latest(50, story.beat.slug);
    const index = beatStories.findIndex((s) => s.slug === story.slug);
    const related = beatStories.filter((s) => s.slug !== story.slug).slice(0, 4);
    const more = (await this.narratives.latest(12)).filter((s) => s.beat.slug !== story.beat.slug).slice(0, 4);
    const issues = await this.issues.publicIssuesWithStory(story.id);
    return htmlResource(
      storyPage(site, story, {
        related,
        more,
        issues,
        // Newer is "next", older is "previous", within the beat.
        next: index > 0 ? beatStories[index - 1] : null,
        previous: index >= 0 && index < beatStories.length - 1 ? beatStories[index + 1] : null,
      }),
      site,
      story.updatedAt,
    );
  }

  private async beat(slug: string, page: number): Promise<Resource | null> {
    const site = await this.withBeats();
    const beat = site.beats?.find((b) => b.slug === slug);
    if (!beat) return null;
    const pages = Math.max(1, Math.ceil((await this.narratives.countPublished(slug)) / BEAT_PAGE_SIZE));
    if (page > pages) return null;
    const stories = await this.narratives.latest(BEAT_PAGE_SIZE, slug, (page - 1) * BEAT_PAGE_SIZE);
    return htmlResource(beatPage(site, beat, stories, { page, pages }), site);
  }

  private async issueArchive(page: number): Promise<Resource | null> {
    const pages = Math.max(1, Math.ceil((await this.issues.countPublic()) / ISSUES_PAGE_SIZE));
    if (page > pages) return null;
    const issues = await this.issues.listPublic(ISSUES_PAGE_SIZE, (page - 1) * ISSUES_PAGE_SIZE);
    const site = await this.withBeats();
    return htmlResource(issuesPage(site, issues, { page, pages }), site);
  }

  private async issue(number: number): Promise<Resource | null> {
    const issue = await this.issues.getPublicByNumber(number);
    if (!issue) return null;
    const site = await this.withBeats();
    return htmlResource(issuePage(site, issue), site);
  }

  private async sitemap(): Promise<Resource> {
    const site = await this.withBeats();
    const [stories, issues] = [await this.narratives.latest(SITEMAP_STORIES), await this.issues.listPublic(1000)];
    return {
      contentType: 'application/xml; charset=utf-8',
      body: sitemapXml(site, { stories, issues, beats: site.beats ?? [] }),
      lastModified: null,
      cacheControl: PAGE_CACHE_CONTROL,
    };
  }
}
