import { DataSource } from 'typeorm';
import { startFakePlatforms, type FakePlatforms } from '../fakes/fake-platforms';
import { SourcesService } from '../../src/sources/sources.service';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Near-duplicate text dedupe next to the (source, provider id) and canonical URL dedupe, on the real database
 * with feeds served over HTTP: a post syndicated with small edits under another URL is a duplicate; an edited
 * post (same provider id) updates its record, its engagement and its signature.
 */
jest.setTimeout(180_000);

const POST =
  'Our city council voted on Tuesday to turn the old rail yard into a public park with a community orchard, after three years of hearings. ' +
  'The plan keeps the brick roundhouse as a covered market, adds a protected bike path along the river, and sets aside one fifth of the land for allotments. ' +
  'Residents who opposed the plan wanted housing on the site instead; the council says 400 homes will be built on the former bus depot. Work starts in the spring.';
// The same post as a syndication service reposts it: a word changed, a sentence cut, its own sign-off.
const SYNDICATED = POST.replace('on Tuesday', 'this week').replace(' Work starts in the spring.', '') + ' Originally published on the Riverside Ledger.';
const OTHER =
  'A second council story: the library board approved longer opening hours for the central branch, open until nine on weekdays from January, ' +
  'paid for by closing the mobile library van, which critics say served the outlying villages that have no branch of their own.';

// A self post on a subreddit, edited by its author later.
const SELF_POST =
  'I measured token throughput for three quantised 8B models on a six-year-old laptop with 16 GB of memory. ' +
  'The Q4 build ran at 11 tokens per second with the fan at full speed, Q5 at 8, and the unquantised weights did not fit at all. ' +
  'Battery life dropped from five hours to about 70 minutes, so plug in if you try this.';

