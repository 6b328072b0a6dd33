import { DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { FakeClock } from '../fakes/fake-clock';
import { startFakeResend, type FakeResend } from '../fakes/fake-resend';
import { startTestApp, type TestApp } from './test-app';

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

/** What `deliveryFixtures.startWithResend` starts: the fake Resend, an app on it with a fake clock, and the fixtures. */
export interface DeliveryTestBed {
  resend: FakeResend;
  t: TestApp;
  db: DataSource;
  delivery: DeliveryService;
  fx: ReturnType<typeof deliveryFixtures>;
  clock: FakeClock;
  close(): Promise<void>;
}

/**
 * The fake Resend and an app sending through it (the real SDK, `DELIVERY_RATE_PER_SECOND` 100, a fake clock at
 * 2026-11-27 12:00 UTC), with the demo week loaded (issue 1 assembled, nothing sent). `env` adds or overrides
 * settings. `close()` stops both.
 */
deliveryFixtures.startWithResend = async function startWithResend(env: Record<string, string> = {}): Promise<DeliveryTestBed> {
  const resend = await startFakeResend();
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
  let t: TestApp;
  try {
    t = await startTestApp({ RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url, DELIVERY_RATE_PER_SECOND: '100', ...env }, { clock });
  } catch (error) {
    await resend.close();
    throw error;
  }
  const db = t.get(DataSource);
  const fx = deliveryFixtures(t, db);
  const bed: DeliveryTestBed = {
    resend,
    t,
    db,
    delivery: t.get(DeliveryService),
    fx,
    clock,
    close: async () => {
      await t.close();
      await resend.close();
    },
  };
  try {
    await fx.demoWeek();
  } catch (error) {
    await bed.close();
    throw error;
  }
  return bed;
};
