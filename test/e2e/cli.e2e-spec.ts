import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { cliWorkspace } from '../support/run-cli';

type Workspace = Awaited<ReturnType<typeof cliWorkspace>>;

/** The demo week loaded and its issue drafted (not approved), as the weekly job leaves it. */
async function withDraftedIssue(): Promise<Workspace> {
  const workspace = await cliWorkspace({ DEMO: 'false' });
  const ctx = workspace.context();
  try {
    await (await ctx.get(DemoSeeder)).seed();
    await (await ctx.get(PipelineService)).runOnce({ approve: false });
  } finally {
    await ctx.close();
  }
  return workspace;
}

// Each command boots the whole application, as it does for a user: a flow of six commands needs more than the default minute.
jest.setTimeout(180_000);

describe('the broadsheet command', () => {
  it('approves a drafted issue and delivers it, with --json figures that add up', async () => {
    const cli = await withDraftedIssue();
    try {
      const listed = await cli.run('issues', 'list', '--json');
      expect(listed.code).toBe(0);
      expect(listed.json()).toEqual([expect.objectContaining({ number: 1, status: 'draft' })]);

      const before = await cli.run('issues', 'status', '1', '--json');
      expect(before.json()).toMatchObject({ issue: 1, status: 'draft', audience: 0, pending: 0 });

      const approved = await cli.run('issues', 'approve', '1', '--json');
      expect(approved.code).toBe(0);
      expect(approved.json()).toMatchObject({ number: 1, status: 'approved' });

      const delivered = await cli.run('run', 'deliver', '--json');
      expect(delivered.code).toBe(0);
      expect(delivered.json()).toEqual([expect.objectContaining({ stage: 'deliver', delivery: expect.objectContaining({ sendsStarted: 1 }) })]);

      const after = await cli.run('issues', 'status', '1', '--json');
      const status = after.json<Record<string, number | string>>();
      expect(status).toMatchObject({ issue: 1, status: 'sent', pending: 0 });
      expect(status.audience).toBeGreaterThan(0);
      const parts = ['accepted', 'failed', 'suppressed', 'skipped', 'held', 'pending'].reduce((n, k) => n + Number(status[k]), 0);
      expect(parts).toBe(status.audience);

      // A second approval is refused with a reason and exit code 1.
      const again = await cli.run('issues', 'approve', '1');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/issue 1 is sent, not a draft/);
    } finally {
      await cli.close();
    }
  });

  it('shows an issue with its stories, and lists beats and subscriber counts', async () => {
    const cli = await withDraftedIssue();
    try {
      const shown = await cli.run('issues', 'show', '1', '--json');
      const issue = shown.json<{ number: number; stories: Array<{ position: number; headline: string; slug: string }> }>();
      expect(issue.number).toBe(1);
      expect(issue.stories.length).toBeGreaterThan(0);
      expect(issue.stories.map((s) => s.position)).toEqual(issue.stories.map((_, i) => i + 1));

      const human = await cli.run('issues', 'show', '1');
      expect(human.stdout).toContain(issue.stories[0].headline);

      const beats = await cli.run('beats', 'list', '--json');
      expect(
        beats
          .json<Array<{ slug: string }>>()
          .map((b) => b.slug)
          .sort(),
      ).toEqual(['ai-health', 'ai-policy', 'open-source-ai']);

      const counts = await cli.run('subscribers', 'count', '--json');
      const c = counts.json<{ total: number; byStatus: Record<string, number> }>();
      expect(c.total).toBe(Object.values(c.byStatus).reduce((a, b) => a + b, 0));
      expect(c.byStatus.active).toBeGreaterThan(0);
    } finally {
      await cli.close();
    }
  });

  it('runs every stage on an empty database and says what each did', async () => {
    const cli = await cliWorkspace({ DEMO: 'false' });
    try {
      const migrated = await cli.run('migrate', '--json');
      expect(migrated.code).toBe(0);
      expect(migrated.json<{ applied: number }>().applied).toBeGreaterThan(0);
      const ran = await cli.run('run', '--json');
      expect(ran.code).toBe(0);
      expect(ran.json<Array<{ stage: string }>>().map((r) => r.stage)).toEqual(['poll', 'build', 'assemble', 'deliver']);
      const human = await cli.run('run', 'assemble');
      expect(human.stdout).toMatch(/^assemble: no published stories last week, no issue$/m);
    } finally {
      await cli.close();
    }
  });

  it('exits 1 with a one-line reason on failure and 2 on bad usage, and has help everywhere', async () => {
    const cli = await cliWorkspace({ DEMO: 'false' });
    try {
      const missing = await cli.run('issues', 'show', '99', '--json');
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim().split('\n')).toEqual(['broadsheet: There is no issue 99.']);
      expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'There is no issue 99.' } });

      for (const argv of [
        ['issues', 'show', 'abc'],
        ['issues', 'show'],
        ['nonsense'],
        ['run', 'everything'],
        ['issues'],
        ['issues', 'list', '--limit', '0'],
        ['beats', 'list', '--bogus'],
      ]) {
        const bad = await cli.run(...argv);
        expect({ argv, code: bad.code }).toEqual({ argv, code: 2 });
        expect(bad.stderr).not.toBe('');
      }

      for (const argv of [
        ['--help'],
        ['issues', '--help'],
        ['issues', 'status', '--help'],
        ['run', '--help'],
        ['serve', '--help'],
        ['subscribers', 'count', '--help'],
      ]) {
        const help = await cli.run(...argv);
        expect({ argv, code: help.code }).toEqual({ argv, code: 0 });
        expect(help.stdout).toMatch(/^Usage: broadsheet/);
      }
    } finally {
      await cli.close();
    }
  });

  it('refuses a bad configuration with the variable named, before touching a database', async () => {
    const cli = await cliWorkspace({ PORT: 'abc' });
    try {
      const run = await cli.run('issues', 'list');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/PORT="abc": expected a whole number from 0 to 65535/);
    } finally {
      await cli.close();
    }
  });
});
