import { DataSource } from 'typeorm';
import { FakeClock } from '../fakes/fake-clock';
import { startFakePlatforms, type FakePlatforms } from '../fakes/fake-platforms';
import { SourcesService, SourceUnreadableError } from '../../src/sources/sources.service';
import { startTestApp, type TestApp } from '../support/test-app';

/** Every adapter against recorded payloads in each platform's real shape, served over HTTP; polling, health and dedupe on the real database. */
jest.setTimeout(180_000);

describe('source adapters and polling', () => {
  let t: TestApp;
  let fake: FakePlatforms;
  let sources: SourcesService;
  let db: DataSource;
  const clock = new FakeClock(new Date('2026-11-20T12:00:00Z'));

  beforeAll(async () => {
    fake = await startFakePlatforms();
    t = await startTestApp(
      {
        FETCH_ALLOWLIST: '127.0.0.1',
        REDDIT_BASE_URL: fake.url,
        HACKERNEWS_ALGOLIA_URL: fake.url,
        BLUESKY_APPVIEW_URL: fake.url,
        SOURCES_MAX_FAILURES: '3',
        DEMO: 'false',
      },
      { clock },
    );
    sources = t.get(SourcesService);
    db = t.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  // Each test adds the sources it reads; none is left for the next: no sources (nor their records), no host
  // backoff (every fake platform is on one host, so a 429 in one test would hold back the next), fake routes
  // back to their recorded payloads.
  afterEach(async () => {
    for (const v of await sources.list()) await sources.remove(v.id);
    await db.query(`DELETE FROM source_host_backoffs`);
    fake.reset();
  });

  const pollOf = async (slug: string) => (await sources.pollAll()).find((p) => p.source === slug);

  const recordsOf = (
    id: string,
  ): Promise<
    Array<{
      title: string;
      author: string;
      url: string;
      text: string;
      engagement: Record<string, number>;
      raw: unknown;
      published_at: Date;
      external_id: string;
    }>
  > =>
    db.query(
      `SELECT title, author, url, text, engagement, raw, published_at, external_id FROM discourse_records WHERE source_id = $1 ORDER BY published_at, external_id`,
      [id],
    );

  it('reads a subreddit through the JSON listing with score and comments, skipping the broken entry', async () => {
    const s = await sources.add({ kind: 'reddit', target: 'r/LocalLLaMA', beats: ['open-source-ai'] });
    const summary = await pollOf(s.slug);
    expect(summary).toMatchObject({ ok: true, new: 2, invalid: 1 });
    const rows = await recordsOf(s.id);
    expect(rows.map((r) => [r.title, r.author, r.engagement])).toEqual([
      ['Larchmont-70B weights are up under the new licence', 'u/gradient_gardener1', { score: 412, comments: 188 }],
      ['Benchmarks for quantized 8B models on a laptop', 'u/gradient_gardener2', { score: 95, comments: 41 }],
    ]);
    expect(rows[0].url).toMatch(/^https:\/\/www\.reddit\.com\/r\/LocalLLaMA\/comments\/1p1x9q\//);
    expect(rows[0].text).toContain('Clause 4(b)');
    expect(rows[0].raw).toMatchObject({ subreddit: 'LocalLLaMA', num_comments: 188 });
    expect((await sources.show(s.id)).recentPolls[0].rejected).toEqual([{ index: 2, reason: 'item has no http(s) link' }]);
    await sources.remove(s.id);
  });

  it('falls back to the subreddit’s Atom feed when the JSON listing is refused', async () => {
    fake.route('/r/LocalLLaMA/new.json', { status: 403, body: 'blocked' });
    const s = await sources.add({ kind: 'reddit', target: 'r/LocalLLaMA' });
    const summary = await pollOf(s.slug);
    expect(summary).toMatchObject({ ok: true, new: 3 });
    expect((await recordsOf(s.id)).every((r) => r.url.startsWith('https://www.reddit.com/r/'))).toBe(true);
    await sources.remove(s.id);
  });

  it('backs off Reddit for at least an hour after a 429, for every source on that host', async () => {
    fake.route('/r/LocalLLaMA/new.json', { status: 429, body: 'Too Many Requests', headers: { 'retry-after': '60' } });
    const s = await sources.add({ kind: 'reddit', target: 'r/LocalLLaMA' });
    const failed = await pollOf(s.slug);
    expect(failed).toMatchObject({ ok: false, error: 'the server answered 429 (too many requests)' });
    const view = (await sources.list()).find((v) => v.id === s.id);
    expect(new Date(view?.nextPollAt ?? 0).getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(3600_000);
    const before = fake.requests.length;
    clock.advance(30 * 60_000);
    const deferred = await pollOf(s.slug);
    expect(deferred).toMatchObject({ ok: true, deferred: true, error: expect.stringMatching(/^waiting until .* answered 429/) });
    expect(fake.requests.length).toBe(before);
    clock.advance(31 * 60_000);
    fake.route('/r/LocalLLaMA/new.json', { ...fakeJson('platforms/reddit-new.json') });
    expect(await pollOf(s.slug)).toMatchObject({ ok: true, new: 2 });
    await sources.remove(s.id);
  });

  const fakeJson = (file: string) => ({ body: fake.fixture(file), headers: { 'content-type': 'application/json' } });

  it('reads the Hacker News front page and a search through Algolia, as discussions with points and comments', async () => {
    const front = await sources.add({ kind: 'hackernews', target: 'front' });
    const search = await sources.add({ kind: 'hackernews', target: 'search:open-weight' });
    const summaries = await sources.pollAll();
    expect(summaries.map((s) => [s.source, s.ok, s.new, s.invalid])).toEqual(
      expect.arrayContaining([
        [front.slug, true, 2, 1],
        [search.slug, true, 1, 0],
      ]),
    );
    const rows = await recordsOf(front.id);
    expect(rows.map((r) => [r.url, r.engagement])).toEqual([
      ['https://news.ycombinator.com/item?id=4600001', { points: 612, comments: 301 }],
      ['https://news.ycombinator.com/item?id=4600002', { points: 88, comments: 57 }],
    ]);
    expect(rows[1].text).toContain('medical scribing');
    expect(fake.requests.some((r) => r.path.startsWith('/api/v1/search_by_date?tags=story&hitsPerPage=100&query=open-weight'))).toBe(true);
  });

  it('refreshes engagement and updates an edited post on the next poll, without a second record', async () => {
    const front = await sources.add({ kind: 'hackernews', target: 'front' });
    expect(await pollOf(front.slug)).toMatchObject({ ok: true, new: 2 });
    const doc = JSON.parse(fake.fixture('platforms/hn-front.json').toString()) as { hits: Array<Record<string, unknown>> };
    doc.hits[0].points = 700;
    doc.hits[0].title = 'Larchmont-70B released with open weights (updated)';
    fake.route('/api/v1/search', { body: JSON.stringify(doc), headers: { 'content-type': 'application/json' } });
    expect(await pollOf(front.slug)).toMatchObject({ ok: true, new: 0, updated: 1 });
    const rows = await recordsOf(front.id);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ title: 'Larchmont-70B released with open weights (updated)', engagement: { points: 700, comments: 301 } });
  });

  it('reads a Bluesky author feed (reposts skipped) and a search, with likes and reposts', async () => {
    const author = await sources.add({ kind: 'bluesky', target: '@OdetteVance.bsky.social' });
    expect(author.target).toBe('odettevance.bsky.social');
    const search = await sources.add({ kind: 'bluesky', target: 'search:coral' });
    await sources.pollAll();
    const rows = await recordsOf(author.id);
    expect(rows.map((r) => [r.author, r.url, r.engagement])).toEqual([
      ['@odettevance.bsky.social', 'https://bsky.app/profile/odettevance.bsky.social/post/3lbx1k2abc2x', { likes: 240, reposts: 61, replies: 33, quotes: 1 }],
      ['@odettevance.bsky.social', 'https://bsky.app/profile/odettevance.bsky.social/post/3lbx3k2abc2x', { likes: 80, reposts: 9, replies: 4, quotes: 1 }],
    ]);
    expect(await recordsOf(search.id)).toHaveLength(1);
  });

  it('says plainly when a Bluesky server does not allow search', async () => {
    fake.route('/xrpc/app.bsky.feed.searchPosts', { status: 403, body: '{"error":"Forbidden"}' });
    await expect(sources.testTarget({ kind: 'bluesky', target: 'search:anything' })).rejects.toThrow(
      'this Bluesky server does not allow search without an account (the server answered 403 (forbidden))',
    );
  });

  it('reads Mastodon tag and account timelines through the API, and the tag’s RSS when the API is closed', async () => {
    const tag = await sources.add({ kind: 'mastodon', target: `${fake.url}/tags/coralreefs` });
    const account = await sources.add({ kind: 'mastodon', target: `${fake.url}/@reefwatch` });
    await sources.pollAll();
    const tagRows = await recordsOf(tag.id);
    expect(tagRows.map((r) => [r.author, r.engagement])).toEqual([
      [`@reefwatch@${new URL(fake.url).host}`, { favourites: 52, boosts: 20, replies: 7 }],
      ['@diver@other.example', { favourites: 9, boosts: 2, replies: 1 }],
    ]);
    expect(tagRows[0].text).toContain('2°C above normal');
    expect((await recordsOf(account.id)).map((r) => r.text)).toEqual(['Our weekly survey is out: 14 sites, 3 with new bleaching.']);
    fake.route('/api/v1/timelines/tag/coralreefs', { status: 401, body: '{"error":"This API requires an authenticated user"}' });
    const preview = await sources.testTarget({ kind: 'mastodon', target: `${fake.url}/tags/coralreefs` });
    expect(preview.items).toBe(3);
    expect(fake.requests.at(-1)?.path).toBe('/tags/coralreefs.rss');
  });

  it('polls RSS, Atom, RDF and JSON feeds over HTTP with conditional GET; redirect targets never replace the source URL', async () => {
    const added = [];
    for (const path of ['/feeds/rss2.xml', '/feeds/atom.xml', '/feeds/rdf.xml', '/feeds/json11.json', '/feeds/rss091.xml'])
      added.push(await sources.add({ kind: 'rss', target: `${fake.url}${path}` }));
    const first = await sources.pollAll();
    for (const s of added) expect(first.find((p) => p.source === s.slug)).toMatchObject({ ok: true, new: 3 });
    const second = await sources.pollAll();
    for (const s of added) expect(second.find((p) => p.source === s.slug)).toMatchObject({ ok: true, notModified: true });
    expect(fake.requests.filter((r) => r.path === '/feeds/rss2.xml').at(-1)?.headers['if-none-match']).toBeDefined();
    expect(fake.requests.at(-1)?.headers['user-agent']).toMatch(/^Broadsheet\/\S+ \(\+http/);
    fake.route('/moved.xml', { status: 301, headers: { location: '/feeds/rss2.xml' } });
    const moved = await sources.add({ kind: 'rss', target: `${fake.url}/moved.xml` });
    expect((await sources.pollAll()).find((p) => p.source === moved.slug)).toMatchObject({ ok: true });
    expect((await sources.show(moved.id)).target).toBe(`${fake.url}/moved.xml`);
  });

  it('records failures in plain words, backs off, and pauses a source that keeps failing', async () => {
    fake.route('/feeds/gone.xml', { status: 500, body: 'oops' });
    const s = await sources.add({ kind: 'rss', target: `${fake.url}/feeds/gone.xml`, every: '30m' });
    for (let i = 1; i <= 3; i++) {
      const summary = (await sources.pollAll()).find((p) => p.source === s.slug);
      expect(summary).toMatchObject({ ok: false, error: 'the server answered 500 (server error)' });
    }
    const view = await sources.show(s.id);
    expect(view).toMatchObject({
      status: 'paused',
      consecutiveFailures: 3,
      lastError: 'the server answered 500 (server error)',
      pausedReason: 'paused after 3 failed polls in a row; last: the server answered 500 (server error)',
    });
    expect((await sources.pollAll()).find((p) => p.source === s.slug)).toBeUndefined();
    fake.route('/feeds/gone.xml', { body: fake.fixture('feeds/rss2-basic.xml'), headers: { 'content-type': 'application/rss+xml' } });
    await sources.resume(s.id);
    expect((await sources.pollAll()).find((p) => p.source === s.slug)).toMatchObject({ ok: true });
    expect(await sources.show(s.id)).toMatchObject({ status: 'active', consecutiveFailures: 0, lastError: null, itemsLastPoll: 3 });
  });

  it('pauses at once a source whose address is refused, with the reason', async () => {
    const s = await sources.add({ kind: 'rss', target: 'http://169.254.169.254/latest/meta-data/' });
    const summary = (await sources.pollAll()).find((p) => p.source === s.slug);
    expect(summary).toMatchObject({ ok: false, error: 'refused: 169.254.169.254: 169.254.169.254 is a link-local address (cloud metadata lives here)' });
    expect(await sources.show(s.id)).toMatchObject({ status: 'paused', pausedReason: summary?.error });
    await expect(sources.testTarget({ kind: 'rss', target: 'http://[::ffff:169.254.169.254]/' })).rejects.toThrow(SourceUnreadableError);
  });

  it('gives due sources to one poller at a time (FOR UPDATE SKIP LOCKED) and respects each interval', async () => {
    const s = await sources.add({ kind: 'rss', target: `${fake.url}/feeds/hnrss.xml`, every: '2h' });
    const [a, b] = await Promise.all([sources.pollDue(), sources.pollDue()]);
    const polled = [...a, ...b].filter((p) => p.source === s.slug);
    expect(polled).toHaveLength(1);
    clock.advance(60 * 60_000);
    expect((await sources.pollDue()).find((p) => p.source === s.slug)).toBeUndefined();
    clock.advance(61 * 60_000);
    expect((await sources.pollDue()).find((p) => p.source === s.slug)).toMatchObject({ ok: true });
  });

  it('validates what editors type, saying what is wrong', async () => {
    await expect(sources.add({ kind: 'twitter', target: 'x' })).rejects.toThrow(
      'unknown source kind "twitter": use one of rss, reddit, hackernews, bluesky, mastodon, file',
    );
    await expect(sources.add({ kind: 'rss', target: 'ftp://x.example/feed' })).rejects.toThrow('an rss target must be an http:// or https:// URL, not ftp:');
    await expect(sources.add({ kind: 'reddit', target: 'LocalLLaMA' })).rejects.toThrow(/a reddit target is r\/<subreddit>/);
    await expect(sources.add({ kind: 'hackernews', target: 'top' })).rejects.toThrow(/"front" or "search:<query>"/);
    await expect(sources.add({ kind: 'mastodon', target: 'https://toot.example/explore' })).rejects.toThrow(/tags\/<tag> or https:\/\/<instance>\/@<user>/);
    await expect(sources.add({ kind: 'rss', target: `${fake.url}/feeds/x.xml`, every: '10s' })).rejects.toThrow(
      '--every must be a duration from 1m to 7d such as 30m, 2h or 1d; got "10s"',
    );
    await expect(sources.add({ kind: 'rss', target: `${fake.url}/feeds/x.xml`, beats: ['Not A Slug!'] })).rejects.toThrow('"not a slug!" is not a beat slug');
    await sources.add({ kind: 'rss', target: `${fake.url}/feeds/rss2.xml` });
    await expect(sources.add({ kind: 'rss', target: `${fake.url}/feeds/rss2.xml` })).rejects.toThrow(/already exists/);
    await expect(sources.show('nope')).rejects.toThrow('no source "nope"');
  });

  it('imports and exports OPML', async () => {
    await sources.add({ kind: 'rss', target: `${fake.url}/feeds/atom.xml` });
    // A Mastodon tag is exported as the tag's RSS feed.
    await sources.add({ kind: 'mastodon', target: `${fake.url}/tags/coralreefs` });
    const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body><outline text="Blogs">
      <outline type="rss" text="Atom again" xmlUrl="${fake.url}/feeds/atom.xml"/>
      <outline type="rss" text="JSON" title="A JSON feed" xmlUrl="${fake.url}/feeds/other.json"/>
      <outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/></outline></body></opml>`;
    const result = await sources.importOpml(opml, { beats: ['science'] });
    expect(result.added.map((a) => [a.name, a.beats])).toEqual([['A JSON feed', ['science']]]);
    expect(result.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/already exists/),
      'an rss target must be an http:// or https:// URL, not javascript:',
    ]);
    const exported = await sources.exportOpml();
    expect(exported).toContain(`xmlUrl="${fake.url}/feeds/other.json"`);
    expect(exported).toContain(`xmlUrl="${fake.url}/tags/coralreefs.rss"`);
    await expect(sources.importOpml('<html/>')).rejects.toThrow(/not an OPML document/);
  });

  it('counts sources by health and new records on /metrics', async () => {
    const scrape = async () => (await fetch(`${t.url}/metrics`)).text();
    // The counter lives as long as the app: this test's records are the increase.
    const hackernews = (text: string) => Number(/broadsheet_records_ingested_total\{platform="hackernews"\} (\d+)/.exec(text)?.[1] ?? 0);
    const before = hackernews(await scrape());
    const front = await sources.add({ kind: 'hackernews', target: 'front' });
    expect(await pollOf(front.slug)).toMatchObject({ ok: true, new: 2 });
    const quiet = await sources.add({ kind: 'rss', target: `${fake.url}/feeds/rss2.xml` });
    await sources.pause(quiet.id, 'too noisy');
    const text = await scrape();
    const paused = (await sources.list()).filter((v) => v.status === 'paused').length;
    expect(paused).toBeGreaterThan(0);
    expect(text).toContain(`broadsheet_sources{status="paused"} ${paused}`);
    expect(text).toMatch(/broadsheet_records_ingested_total\{platform="hackernews"\} [1-9]/);
    expect(hackernews(text) - before).toBe(2);
  });
});
