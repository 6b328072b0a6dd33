import { cliWorkspace } from '../support/run-cli';

/** `broadsheet beats add|list` on a real database. */
jest.setTimeout(300_000);

describe('broadsheet beats', () => {
  let cli: Awaited<ReturnType<typeof cliWorkspace>>;

  // Each test on a database of its own: a new workspace has no beats.
  beforeEach(async () => {
    cli = await cliWorkspace({ DEMO: 'false' });
  });
  afterEach(async () => {
    await cli?.close();
  });

  it('adds a beat an editor defines, lists it, and redefines it by slug', async () => {
    expect((await cli.run('beats', 'list', '--json')).json()).toEqual([]);
    const added = await cli.run(
      'beats',
      'add',
      '--slug',
      'ai-health',
      '--name',
      'AI in health',
      '--description',
      'Hospitals and AI.',
      '--keywords',
      'scribe, Patients,,hospital',
      '--json',
    );
    expect(added.code).toBe(0);
    expect(added.json()).toMatchObject({
      slug: 'ai-health',
      name: 'AI in health',
      description: 'Hospitals and AI.',
      keywords: ['scribe', 'patients', 'hospital'],
    });
    const again = await cli.run('beats', 'add', '--slug', 'ai-health', '--name', 'AI and health', '--keywords', 'scribe');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/beat ai-health saved: AI and health \(scribe\)/);
    expect((await cli.run('beats', 'list', '--json')).json()).toEqual([
      expect.objectContaining({ slug: 'ai-health', name: 'AI and health', keywords: ['scribe'] }),
    ]);
  });

  it('refuses a bad beat with the reason (exit 1) and a missing option as bad usage (exit 2)', async () => {
    expect((await cli.run('beats', 'add', '--slug', 'ai-health', '--name', 'AI in health', '--keywords', 'scribe')).code).toBe(0);
    const before = (await cli.run('beats', 'list', '--json')).json();
    expect(before).toEqual([expect.objectContaining({ slug: 'ai-health' })]);
    const bad = await cli.run('beats', 'add', '--slug', 'Not A Slug!', '--name', 'x', '--keywords', ' , ');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/slug: lower-case letters/);
    expect(bad.stderr).toMatch(/keywords: at least one keyword/);
    expect((await cli.run('beats', 'add', '--slug', 'x')).code).toBe(2);
    // Neither refused beat was saved.
    expect((await cli.run('beats', 'list', '--json')).json()).toEqual(before);
  });
});
