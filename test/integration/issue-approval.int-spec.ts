import { DemoSeeder } from '../../src/admin/demo-seeder';
import { Issue } from '../../src/issues/issue.entity';
import { IssuesService } from '../../src/issues/issues.service';
import { weekContaining } from '../../src/kernel/clock/week';
import { SourcesService } from '../../src/sources/sources.service';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { startTestApp, type TestApp } from '../support/test-app';

jest.setTimeout(300_000);

/** Nothing goes out without a person: the weekly job drafts; only ISSUES_AUTO_APPROVE=true approves by itself. */
describe('weekly issue approval', () => {
  async function weeklyRun(env: Record<string, string>): Promise<{ t: TestApp; status: string; plain: boolean }> {
    const t = await startTestApp({ DEMO: 'false', ...env });
    await t.get(DemoSeeder).seed();
    await t.get(SourcesService).pollAll();
    const week = weekContaining((await t.get(SourcesService).latestRecordAt())!);
    await t.get(NarrativesService).build(week);
    const issue = await t.get(IssuesService).assembleWeekly(week);
    const view = await t.get(IssuesService).getByNumber(issue!.number);
    return { t, status: view.status, plain: !(view instanceof Issue) && !(issue instanceof Issue) };
  }

  it('leaves the drafted issue waiting for an editor by default', async () => {
    const { t, status, plain } = await weeklyRun({});
    try {
      expect(status).toBe('draft');
      // Services hand out plain view objects, not the TypeORM entity.
      expect(plain).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('approves it at once with ISSUES_AUTO_APPROVE=true', async () => {
    const { t, status } = await weeklyRun({ ISSUES_AUTO_APPROVE: 'true' });
    try {
      expect(status).toBe('approved');
    } finally {
      await t.close();
    }
  });
});
