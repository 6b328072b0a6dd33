import { DataSource } from 'typeorm';
import { FakeClock } from '../fakes/fake-clock';
import { startFakePlatforms, type FakePlatforms } from '../fakes/fake-platforms';
import { SourcesService } from '../../src/sources/sources.service';
import { startTestApp, type TestApp } from '../support/test-app';

/** Backoff after refusals: Retry-After honoured (seconds and HTTP dates), Reddit an hour at least after a 403. */
jest.setTimeout(180_000);

describe('source backoff', () => {
  let t: TestApp;
  let fake: FakePlatforms;
  let sources: SourcesService;
  const clock = new FakeClock(new Date('2026-11-20T12:00:00Z'));

  beforeAll(async () => {
    fake = await startFakePlatforms();
    t = await startTestApp({ FETCH_ALLOWLIST: '127.0.0.1', REDDIT_BASE_URL: fake.url, DEMO: 'false' }, { clock });
    sources = t.get(SourcesService);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  // Every fake platform is on one host: a backoff one test causes must not hold back the next.
  afterEach(async () => {
    for (const v of await sources.list()) await sources.remove(v.id);
    await t.get(DataSource).query(`DELETE FROM source_host_backoffs`);
    fake.reset();
  });

  const waitOf = async (id: string) => new Date((await sources.show(id)).nextPollAt ?? 0).getTime() - clock.now().getTime();
  const pollsOf = (path: string) => fake.requests.filter((r) => r.path.startsWith(path)).length;

  it('waits at least an hour after Reddit answers 403 to both the listing and the feed, and holds every subreddit on that host', async () => {
    fake.route('/r/LocalLLaMA/new.json', { status: 403, body: 'blocked' });
    fake.route('/r/LocalLLaMA/new/.rss', { status: 403, body: 'blocked' });
    const s = await sources.add({ kind: 'reddit', target: 'r/LocalLLaMA', every: '5m' });
    const failed = (await sources.pollAll()).find((p) => p.source === s.slug);
    expect(failed).toMatchObject({ ok: false, error: 'the server answered 403 (forbidden)' });
    expect(await waitOf(s.id)).toBeGreaterThanOrEqual(3600_000);
    // Another subreddit on the same host is not fetched while the host is backed off.
    const other = await sources.add({ kind: 'reddit', target: 'r/MachineLearning' });
    const before = fake.requests.length;
    clock.advance(10 * 60_000);
    const polls = await sources.pollAll();
    expect(polls.find((p) => p.source === other.slug)).toMatchObject({ ok: true, deferred: true, error: expect.stringMatching(/answered 403/) });
    expect(fake.requests.length).toBe(before);
    await sources.remove(s.id);
    await sources.remove(other.id);
  });

  it('honours a Retry-After longer than its own backoff, in seconds or as an HTTP date', async () => {
    fake.route('/slow/a.xml', { status: 503, body: 'busy', headers: { 'retry-after': '5400' } });
    const a = await sources.add({ kind: 'rss', target: `${fake.url}/slow/a.xml`, every: '5m' });
    expect((await sources.pollAll()).find((p) => p.source === a.slug)).toMatchObject({ ok: false, error: 'the server answered 503 (server error)' });
    expect(await waitOf(a.id)).toBeGreaterThanOrEqual(5400_000);
    await sources.remove(a.id);
    clock.advance(2 * 3600_000);

    const until = new Date(Date.now() + 3 * 3600_000).toUTCString();
    fake.route('/slow/b.xml', { status: 429, body: 'slow down', headers: { 'retry-after': until } });
    const b = await sources.add({ kind: 'rss', target: `${fake.url}/slow/b.xml`, every: '5m' });
    expect((await sources.pollAll()).find((p) => p.source === b.slug)).toMatchObject({ ok: false, error: 'the server answered 429 (too many requests)' });
    // Retry-After dates are read against the real time of the answer: about three hours.
    expect(await waitOf(b.id)).toBeGreaterThanOrEqual(3 * 3600_000 - 120_000);
    const requests = pollsOf('/slow/b.xml');
    clock.advance(60 * 60_000);
    // Not due an hour later; and `run poll` (every source now) still holds the host back.
    expect((await sources.pollDue()).find((p) => p.source === b.slug)).toBeUndefined();
    expect((await sources.pollAll()).find((p) => p.source === b.slug)).toMatchObject({
      ok: true,
      deferred: true,
      error: expect.stringMatching(/answered 429/),
    });
    expect(pollsOf('/slow/b.xml')).toBe(requests);
    await sources.remove(b.id);
  });
});
