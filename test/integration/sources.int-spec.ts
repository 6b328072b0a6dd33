import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Platform, SourceKind } from '../../src/sources/source.entity';
import { SourcesService } from '../../src/sources/sources.service';
import { startTestApp, type TestApp } from '../support/test-app';

const FIXTURES = join(__dirname, '..', 'fixtures', 'feeds');

/** An RSS 2.0 feed of `count` items whose URLs no other test uses. */
function uniqueFeed(name: string, count: number): string {
  const items = Array.from(
    { length: count },
    (_, i) =>
      `<item><title>${name} ${i}</title><link>https://${name}.example/posts/${i}</link><guid>${name}-${i}</guid><description>Post ${i} of ${name}.</description><pubDate>Wed, 18 Nov 2026 1${i}:00:00 GMT</pubDate></item>`,
  );
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>${name}</title><link>https://${name}.example/</link>${items.join('')}</channel></rss>`;
}

/**
 * File sources polled through the real parsers into the real database. Each test registers its own sources (its
 * own slugs and files) and looks only at those, so the tests hold in any order; the import folder is a temporary
 * copy of the fixtures, so nothing is written into the repository.
 */
describe('sources', () => {
  let t: TestApp;
  let sources: SourcesService;
  let db: DataSource;
  let importDir: string;

  beforeAll(async () => {
    importDir = mkdtempSync(join(tmpdir(), 'broadsheet-import-'));
    cpSync(FIXTURES, importDir, { recursive: true });
    t = await startTestApp({ SOURCES_IMPORT_DIR: importDir });
    sources = t.get(SourcesService);
    db = t.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(importDir, { recursive: true, force: true });
  });

  const source = (slug: string, location: string, platform = Platform.Blog) => ({ slug, name: slug, platform, kind: SourceKind.File, location, beatSlugs: [] });
  const records = (slug: string): Promise<Array<{ title: string; author: string; url: string; canonical_url: string; text: string; published_at: Date }>> =>
    db.query(
      `SELECT r.title, r.author, r.url, r.canonical_url, r.text, r.published_at FROM discourse_records r JOIN sources s ON s.id = r.source_id WHERE s.slug = $1 ORDER BY r.published_at DESC`,
      [slug],
    );

  it('imports every real-world shape: RSS 0.91/1.0/2.0, Atom, JSON Feed 1.0/1.1 and the platforms’ own feeds', async () => {
    const shapes: Array<[string, string, Platform, number]> = [
      ['rss2', 'rss2-basic.xml', Platform.Blog, 3],
      ['rss091', 'rss091.xml', Platform.News, 3],
      ['rdf', 'rdf-rss1.xml', Platform.News, 3],
      ['atom', 'atom-xhtml.xml', Platform.Blog, 3],
      ['json10', 'jsonfeed-1.0.json', Platform.Blog, 3],
      ['json11', 'jsonfeed-1.1.json', Platform.News, 3],
      ['reddit', 'reddit.atom.xml', Platform.Reddit, 3],
      ['hn', 'hnrss.xml', Platform.HackerNews, 3],
      ['bsky', 'bsky-profile.rss.xml', Platform.Bluesky, 2],
      ['mastodon', 'mastodon-tag.rss.xml', Platform.Mastodon, 3],
      ['empty', 'empty-channel.xml', Platform.Blog, 0],
      ['entities', 'entities-titles.xml', Platform.News, 5],
    ];
    await sources.register(shapes.map(([slug, file, platform]) => source(slug, file, platform)));
    const summaries = await sources.pollAll();
    for (const [slug, , , expected] of shapes) {
      expect(summaries.find((s) => s.source === slug)).toMatchObject({ ok: true, new: expected });
    }
    // Latin-1 bytes decoded; undated items dated when first seen.
    expect((await records('rss091')).map((r) => r.text).join(' ')).toMatch(/£/);
    // Relative Atom links resolved through nested xml:base; HTML titles turned into text.
    expect((await records('atom')).map((r) => r.url)).toContain('https://notebook.ashgrove.example/posts/2026/06/sourdough-statistics.html');
    expect((await records('atom')).map((r) => r.title)).toContain('Sourdough and statistics');
    // Entities decoded once, CDATA kept, `<` in a title kept as text.
    const titles = (await records('entities')).map((r) => r.title);
    expect(titles).toEqual(expect.arrayContaining(['Tom & Jerry <3 "quotes" — CDATA title', 'Why <script> tags in titles aren’t harmless']));
    // Authors from RSS "email (Name)", from Mastodon and Bluesky URLs.
    expect((await records('rss2'))[0].author).toBe('Rhea Castellan');
    expect((await records('mastodon')).map((r) => r.author)).toContain('@reefwatch@toot.example');
    expect((await records('bsky'))[0].author).toBe('@odettevance.bsky.social');
    // hnrss boilerplate is not part of what people said; tracking parameters are not part of the URL's identity.
    expect((await records('hn')).map((r) => r.text).join(' ')).not.toMatch(/Article URL|Points:/);
    // A Hacker News record is the discussion, whatever article it links to.
    expect((await records('hn')).every((r) => r.url.startsWith('https://news.ycombinator.com/item?id='))).toBe(true);
    expect((await records('json11')).map((r) => r.canonical_url)).toContain('https://tidepool.example/2026/09/shorebirds');
  });

  it('deduplicates by (source, item id) and by canonical URL across sources', async () => {
    writeFileSync(join(importDir, 'dedupe.xml'), uniqueFeed('dedupe', 3));
    await sources.register([source('dedupe-first', 'dedupe.xml')]);
    expect((await sources.pollAll()).find((s) => s.source === 'dedupe-first')).toMatchObject({ ok: true, seen: 3, new: 3 });
    await sources.register([source('dedupe-second', 'dedupe.xml')]);
    const summaries = await sources.pollAll();
    // The same items again from the same source (by item id), and from another source (by canonical URL).
    expect(summaries.find((s) => s.source === 'dedupe-first')).toMatchObject({ ok: true, seen: 3, new: 0 });
    expect(summaries.find((s) => s.source === 'dedupe-second')).toMatchObject({ ok: true, seen: 3, new: 0, duplicate: 3 });
    // Counted per source: the earlier cases' sources are polled in the same rounds.
    expect((await records('dedupe-first')).length).toBe(3);
    expect(await records('dedupe-second')).toEqual([]);
  });

  it('records a clear error for a malformed feed or a page that is not a feed, and carries on with the others', async () => {
    writeFileSync(join(importDir, 'neighbour.xml'), uniqueFeed('neighbour', 2));
    await sources.register([source('broken', 'malformed-unclosed.xml'), source('html', 'malformed-notafeed.html'), source('neighbour', 'neighbour.xml')]);
    const summaries = await sources.pollAll();
    expect(summaries.find((s) => s.source === 'broken')).toMatchObject({ ok: false, error: expect.stringMatching(/^not a readable feed: /) });
    expect(summaries.find((s) => s.source === 'html')).toMatchObject({ ok: false, error: 'not a readable feed: not an RSS, Atom, RDF or JSON feed' });
    expect(summaries.find((s) => s.source === 'neighbour')).toMatchObject({ ok: true, new: 2 });
    const [row] = await db.query(`SELECT last_error, last_error_at IS NOT NULL AS dated FROM sources WHERE slug = 'html'`);
    expect(row).toEqual({ last_error: 'not a readable feed: not an RSS, Atom, RDF or JSON feed', dated: true });
    const [poll] = await db.query(
      `SELECT p.status, p.error FROM source_polls p JOIN sources s ON s.id = p.source_id WHERE s.slug = 'broken' ORDER BY p.started_at DESC LIMIT 1`,
    );
    expect(poll.status).toBe('failed');
  });

  it('reads files only from inside the import folder', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'broadsheet-outside-'));
    writeFileSync(join(outside, 'secret.xml'), '<rss version="2.0"><channel><title>x</title></channel></rss>');
    const link = join(importDir, 'zz-link-outside.xml');
    symlinkSync(join(outside, 'secret.xml'), link);
    const fifo = join(importDir, 'zz-fifo.xml');
    execFileSync('mkfifo', [fifo]);
    try {
      await sources.register([
        source('dotdot', '../../package.json'),
        source('absolute', '/etc/passwd'),
        source('symlink', 'zz-link-outside.xml'),
        source('missing', 'nope.xml'),
        source('fifo', 'zz-fifo.xml'),
        source('folder', '.'),
      ]);
      const summaries = await sources.pollAll();
      expect(summaries.find((s) => s.source === 'dotdot')?.error).toMatch(/outside the import folder/);
      expect(summaries.find((s) => s.source === 'absolute')?.error).toMatch(/must be relative to the import folder/);
      expect(summaries.find((s) => s.source === 'symlink')?.error).toMatch(/outside the import folder/);
      expect(summaries.find((s) => s.source === 'missing')?.error).toMatch(/does not exist in the import folder/);
      expect(summaries.find((s) => s.source === 'fifo')?.error).toMatch(/is not a regular file/);
      expect(summaries.find((s) => s.source === 'folder')?.error).toMatch(/outside the import folder|not a regular file/);
    } finally {
      rmSync(fifo, { force: true });
      rmSync(link, { force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
