import { cliWorkspace } from '../support/run-cli';

/** `broadsheet beats add|list` on a real database. */
jest.setTimeout(300_000);

describe('broadsheet beats', () => {
  let cli: Awaited<ReturnType<typeof cliWorkspace>>;

  beforeAll(async () => {
    cli = await cliWorkspace({ DEMO: 'false' });
  });
  afterAll(async () => {
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
    const bad = await cli.run('beats', 'add', '--slug', 'Not A Slug!', '--name', 'x', '--keywords', ' , ');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/slug: lower-case letters/);
    expect(bad.stderr).toMatch(/keywords: at least one keyword/);
    expect((await cli.run('beats', 'add', '--slug', 'x')).code).toBe(2);
    expect((await cli.run('beats', 'list', '--json')).json()).toEqual([expect.objectContaining({ slug: 'ai-health' })]);
  });
});
