import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFromJson, extractFromXml } from '@extractus/feed-extractor';
import { parseFeed } from 'feedsmith';
import RssParser from 'rss-parser';
import { DataSource } from 'typeorm';
import { runDemoIfEmpty } from '../../src/bootstrap';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { HOSTILE_IN_XML, seedGeneratedYear } from '../factories/generated-year.factory';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The validity run: every feed (stories, issues, each beat; RSS, Atom and JSON Feed; every archive page) of the demo,
 * of an empty site and of a generated year (52 issues, 312 stories, hostile text in every third) parses with no error
 * in python3-feedparser and newsboat (XML; neither reads JSON Feed) and in three npm parsers (feedsmith,
 * @extractus/feed-extractor for all formats, rss-parser for XML), which agree on each entry's title, link, author and
 * date; the JSON Feed of each page agrees with its RSS twin.
 *
 * Needs Debian's python3-feedparser and newsboat (`apt-get install -y python3-feedparser newsboat`; .ci/run installs
 * them when missing). Without them the first test fails and says so: it never skips.
 */
const PYTHON = '/usr/bin/python3';
const FEEDPARSER_DUMP = `
import calendar, feedparser, json, sys
out = []
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    out.append({"bozo": int(bool(d.bozo)), "error": str(d.get("bozo_exception", "")), "title": d.feed.get("title"),
                "entries": [{"id": e.get("id"), "title": e.get("title"), "link": e.get("link"), "author": e.get("author"),
                             "date": calendar.timegm(e.published_parsed) if e.get("published_parsed") else None,
                             "updated": calendar.timegm(e.updated_parsed) if e.get("updated_parsed") else None} for e in d.entries]})
print(json.dumps(out))
`;
const NEWSBOAT_DUMP = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(json.dumps([{"guid": g, "title": t, "link": u, "author": a, "date": p, "feed": f} for g, t, u, a, p, f in
                  db.execute("SELECT guid, title, url, author, pubDate, feedurl FROM rss_item")]))