const rss = (title: string, items: Array<{ guid: string; link: string; title: string; text: string }>) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>${title}</title><link>https://${title}.example/</link>${items
    .map(
      (i) =>
        `<item><guid>${i.guid}</guid><link>${i.link}</link><title>${i.title}</title><description>${i.text}</description><pubDate>Wed, 18 Nov 2026 10:00:00 GMT</pubDate></item>`,
    )
    .join('')}</channel></rss>`;

describe('near-duplicate dedupe', () => {
  let t: TestApp;
  let fake: FakePlatforms;
  let sources: SourcesService;
  let db: DataSource;

  beforeAll(async () => {
    fake = await startFakePlatforms();
    t = await startTestApp({ FETCH_ALLOWLIST: '127.0.0.1', REDDIT_BASE_URL: fake.url, DEMO: 'false' });
    sources = t.get(SourcesService);
    db = t.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const recordsOf = (id: string): Promise<Array<{ id: string; url: string; text: string; engagement: Record<string, number> }>> =>
    db.query(`SELECT id, url, text, engagement FROM discourse_records WHERE source_id = $1 ORDER BY url`, [id]);

  // Each case removes every source it added, pass or fail, so no case sees another's records.
  afterEach(async () => {
    for (const s of await sources.list()) await sources.remove(s.id);
  });

  const serveLedgerAndSyndicated = (): void => {
    fake.route('/dedupe/ledger.xml', {
      body: rss('ledger', [
        { guid: 'ledger-1', link: 'https://riverside-ledger.example/2026/11/rail-yard-park', title: 'Rail yard becomes a park', text: POST },
      ]),
    });
    fake.route('/dedupe/syndicated.xml', {
      body: rss('syndicated', [
        { guid: 'syn-1', link: 'https://newswire.example/riverside/rail-yard-park-approved', title: 'Rail yard to become park', text: SYNDICATED },
        { guid: 'syn-2', link: 'https://newswire.example/riverside/library-hours', title: 'Library hours', text: OTHER },
      ]),
    });
  };

  it('keeps one record for a post syndicated with small edits under another URL, and keeps a different post of the same feed', async () => {
    serveLedgerAndSyndicated();
    // The original is seen first, the syndicated copy on a later poll: the copy is the duplicate.
    const ledger = await sources.add({ kind: 'rss', target: `${fake.url}/dedupe/ledger.xml` });
    const first = await sources.pollAll();
    expect(first.find((p) => p.source === ledger.slug)).toMatchObject({ ok: true, new: 1 });
    const syndicated = await sources.add({ kind: 'rss', target: `${fake.url}/dedupe/syndicated.xml` });
    const second = await sources.pollAll();
    const summary = second.find((p) => p.source === syndicated.slug);
    expect(summary).toMatchObject({ ok: true, seen: 2, new: 1, duplicate: 1 });
    expect((await recordsOf(syndicated.id)).map((r) => r.url)).toEqual(['https://newswire.example/riverside/library-hours']);
    expect((await recordsOf(ledger.id)).map((r) => r.url)).toEqual(['https://riverside-ledger.example/2026/11/rail-yard-park']);
    // The exact-text fingerprint alone would not have caught it: the texts differ.
    const [{ prints }] = await db.query(`SELECT count(DISTINCT text_fingerprint)::int AS prints FROM discourse_records WHERE source_id = ANY($1::uuid[])`, [
      [ledger.id, syndicated.id],
    ]);
    expect(prints).toBe(2);
  });

  it('keeps exactly one of two near-duplicate posts that arrive in the same poll round from two sources', async () => {
    serveLedgerAndSyndicated();
    const ledger = await sources.add({ kind: 'rss', target: `${fake.url}/dedupe/ledger.xml` });
    const syndicated = await sources.add({ kind: 'rss', target: `${fake.url}/dedupe/syndicated.xml` });
    // Polled concurrently (and maybe written in one transaction): which copy arrives first is not fixed, but one wins.
    const round = await sources.pollAll();
    const outcomes = [ledger, syndicated].map((s) => round.find((p) => p.source === s.slug));
    expect(outcomes.map((o) => o?.ok)).toEqual([true, true]);
    expect(outcomes.reduce((n, o) => n + (o?.new ?? 0), 0)).toBe(2);
    expect(outcomes.reduce((n, o) => n + (o?.duplicate ?? 0), 0)).toBe(1);
    const urls = [...(await recordsOf(ledger.id)), ...(await recordsOf(syndicated.id))].map((r) => r.url);
    expect(urls).toContain('https://newswire.example/riverside/library-hours');
    const railYard = urls.filter((u) => u.includes('rail-yard-park'));
    expect(railYard).toHaveLength(1);
  });

  it('updates an edited post in place (same provider id): new text, refreshed engagement, new signature, no second record', async () => {
    const listing = JSON.parse(fake.fixture('platforms/reddit-new.json').toString('utf8')) as { data: { children: Array<{ data: Record<string, unknown> }> } };
    const post = listing.data.children[0].data;
    Object.assign(post, { selftext: SELF_POST, selftext_html: null });
    fake.route('/r/LocalLLaMA/new.json', { body: JSON.stringify(listing), headers: { 'content-type': 'application/json' } });
    const s = await sources.add({ kind: 'reddit', target: 'r/LocalLLaMA' });
    const ofReddit = (round: Awaited<ReturnType<SourcesService['pollAll']>>) => round.find((p) => p.source === s.slug);
    const before = ofReddit(await sources.pollAll());
    expect(before).toMatchObject({ ok: true, new: 2 });
    const [original] = (await recordsOf(s.id)).filter((r) => r.text.includes('token throughput'));
    expect(original.engagement).toEqual({ score: 412, comments: 188 });
    const [{ minhash: oldSignature }] = await db.query(`SELECT text_minhash AS minhash FROM discourse_records WHERE id = $1`, [original.id]);

    // The author edits the post while it gains votes and comments.
    const edited = SELF_POST.replace('11 tokens', '13 tokens') + ' Edit: re-ran with the latest build, Q4 is faster now.';
    Object.assign(post, { selftext: edited, score: 977, num_comments: 301 });
    fake.route('/r/LocalLLaMA/new.json', { body: JSON.stringify(listing), headers: { 'content-type': 'application/json' } });
    const after = ofReddit(await sources.pollAll());
    expect(after).toMatchObject({ ok: true, new: 0, updated: 1 });
    const rows = await recordsOf(s.id);
    expect(rows).toHaveLength(2);
    const record = rows.find((r) => r.id === original.id);
    expect(record?.text).toContain('13 tokens per second');
    expect(record?.engagement).toEqual({ score: 977, comments: 301 });
    const [{ minhash: newSignature, bands }] = await db.query(
      `SELECT text_minhash AS minhash, cardinality(text_bands) AS bands FROM discourse_records WHERE id = $1`,
      [original.id],
    );
    expect(newSignature).not.toEqual(oldSignature);
    expect(bands).toBe(16);
  });
});
