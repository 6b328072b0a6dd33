import { type NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { parseFeed } from 'feedsmith';
import { type MiddlewareConsumer, Module } from '@nestjs/common';
import { FeedsModule } from '../../src/feeds/feeds.module';
import { PublicCache } from '../../src/feeds/public-cache';
import { PublicSite } from '../../src/feeds/public-site';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { PublicSiteMiddleware } from '../../src/feeds/public-site.middleware';
import { WebSubPublisher } from '../../src/feeds/websub.publisher';
import { FeedsService } from '../../src/feeds/feeds.service';
import { IssuesService, type IssueView } from '../../src/issues/issues.service';
import { loadConfig } from '../../src/kernel/config/config';
import { APP_CONFIG } from '../../src/kernel/config/config.module';
import { applyHttpDefaults } from '../../src/kernel/web/security-headers';
import { NarrativesService, type NarrativeView } from '../../src/narratives/narratives.service';
import { buildIssueView, buildNarrativeView } from '../factories/narrative.factory';

/**
 * The site and feed routes over real HTTP (Nest + express, real body parsing), with the services behind them
 * replaced by in-memory stand-ins: routing, status codes, headers, escaping and conditional GET.
 */
describe('site and feeds over HTTP', () => {
  const HEADLINE = 'Devs & "agents" <weekly>';
  let app: NestExpressApplication;
  let url: string;
  let stories: NarrativeView[];
  let issue: IssueView;
  const calls = { issueNumbers: [] as number[] };

  beforeAll(async () => {
    stories = [
      buildNarrativeView({ slug: 'devs-agents', headline: HEADLINE, updatedAt: new Date('2026-11-18T12:00:05.500Z') }, 2),
      buildNarrativeView({ slug: 'offline-one', writer: 'offline', updatedAt: new Date('2026-11-17T12:00:00Z') }, 2),
    ];
    issue = buildIssueView(stories, { number: 1, updatedAt: new Date('2026-11-16T12:00:00Z') });
    const beat = stories[0].beat;
    for (const s of stories) s.beat = beat;

    const narratives: Partial<NarrativesService> = {
      latest: async (_limit: number, beatSlug?: string, offset = 0) => (beatSlug && beatSlug !== beat.slug ? [] : stories.slice(offset)),
      countPublished: async (beatSlug?: string) => (beatSlug && beatSlug !== beat.slug ? 0 : stories.length),
      changeMarker: async () => 'stories-v1',
      getBySlug: async (slug: string) => stories.find((s) => s.slug === slug) ?? null,
      listBeats: async () => [beat],
    };
    const issues: Partial<IssuesService> = {
      listPublic: async () => [issue],
      listPublicWithStories: async () => [issue],
      countPublic: async () => 1,
      changeMarker: async () => 'issues-v1',
      publicIssuesWithStory: async () => [issue],
      getPublicByNumber: async (n: number) => {
        calls.issueNumbers.push(n);
        return n === 1 ? issue : null;
      },
    };
    const config = loadConfig({ PUBLIC_URL: 'https://news.test', SITE_TITLE: 'Broadsheet', PUBLIC_CACHE_CHECK_SECONDS: '0' });

    // FeedsModule's controllers, providers and hot-path middleware, with the services behind them replaced.
    @Module({
      providers: [
        FeedsService,
        PublicCache,
        PublicSite,
        PublicSiteMiddleware,
        WebSubPublisher,
        { provide: NarrativesService, useValue: narratives },
        { provide: IssuesService, useValue: issues },
        // Sign-ups without a challenge (the default): the pages carry no script.
        { provide: SubscribersService, useValue: { challengeKind: 'off' } satisfies Partial<SubscribersService> },
        { provide: APP_CONFIG, useValue: config },
      ],
    })
    class StandInFeedsModule {
      configure(consumer: MiddlewareConsumer): void {
        new FeedsModule().configure(consumer);
      }
    }
    const moduleRef = await Test.createTestingModule({ imports: [StandInFeedsModule] }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    applyHttpDefaults(app);
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('pages', () => {
    it('serves the home page as HTML with the security headers and escaped headlines', async () => {
      const res = await fetch(`${url}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')?.split(/;\s*/)).toEqual(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'".split('; '),
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
      const body = await res.text();
      expect(body).toContain('<a href="/stories/devs-agents">Devs &amp; &quot;agents&quot; &lt;weekly&gt;</a>');
      expect(body).not.toMatch(/offline draft|written by AI/i);
      expect(body).toContain('href="https://news.test/feed.xml"');
    });

    it('serves a story with its sources, and a 404 page for a missing one', async () => {
      const ok = await fetch(`${url}/stories/devs-agents`);
      expect(ok.status).toBe(200);
      const body = await ok.text();
      expect(body).toContain('<sup class="cite"><a href="#cite-1">[1]</a></sup>');
      expect(body).toContain('<li id="cite-1" value="1">');
      expect(body).toContain('rel="nofollow noopener ugc"');
      const missing = await fetch(`${url}/stories/nope`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await missing.text()).toContain('<h1>Not found</h1>');
    });

    it('serves the archive and an issue', async () => {
      expect((await fetch(`${url}/issues`)).status).toBe(200);
      const res = await fetch(`${url}/issues/1`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<a href="/stories/devs-agents#cite-1">[1]</a>');
    });

    it.each(['0', '-1', 'abc', '1.5', '01', '1e3', '99999999999'])('answers 404 (not 500) to /issues/%s without asking for it', async (n) => {
      calls.issueNumbers.length = 0;
      const res = await fetch(`${url}/issues/${n}`);
      expect(res.status).toBe(404);
      expect(calls.issueNumbers).toEqual([]);
    });

    it('serves beat pages, 404 for unknown beats', async () => {
      expect((await fetch(`${url}/beats/${stories[0].beat.slug}`)).status).toBe(200);
      expect((await fetch(`${url}/beats/nope`)).status).toBe(404);
      expect((await fetch(`${url}/beats/nope/feed.xml`)).status).toBe(404);
    });
  });

  describe('feeds', () => {
    it.each([
      ['/feed.xml', 'application/rss+xml; charset=utf-8', 'rss'],
      ['/atom.xml', 'application/atom+xml; charset=utf-8', 'atom'],
      ['/feed.json', 'application/feed+json; charset=utf-8', 'json'],
      ['/issues/feed.xml', 'application/rss+xml; charset=utf-8', 'rss'],
    ])('%s has its content type, caching headers and parses', async (path, type, format) => {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=3600, stale-if-error=86400');
      expect(res.headers.get('last-modified')).toBeTruthy();
      expect(parseFeed(await res.text()).format).toBe(format);
    });

    it('keeps the headline intact in RSS and Atom', async () => {
      const rss = parseFeed(await (await fetch(`${url}/feed.xml`)).text());
      if (rss.format !== 'rss') throw new Error('not rss');
      expect(rss.feed.items![0].title).toBe(HEADLINE);
      const atom = parseFeed(await (await fetch(`${url}/atom.xml`)).text());
      if (atom.format !== 'atom') throw new Error('not atom');
      expect(atom.feed.entries![0].title).toEqual({ value: 'Devs & "agents" <weekly>', type: 'text' });
    });

    it('takes Last-Modified from the newest story', async () => {
      const res = await fetch(`${url}/feed.xml`);
      expect(res.headers.get('last-modified')).toBe('Wed, 18 Nov 2026 12:00:05 GMT');
    });

    it('answers 304 to a matching If-None-Match and 200 to a stale one', async () => {
      const first = await fetch(`${url}/atom.xml`);
      const etag = first.headers.get('etag')!;
      const again = await fetch(`${url}/atom.xml`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=3600, stale-if-error=86400');
      expect(await again.text()).toBe('');
      expect((await fetch(`${url}/atom.xml`, { headers: { 'if-none-match': '"stale"' } })).status).toBe(200);
    });

    it('answers 304 to an If-Modified-Since that is not older, 200 to an older one', async () => {
      const lastModified = (await fetch(`${url}/feed.json`)).headers.get('last-modified')!;
      expect((await fetch(`${url}/feed.json`, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
      expect((await fetch(`${url}/feed.json`, { headers: { 'if-modified-since': 'Wed, 18 Nov 2026 12:00:04 GMT' } })).status).toBe(200);
    });

    it('serves a beat feed', async () => {
      const res = await fetch(`${url}/beats/${stories[0].beat.slug}/feed.xml`);
      expect(res.status).toBe(200);
      const parsed = parseFeed(await res.text());
      if (parsed.format !== 'rss') throw new Error('not rss');
      expect(parsed.feed.title).toBe(`Broadsheet: ${stories[0].beat.name}`);
    });
  });
});
