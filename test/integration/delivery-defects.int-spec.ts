import { DataSource } from 'typeorm';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { IssuesService } from '../../src/issues/issues.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { type FakeClock } from '../fakes/fake-clock';
import { type FakeResend } from '../fakes/fake-resend';
import { deliveryFixtures, mailedTo, readers, type DeliveryTestBed } from '../support/delivery-fixtures';
import { type TestApp } from '../support/test-app';

/**
 * The three defects of issue 11, each reproduced as it was reported: an unsubscriber mailed after a 429, a
 * crash after Resend accepted a batch recorded as a failure, and a killed instance stalling delivery.
 */
describe('delivery defects', () => {
  let bed: DeliveryTestBed;
  let resend: FakeResend;
  let t: TestApp;
  let db: DataSource;
  let delivery: DeliveryService;
  let clock: FakeClock;
  let fx: ReturnType<typeof deliveryFixtures>;
  const mailed = (number: number) => mailedTo(resend, number);

  beforeAll(async () => {
    bed = await deliveryFixtures.startWithResend();
    ({ resend, t, db, delivery, clock, fx } = bed);
  });

  // Closes whichever app a test restarted last.
  afterAll(() => bed?.close());

  it('does not mail a reader who unsubscribed after the send started when the first request met a 429', async () => {
    const audience = readers('ratelimited', 6);
    const issue = await fx.issueFor(audience);
    await delivery.startSend(issue.id);
    await fx.unsubscribe(audience[3]);
    resend.failNext(1, { status: 429, retryAfterSeconds: 1 });
    await delivery.run();
    clock.advance(10 * 60_000);
    await delivery.run();

    expect(mailed(issue.number).sort()).toEqual(audience.filter((r) => r !== audience[3]));
    const status = await delivery.issueStatus(issue.number);
    expect(status).toMatchObject({ status: 'sent', audience: 6, accepted: 5, suppressed: 1, failed: 0, held: 0, pending: 0 });
  });

  it('keeps the identical payload after Resend accepted a batch and the answer was lost, even if the sender, links or readers changed', async () => {
    const audience = readers('dropped', 4);
    const issue = await fx.issueFor(audience);
    await delivery.startSend(issue.id);
    await fx.unsubscribe(audience[1]);
    resend.faultNext(1, { kind: 'accept-then-drop' });
    await delivery.run();
    expect(mailed(issue.number)).toHaveLength(3);

    // Between the attempts: the instance restarted with its configuration rotated (sender, public URL, signing
    // key), and another reader left (after the provider already sent it).
    t = await t.restart({ EMAIL_FROM: 'Renamed <other@example.org>', PUBLIC_URL: 'https://moved.example.org', SECRET_KEY: 'rotated-'.repeat(5) });
    db = t.get(DataSource);
    delivery = t.get(DeliveryService);
    fx = deliveryFixtures(t, db);
    try {
      await fx.unsubscribe(audience[2]);
      clock.advance(10 * 60_000);
      await delivery.run();
    } finally {
      t = await t.restart({});
      db = t.get(DataSource);
      delivery = t.get(DeliveryService);
      fx = deliveryFixtures(t, db);
    }

    expect(resend.requests.filter((r) => r.status === 409)).toHaveLength(0);
    expect(mailed(issue.number).sort()).toEqual([audience[0], audience[2], audience[3]]);
    const status = await delivery.issueStatus(issue.number);
    expect(status).toMatchObject({ status: 'sent', audience: 4, accepted: 3, suppressed: 1, failed: 0, held: 0, pending: 0 });
  });

  it('holds, never fails, a batch whose key Resend says was used with another payload', async () => {
    const issue = await fx.issueFor(readers('conflict', 2));
    await delivery.startSend(issue.id);
    resend.failNext(1, { status: 409, name: 'invalid_idempotent_request' });
    await delivery.run();
    const status = await delivery.issueStatus(issue.number);
    expect(status).toMatchObject({ status: 'held', audience: 2, accepted: 0, failed: 0, held: 2, pending: 0 });
    const [batch] = await delivery.batchesOf((await delivery.getSendForIssue(issue.id))!.id);
    expect(batch.status).toBe('held');
    expect(batch.lastError).toMatch(/outcome unknown/);
  });
});

/** A killed instance must cost seconds, not the half hour of a job-wide lease. */
describe('delivery after an instance was killed', () => {
  let bed: DeliveryTestBed;
  let resend: FakeResend;
  let t: TestApp;
  let clock: FakeClock;
  const never = '0 0 1 1 *';

  beforeAll(async () => {
    bed = await deliveryFixtures.startWithResend({
      SCHEDULER_ENABLED: 'true',
      CRON_DELIVER: '* * * * * *',
      CRON_POLL_SOURCES: never,
      CRON_BUILD_NARRATIVES: never,
      CRON_ASSEMBLE_ISSUE: never,
    });
    ({ resend, t, clock } = bed);
    await t.get(SubscribersService).seedActive(
      Array.from({ length: 120 }, (_, i) => `survivor${i}@example.net`),
      'test',
    );
  });

  afterAll(() => bed?.close());

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

    // The scheduler's every-second deliver job does the work: wait for the send's state, however slowly a loaded
    // machine runs the job (the test's timeout bounds the wait, not a deadline of its own).
    const delivery = t.get(DeliveryService);
    let status = await delivery.issueStatus(issue.number);
    while (status.status !== 'sent') {
      expect(status).toMatchObject({ failed: 0, held: 0 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await delivery.issueStatus(issue.number);
    }
    expect(status).toMatchObject({ status: 'sent', audience: 125, accepted: 125, pending: 0 });
    expect(new Set(resend.emails.map((e) => e.to[0])).size).toBe(125);
    expect(resend.emails).toHaveLength(125);
  }, 180_000);
});
