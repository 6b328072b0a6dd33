import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFromJson, extractFromXml } from '@extractus/feed-extractor';
import { parseFeed } from 'feedsmith';
import RssParser from 'rss-parser';

/**
 * Feed readers run over our documents: python3-feedparser and newsboat (Debian packages; XML only) and three npm
 * parsers (feedsmith, @extractus/feed-extractor for all formats, rss-parser for XML). `checkEverywhere` asserts that
 * every one of them reads every document without error and that they agree on each entry's title, link, author and
 * date, and that each JSON Feed agrees with its RSS twin.
 *
 * Needs `apt-get install -y python3-feedparser newsboat` (.ci/run installs them when missing); `prerequisites()`
 * names what is missing, so a test can fail saying so instead of skipping.
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

export interface Entry {
  id: string;
  title: string;
  link: string;
  author: string;
  date: number;
  updated: number | null;
}

/** A literal entity in the text (`&amp;` written as text): feed-extractor decodes titles once more, as HTML. */
const LITERAL_ENTITY = /&(?:[a-z]+|#\d+);/i;
export interface Doc {
  path: string;
  format: 'rss' | 'atom' | 'json';
  body: string;
}

export function prerequisites(): string[] {
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

/** Runs every parser over every document and checks that they agree; returns feedparser's entries by path. */
export async function checkEverywhere(docs: Doc[]): Promise<Map<string, Entry[]>> {
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
