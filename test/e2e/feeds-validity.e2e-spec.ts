import RssParser from 'rss-parser';
import { DataSource } from 'typeorm';
import { runDemoIfEmpty } from '../../src/bootstrap';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { HOSTILE_IN_XML, seedGeneratedYear } from '../factories/generated-year.factory';
import { checkEverywhere, prerequisites, type Doc } from '../support/feed-parsers';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The validity run: every feed (stories, issues, each beat; RSS, Atom and JSON Feed; every archive page) of the demo,
 * of an empty site and of a generated year (52 issues, 312 stories, hostile text in every third) parses with no error
 * in every reader of test/support/feed-parsers.ts, which agree on each entry's title, link, author and date; the JSON
 * Feed of each page agrees with its RSS twin.
 *
 * Needs Debian's python3-feedparser and newsboat (`apt-get install -y python3-feedparser newsboat`; .ci/run installs
 * them when missing). Without them the first test fails and says so: it never skips.
 */

/** Every page of every feed of the site: page 1, 2, … until the first 404. */
async function allFeeds(url: string, beats: string[]): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const folder of ['', '/issues', ...beats.map((slug) => `/beats/${slug}`)]) {
    for (const [file, format] of [
      ['feed.xml', 'rss'],
      ['atom.xml', 'atom'],
      ['feed.json', 'json'],
    ] as const) {
      for (let page = 1; ; page++) {
        const path = `${folder}/${file}${page > 1 ? `?page=${page}` : ''}`;
        const res = await fetch(url + path);
        if (res.status === 404 && page > 1) break;
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        docs.push({ path, format, body: await res.text() });
        if (page > 60) throw new Error(`${path}: more pages than any site here has`);
      }
    }
  }
  return docs;
}

describe('feed validity run', () => {
  it('has the Debian parsers it needs (python3-feedparser, newsboat)', () => {
    expect({ missing: prerequisites(), install: 'apt-get install -y python3-feedparser newsboat' }).toEqual({ missing: [], install: expect.any(String) });
  });

  describe('of a generated year of hostile content', () => {
    let t: TestApp;
    let docs: Doc[];
    let year: Awaited<ReturnType<typeof seedGeneratedYear>>;

    beforeAll(async () => {
      t = await startTestApp({ DEMO: 'false' });
      year = await seedGeneratedYear(t.get(DataSource), { weeks: 52, perWeek: 6 });
      docs = await allFeeds(
        t.url,
        year.beats.map((b) => b.slug),
      );
    }, 600_000);

    afterAll(async () => {
      await t?.close();
    });

    it('has every story and issue in its archive pages, and every parser reads and agrees on every page', async () => {
      const byPath = await checkEverywhere(docs);
      const storyLinks = new Set([...byPath].filter(([p]) => p.startsWith('/feed.xml')).flatMap(([, entries]) => entries.map((e) => e.link)));
      const issueLinks = new Set([...byPath].filter(([p]) => p.startsWith('/issues/feed.xml')).flatMap(([, entries]) => entries.map((e) => e.link)));
      expect({ stories: storyLinks.size, issues: issueLinks.size }).toEqual({ stories: 312, issues: 52 });
      expect(docs.filter((d) => d.path.startsWith('/feed.xml'))).toHaveLength(7);
    }, 600_000);

    it('carries hostile text intact (XML-invalid controls dropped) and inert: no markup gets through', async () => {
      const story = (await t.get(NarrativesService).getBySlug(year.hostileSlug))!;
      const link = `${t.url}/stories/${year.hostileSlug}`;
      const expectedTitle = `Story 1: ${HOSTILE_IN_XML}`;
      for (const doc of docs.filter((d) => d.format !== 'json')) {
        const rss = await new RssParser({ customFields: { item: [['content:encoded', 'encoded']] } }).parseString(doc.body);
        const item = rss.items.find((i) => i.link === link);
        if (!item) continue;
        expect({ path: doc.path, title: item.title }).toEqual({ path: doc.path, title: expectedTitle });
        const html = String((item as { encoded?: string }).encoded ?? item.content ?? '');
        expect(html).not.toMatch(/<script/i);
        expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
        expect(html).toContain('🎉🧪 שלום עולם مرحبا');
      }
      const json = JSON.parse(docs.find((d) => d.path === '/feed.json?page=7')!.body);
      const item = json.items.find((i: { url: string }) => i.url === link);
      expect(item.title).toBe(expectedTitle);
      expect(item.content_html).not.toMatch(/<script/i);
      expect(item.content_html).toContain('&lt;script&gt;');
      expect(story.headline).toContain('\u0007');
    });
  });

  describe('of the demo', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp();
      expect(await runDemoIfEmpty(t.app, t.config)).toBe(true);
    }, 600_000);

    afterAll(async () => {
      await t?.close();
    });

    it('parses everywhere, every parser agreeing', async () => {
      const beats = (await t.get(NarrativesService).listBeats()).map((b) => b.slug);
      const byPath = await checkEverywhere(await allFeeds(t.url, beats));
      expect(byPath.get('/feed.xml')!.length).toBeGreaterThan(5);
    }, 600_000);
  });

  describe('of an empty site', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp({ DEMO: 'false' });
    }, 240_000);

    afterAll(async () => {
      await t?.close();
    });

    it('parses everywhere with no entries, and no 1970 dates', async () => {
      const docs = await allFeeds(t.url, []);
      expect(docs.map((d) => d.path)).toEqual(['/feed.xml', '/atom.xml', '/feed.json', '/issues/feed.xml', '/issues/atom.xml', '/issues/feed.json']);
      const byPath = await checkEverywhere(docs);
      expect([...byPath.values()].every((entries) => entries.length === 0)).toBe(true);
      for (const doc of docs) expect({ path: doc.path, has1970: doc.body.includes('1970') }).toEqual({ path: doc.path, has1970: false });
    }, 240_000);
  });
});
