import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakePlatforms, type FakePlatforms } from '../fakes/fake-platforms';
import { cliWorkspace } from '../support/run-cli';

/** `broadsheet sources …` on a real database, against recorded platform payloads served locally. */
jest.setTimeout(300_000);

describe('broadsheet sources', () => {
  let fake: FakePlatforms;
  let cli: Awaited<ReturnType<typeof cliWorkspace>>;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakePlatforms();
    dir = mkdtempSync(join(tmpdir(), 'broadsheet-opml-'));
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Each test on a database of its own (a new workspace has no sources), against the recorded payloads.
  beforeEach(async () => {
    fake.reset();
    cli = await cliWorkspace({
      DEMO: 'false',
      FETCH_ALLOWLIST: '127.0.0.1',
      HACKERNEWS_ALGOLIA_URL: fake.url,
      REDDIT_BASE_URL: fake.url,
      BLUESKY_APPVIEW_URL: fake.url,
    });
  });
  afterEach(async () => {
    await cli?.close();
  });

  it('starts with no sources, adds one, tests it without importing, polls it with run poll, and lists its health', async () => {
    expect((await cli.run('sources', 'list', '--json')).json()).toEqual([]);
    const added = await cli.run(
      'sources',
      'add',
      '--kind',
      'hackernews',
      '--target',
      'front',
      '--beat',
      'open-source-ai',
      '--every',
      '15m',
      '--name',
      'HN front',
      '--json',
    );
    expect(added.code).toBe(0);
    const source = added.json<{ id: string; slug: string }>();
    expect(source).toMatchObject({ slug: 'hn-front', kind: 'hackernews', target: 'front', beats: ['open-source-ai'], everySeconds: 900, status: 'active' });

    const tested = await cli.run('sources', 'test', source.id);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/hackernews front: 2 items would be imported, 1 rejected \(HTTP 200/);
    expect(tested.stdout).toContain('Larchmont-70B released with open weights — user1  [points 612, comments 301]');
    expect((await cli.run('sources', 'list', '--json')).json()).toEqual([expect.objectContaining({ records: 0, lastPolledAt: null })]);

    const polled = await cli.run('run', 'poll', '--json');
    expect(polled.code).toBe(0);
    const [row] = (await cli.run('sources', 'list', '--json')).json<Array<Record<string, unknown>>>();
    expect(Object.keys(row)).toEqual(expect.arrayContaining(['id', 'kind', 'target', 'status', 'records', 'lastPolledAt', 'lastError']));
    expect(row).toMatchObject({ id: source.id, kind: 'hackernews', target: 'front', status: 'active', records: 2, lastError: null, itemsLastPoll: 3 });
    expect(typeof row.lastPolledAt).toBe('string');

    const shown = await cli.run('sources', 'show', 'hn-front');
    expect(shown.stdout).toMatch(/succeeded 3 seen, 2 new, 0 updated, 0 known, 1 rejected/);
  });

  it('exits 1 with the reason when a target is refused or unreachable, and 2 on bad usage', async () => {
    const refused = await cli.run('sources', 'test', '--kind', 'rss', '--target', 'http://169.254.169.254/latest/meta-data/');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: 169\.254\.169\.254: 169\.254\.169\.254 is a link-local address/);
    const missing = await cli.run('sources', 'test', '--kind', 'rss', '--target', `${fake.url}/nothing-here.xml`, '--json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/the server answered 404 \(not found\)/);
    const invalid = await cli.run('sources', 'add', '--kind', 'reddit', '--target', 'LocalLLaMA');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/a reddit target is r\/<subreddit>/);
    expect((await cli.run('sources', 'test')).code).toBe(2);
    expect((await cli.run('sources', 'add', '--kind', 'rss')).code).toBe(2);
  });

  it('pauses, resumes and removes a source; imports and exports OPML', async () => {
    const add = await cli.run('sources', 'add', '--kind', 'rss', '--target', `${fake.url}/feeds/rss2.xml`, '--json');
    const { id } = add.json<{ id: string }>();
    expect((await cli.run('sources', 'pause', id, '--reason', 'too noisy', '--json')).json()).toMatchObject({
      status: 'paused',
      pausedReason: 'too noisy',
      nextPollAt: null,
    });
    expect((await cli.run('sources', 'resume', id, '--json')).json()).toMatchObject({ status: 'active', pausedReason: null });
    expect((await cli.run('sources', 'remove', id)).stdout).toMatch(/^removed /);
    expect((await cli.run('sources', 'show', id)).code).toBe(1);

    const file = join(dir, 'feeds.opml');
    writeFileSync(
      file,
      `<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body><outline text="Atom" type="rss" xmlUrl="${fake.url}/feeds/atom.xml"/><outline text="no url"/></body></opml>`,
    );
    const imported = await cli.run('sources', 'import-opml', file, '--beat', 'science', '--json');
    expect(imported.json()).toMatchObject({ added: [{ name: 'Atom', beats: ['science'] }], skipped: [] });
    const exported = await cli.run('sources', 'export-opml');
    expect(exported.stdout).toContain(`xmlUrl="${fake.url}/feeds/atom.xml"`);
    expect((await cli.run('sources', 'import-opml', join(dir, 'missing.opml'))).stderr).toMatch(/no such file/);
  });
});
