import { type DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { type FakeResend } from '../fakes/fake-resend';
import { type TestApp } from './test-app';

/** `count` addresses of a test's own readers, in sorted order: readers('leave', 3) = leave000@…, leave001@…, leave002@…. */
export function readers(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}@example.net`);
}

/** Who the fake provider mailed a copy of issue `number`, in the order it accepted them. */
export function mailedTo(resend: FakeResend, number: number): string[] {
  return resend.emails.filter((e) => new RegExp(`No\\. ${number}( |$)`).test(e.subject)).map((e) => e.to[0]);
}

/**
 * Delivery test data on top of the demo week (issue 1 assembled): `issueFor(readers)` makes a fresh approved
 * issue with issue 1's stories whose audience is exactly `readers` (everyone else is unsubscribed).
 */
export function deliveryFixtures(t: TestApp, db: DataSource) {
  let last = 1;
  return {
    get lastNumber() {
      return last;
    },
    /** Loads the demo week and runs the pipeline once without approving: issue 1 is assembled, nothing is sent. */
    async demoWeek(): Promise<void> {
      await t.get(DemoSeeder).seed();
      await t.get(PipelineService).runOnce({ approve: false });
    },
    async issueFor(readers: string[], options: { keepOthers?: boolean } = {}): Promise<{ id: string; number: number }> {
      if (!options.keepOthers) await db.query(`UPDATE subscribers SET status = 'unsubscribed'`);
      await t.get(SubscribersService).seedActive(readers, 'test');
      await db.query(`UPDATE subscribers SET status = 'active' WHERE email = ANY($1)`, [readers]);
      const [{ next }] = await db.query(`SELECT max(number) + 1 AS next FROM issues`);
      last = Number(next);
      await db.query(
        `INSERT INTO issues (number, week_start, week_end, title, intro, status, approved_at)
         SELECT $1, week_start + ($1 - 1) * interval '7 days', week_end + ($1 - 1) * interval '7 days', 'Issue ' || $1, 'x', 'approved', now() FROM issues WHERE number = 1`,
        [last],
      );
      await db.query(
        `INSERT INTO issue_entries (issue_id, narrative_id, position)
         SELECT i2.id, e.narrative_id, e.position FROM issue_entries e JOIN issues i1 ON i1.id = e.issue_id AND i1.number = 1, issues i2 WHERE i2.number = $1`,
        [last],
      );
      return { id: (await db.query(`SELECT id FROM issues WHERE number = $1`, [last]))[0].id, number: last };
    },
    async unsubscribe(email: string): Promise<void> {
      const subscribers = t.get(SubscribersService);
      const [{ id }] = await db.query(`SELECT id FROM subscribers WHERE email = $1`, [email]);
      await subscribers.unsubscribe(subscribers.unsubscribeToken(id));
    },
  };
}