`;

interface Entry {
  id: string;
  title: string;
  link: string;
  author: string;
  date: number;
  updated: number | null;
}

/** A literal entity in the text (`&amp;` written as text): feed-extractor decodes titles once more, as HTML. */
const LITERAL_ENTITY = /&(?:[a-z]+|#\d+);/i;
interface Doc {
  path: string;
  format: 'rss' | 'atom' | 'json';
  body: string;
}

function prerequisites(): string[] {
  const missing: string[] = [];
  if (
    !existsSync(PYTHON) ||
    !execFileSync(PYTHON, ['-c', 'import importlib.util;print(bool(importlib.util.find_spec("feedparser")))'], { encoding: 'utf8' }).includes('True')
  )
    missing.push('python3-feedparser');
  try {
    execFileSync('newsboat', ['--version'], { stdio: 'ignore' });
  } catch {
    missing.push('newsboat');
  }
  return missing;
}

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

/** Runs every parser over every document and checks that they agree; returns feedparser's entries by path. */
async function checkEverywhere(docs: Doc[]): Promise<Map<string, Entry[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'broadsheet-validity-'));
  try {
    const xml = docs.filter((d) => d.format !== 'json');
    const files = xml.map((d, i) => {
      const file = join(dir, `feed-${i}.xml`);
      writeFileSync(file, d.body);
      return file;
    });
    const parsed = JSON.parse(execFileSync(PYTHON, ['-c', FEEDPARSER_DUMP, ...files], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })) as Array<{
      bozo: number;
      error: string;
      entries: Entry[];
    }>;
    const byPath = new Map<string, Entry[]>();
    for (const [i, doc] of xml.entries()) {
      const py = parsed[i];
      expect({ path: doc.path, bozo: py.bozo, error: py.error }).toEqual({ path: doc.path, bozo: 0, error: '' });
      for (const e of py.entries)
        expect({ path: doc.path, e }).toEqual({
          path: doc.path,
          e: {
            id: expect.any(String),
            title: expect.any(String),
            link: expect.any(String),
            author: expect.any(String),
            date: expect.any(Number),
            updated: expect.any(Number),
          },
        });
      byPath.set(doc.path, py.entries);
      const rss = await new RssParser().parseString(doc.body);
      const smith = parseFeed(doc.body);
      expect(smith.format).toBe(doc.format);
      const smithItems = (smith.format === 'rss' ? smith.feed.items : smith.format === 'atom' ? smith.feed.entries : []) ?? [];
      // feed-extractor refuses an Atom feed with no <entry> ("Unrecognized feed format"), which RFC 4287 allows.
      const extracted = py.entries.length > 0 ? extractFromXml(doc.body, { normalization: true, descriptionMaxLen: 0 }) : { entries: [] };
      expect({ path: doc.path, counts: [rss.items.length, smithItems.length, extracted.entries?.length ?? 0] }).toEqual({
        path: doc.path,
        counts: Array(3).fill(py.entries.length),
      });
      py.entries.forEach((entry, n) => {
        const r = rss.items[n];
        const x = extracted.entries![n];
        const agreed = {
          rssParser: [r.title, r.link, r.creator ?? (r as { author?: string }).author, Math.floor(Date.parse(r.isoDate!) / 1000)],
          // feed-extractor's date is Atom's <updated> (RSS: pubDate); it HTML-decodes a title's literal entities again.
          extractor: [LITERAL_ENTITY.test(entry.title) ? entry.title : x.title, x.link, Math.floor(Date.parse(String(x.published)) / 1000)],
        };
        expect({ path: doc.path, agreed }).toEqual({
          path: doc.path,
          agreed: {
            rssParser: [entry.title, entry.link, entry.author, entry.date],
            extractor: [entry.title, entry.link, doc.format === 'atom' ? entry.updated : entry.date],
          },
        });
      });
    }
    // newsboat: one reload of every XML document, then its cache read back. It keeps one article per id across feeds.
    writeFileSync(join(dir, 'urls'), `${files.map((f) => `"exec:cat ${f}"`).join('\n')}\n`);
    writeFileSync(join(dir, 'config'), 'always-display-description yes\n');
    execFileSync('newsboat', ['-u', join(dir, 'urls'), '-c', join(dir, 'cache.db'), '-C', join(dir, 'config'), '-x', 'reload'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: dir },
    });
    const boat = JSON.parse(execFileSync(PYTHON, ['-c', NEWSBOAT_DUMP, join(dir, 'cache.db')], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })) as Array<{
      guid: string;
      title: string;
      link: string;
      author: string;
      date: number;
    }>;
    const expected = new Map<string, Entry>();
    for (const entries of byPath.values()) for (const e of entries) expected.set(e.id, e);
    expect(boat.length).toBe(expected.size);
    for (const item of boat) {
      const e = expected.get(item.guid);
      expect({ guid: item.guid, got: [item.title, item.link, item.author, item.date] }).toEqual({
        guid: item.guid,
        got: [e?.title, e?.link, e?.author, e?.date],
      });
    }
    // JSON Feed: feedsmith and feed-extractor read it, and each page agrees with its RSS twin.
    for (const doc of docs.filter((d) => d.format === 'json')) {
      const json = JSON.parse(doc.body);
      expect(json.version).toBe('https://jsonfeed.org/version/1.1');
      expect(Array.isArray(json.items)).toBe(true);
      expect(parseFeed(doc.body).format).toBe('json');
      const extracted = extractFromJson(json, { normalization: true, descriptionMaxLen: 0 });
      const twin = byPath.get(doc.path.replace('feed.json', 'feed.xml'))!;
      const items = json.items as Array<{ title: string; url: string; authors: Array<{ name: string }>; date_published: string }>;
      expect({ path: doc.path, items: items.map((i) => [i.title, i.url, i.authors[0].name, Math.floor(Date.parse(i.date_published) / 1000)]) }).toEqual({
        path: doc.path,
        items: twin.map((e) => [e.title, e.link, e.author, e.date]),
      });
      expect({ path: doc.path, extracted: (extracted.entries ?? []).map((e) => [e.title, e.link]) }).toEqual({
        path: doc.path,
        extracted: twin.map((e) => [e.title, e.link]),
      });
    }
    return byPath;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
