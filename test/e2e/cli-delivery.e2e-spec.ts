import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { IssuesService } from '../../src/issues/issues.service';
import { cliWorkspace } from '../support/run-cli';

/** `broadsheet issues send|pause|resume|cancel|status` on a real database, delivering to the outbox. */
describe('the broadsheet delivery commands', () => {
  it('schedules, pauses, resumes, cancels and reports a send with figures that add up', async () => {
    const cli = await cliWorkspace({ DEMO: 'false', DELIVERY_SEND_ON_APPROVE: 'false', DELIVERY_RATE_PER_SECOND: '0' });
    try {
      const ctx = cli.context();
      try {
        await (await ctx.get(DemoSeeder)).seed();
        await (await ctx.get(PipelineService)).runOnce({ approve: false });
      } finally {
        await ctx.close();
      }
      expect((await cli.run('issues', 'send', '1')).code).toBe(1);
      expect((await cli.run('issues', 'send', '1', '--at', 'tomorrow')).code).toBe(2);
      expect((await cli.run('issues', 'approve', '1', '--json')).code).toBe(0);

      const scheduled = await cli.run('issues', 'send', '1', '--at', '2099-01-04T07:00:00Z', '--json');
      expect(scheduled.code).toBe(0);
      expect(scheduled.json()).toMatchObject({ status: 'scheduled', scheduledAt: '2099-01-04T07:00:00.000Z' });
      const again = await cli.run('issues', 'send', '1');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already has a send in progress/);

      expect((await cli.run('issues', 'pause', '1', '--json')).json()).toMatchObject({ status: 'paused' });
      expect((await cli.run('issues', 'resume', '1', '--json')).json()).toMatchObject({ status: 'scheduled' });
      const cancelled = await cli.run('issues', 'cancel', '1', '--json');
      expect(cancelled.json()).toMatchObject({ status: 'cancelled', released: 0 });
      expect((await cli.run('issues', 'cancel', '1')).code).toBe(1);

      const now = await cli.run('issues', 'send', '1', '--json');
      expect(now.json()).toMatchObject({ status: 'sending', number: 2 });
      expect((await cli.run('run', 'deliver')).code).toBe(0);
      const status = (await cli.run('issues', 'status', '1', '--json')).json<Record<string, unknown>>();
      expect(status).toMatchObject({ issue: 1, status: 'sent', pending: 0, failed: 0 });
      const parts = ['accepted', 'failed', 'suppressed', 'skipped', 'held', 'pending'].reduce((n, k) => n + Number(status[k]), 0);
      expect(parts).toBe(status.audience);
      expect(status.audience).toBe(5);
      const followed = await cli.run('issues', 'status', '1', '--follow');
      expect(followed.code).toBe(0);
      expect(followed.stdout).toMatch(/accepted\s+5/);

      const check = cli.context();
      try {
        expect((await (await check.get(IssuesService)).getByNumber(1)).status).toBe('sent');
      } finally {
        await check.close();
      }
    } finally {
      await cli.close();
    }
    // Fourteen CLI invocations, each booting the application on PGlite: about 22 s on an idle 2-core machine, over
    // 60 s at a load of 7. A timeout it overran left PGlite booting into the next suite of the same jest worker.
  }, 180_000);
});
