import { DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { IssuesService } from '../../src/issues/issues.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { FakeClock } from '../fakes/fake-clock';
import { startFakeResend, type FakeResend } from '../fakes/fake-resend';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The three defects of issue 11, each reproduced as it was reported: an unsubscriber mailed after a 429, a
 * crash after Resend accepted a batch recorded as a failure, and a killed instance stalling delivery.
 */
describe('delivery defects', () => {
  let resend: FakeResend;
  let t: TestApp;
  let db: DataSource;
  let delivery: DeliveryService;
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
  let nextIssue = 1;

  /** A fresh approved issue (a copy of issue 1's stories) with the given active readers as the audience. */
  async function issueFor(readers: string[]): Promise<string> {
    await db.query(`UPDATE subscribers SET status = 'unsubscribed'`);
    await t.get(SubscribersService).seedActive(readers, 'test');
    await db.query(`UPDATE subscribers SET status = 'active' WHERE email = ANY($1)`, [readers]);
    const number = ++nextIssue;
    await db.query(
      `INSERT INTO issues (number, week_start, week_end, title, intro, status, approved_at)
       SELECT $1, week_start + ($1 - 1) * interval '7 days', week_end + ($1 - 1) * interval '7 days', 'Issue ' || $1, 'x', 'approved', now() FROM issues WHERE number = 1`,
      [number],
    );
    await db.query(
      `INSERT INTO issue_entries (issue_id, narrative_id, position)
       SELECT i2.id, e.narrative_id, e.position FROM issue_entries e JOIN issues i1 ON i1.id = e.issue_id AND i1.number = 1, issues i2 WHERE i2.number = $1`,
      [number],
    );
    return (await db.query(`SELECT id FROM issues WHERE number = $1`, [number]))[0].id;
  }

  async function unsubscribe(email: string): Promise<void> {
    const subscribers = t.get(SubscribersService);
    const [{ id }] = await db.query(`SELECT id FROM subscribers WHERE email = $1`, [email]);
    await subscribers.unsubscribe(subscribers.unsubscribeToken(id));
  }

  function mailedTo(issueNumber: number): string[] {
    return resend.emails.filter((e) => new RegExp(`No\\. ${issueNumber}( |$)`).test(e.subject)).map((e) => e.to[0]);
  }

  beforeAll(async () => {
    resend = await startFakeResend();
    t = await startTestApp({ RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url, DELIVERY_RATE_PER_SECOND: '100' }, { clock });
    db = t.get(DataSource);
    delivery = t.get(DeliveryService);
    await t.get(DemoSeeder).seed();
    await t.get(PipelineService).runOnce({ approve: false });
  });

  afterAll(async () => {
    await t?.close();
    await resend?.close();
  });

  it('does not mail a reader who unsubscribed after the send started when the first request met a 429', async () => {
    const readers = Array.from({ length: 6 }, (_, i) => `ratelimited${i}@example.net`);
    const issueId = await issueFor(readers);
    await delivery.startSend(issueId);
    await unsubscribe('ratelimited3@example.net');
    resend.failNext(1, { status: 429, retryAfterSeconds: 1 });
    await delivery.run();
    clock.advance(10 * 60_000);
    await delivery.run();

    const number = nextIssue;
    expect(mailedTo(number).sort()).toEqual(readers.filter((r) => r !== 'ratelimited3@example.net').sort());
    const status = await delivery.issueStatus(number);
    expect(status).toMatchObject({ status: 'sent', audience: 6, accepted: 5, suppressed: 1, failed: 0, held: 0, pending: 0 });
  });

  it('keeps the identical payload after Resend accepted a batch and the answer was lost, even if the sender, links or readers changed', async () => {
    const readers = Array.from({ length: 4 }, (_, i) => `dropped${i}@example.net`);
    const issueId = await issueFor(readers);
    await delivery.startSend(issueId);
    await unsubscribe('dropped1@example.net');
    resend.faultNext(1, { kind: 'accept-then-drop' });
    await delivery.run();
    const number = nextIssue;
    expect(mailedTo(number)).toHaveLength(3);

    // Between the attempts: the instance restarted with its configuration rotated (sender, public URL, signing
    // key), and another reader left (after the provider already sent it).
    t = await t.restart({ EMAIL_FROM: 'Renamed <other@example.org>', PUBLIC_URL: 'https://moved.example.org', SECRET_KEY: 'rotated-'.repeat(5) });
    db = t.get(DataSource);
    delivery = t.get(DeliveryService);
    try {
      await unsubscribe('dropped2@example.net');
      clock.advance(10 * 60_000);
      await delivery.run();
    } finally {
      t = await t.restart({});
      db = t.get(DataSource);
      delivery = t.get(DeliveryService);
    }

    expect(resend.requests.filter((r) => r.status === 409)).toHaveLength(0);
    expect(mailedTo(number).sort()).toEqual(['dropped0@example.net', 'dropped2@example.net', 'dropped3@example.net']);
    const status = await delivery.issueStatus(number);
    expect(status).toMatchObject({ status: 'sent', audience: 4, accepted: 3, suppressed: 1, failed: 0, held: 0, pending: 0 });
  });

  it('holds, never fails, a batch whose key Resend says was used with another payload', async () => {
    const readers = ['conflict0@example.net', 'conflict1@example.net'];
    const issueId = await issueFor(readers);
    await delivery.startSend(issueId);
    resend.failNext(1, { status: 409, name: 'invalid_idempotent_request' });
    await delivery.run();
    const status = await delivery.issueStatus(nextIssue);
    expect(status).toMatchObject({ status: 'held', audience: 2, accepted: 0, failed: 0, held: 2, pending: 0 });
    const [batch] = await delivery.batchesOf((await delivery.getSendForIssue(issueId))!.id);
    expect(batch.status).toBe('held');
    expect(batch.lastError).toMatch(/outcome unknown/);
  });
});

/** A killed instance must cost seconds, not the half hour of a job-wide lease. */
describe('delivery after an instance was killed', () => {
  let resend: FakeResend;
  let t: TestApp;
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
  const never = '0 0 1 1 *';

  beforeAll(async () => {
    resend = await startFakeResend();
    t = await startTestApp(
      {
        RESEND_API_KEY: resend.apiKey,
        RESEND_BASE_URL: resend.url,
        DELIVERY_RATE_PER_SECOND: '100',
        SCHEDULER_ENABLED: 'true',
        CRON_DELIVER: '* * * * * *',
        CRON_POLL_SOURCES: never,
        CRON_BUILD_NARRATIVES: never,
        CRON_ASSEMBLE_ISSUE: never,
      },
      { clock },
    );
    await t.get(DemoSeeder).seed();
    await t.get(SubscribersService).seedActive(
      Array.from({ length: 120 }, (_, i) => `survivor${i}@example.net`),
      'test',
    );
    await t.get(PipelineService).runOnce({ approve: false });
  });

  afterAll(async () => {
    await t?.close();
    await resend?.close();
  });

  it('delivers on the surviving instance while the dead one still holds the deliver job lease', async () => {
    const db = t.get(DataSource);
    // What a SIGKILLed instance leaves behind mid-run: the deliver job's lease, still 30 minutes long.
    await db.query(
      `INSERT INTO job_locks (name, owner, locked_until, last_started_at) VALUES ('deliver', 'killed-instance', $1, $2)
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, locked_until = EXCLUDED.locked_until`,
      [new Date(clock.now().getTime() + 30 * 60_000), clock.now()],
    );
    const [issue] = await db.query(`SELECT id, number FROM issues WHERE number = 1`);
    await t.get(IssuesService).approve(issue.id);
    clock.advance(5_000);

    const delivery = t.get(DeliveryService);
    const deadline = Date.now() + 30_000;
    let status = await delivery.issueStatus(issue.number);
    while (status.status !== 'sent' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await delivery.issueStatus(issue.number);
    }
    expect(status).toMatchObject({ status: 'sent', audience: 125, accepted: 125, pending: 0 });
    expect(new Set(resend.emails.map((e) => e.to[0])).size).toBe(125);
    expect(resend.emails).toHaveLength(125);
  });
});
