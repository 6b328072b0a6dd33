import { DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { FakeClock } from '../fakes/fake-clock';
import { startFakeResend, type FakeResend } from '../fakes/fake-resend';
import { deliveryFixtures } from '../support/delivery-fixtures';
import { startTestApp, type TestApp } from '../support/test-app';

/** A running app wired to a fresh local fake that speaks Resend's wire format (real Resend SDK). */
async function startWithResend(clock: FakeClock): Promise<{ t: TestApp; resend: FakeResend }> {
  const resend = await startFakeResend();
  const t = await startTestApp({ RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url, DELIVERY_RATE_PER_SECOND: '100' }, { clock });
  return { t, resend };
}

/** The demo week delivered through the real Resend SDK to a local fake that speaks Resend's wire format. */
describe('delivery through Resend', () => {
  let resend: FakeResend;
  let t: TestApp;
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
  const extra = Array.from({ length: 245 }, (_, i) => `reader${String(i).padStart(3, '0')}@example.net`);

  beforeAll(async () => {
    ({ t, resend } = await startWithResend(clock));
    await t.get(DemoSeeder).seed();
    await t.get(SubscribersService).seedActive(extra, 'test');
  });

  afterAll(async () => {
    await t?.close();
    await resend?.close();
  });

  it('sends one digest per subscriber in batches of 100, retrying a 429 with the same idempotency key', async () => {
    resend.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const result = await t.get(PipelineService).runOnce({ approve: true });
    expect(result.issueNumber).toBe(1);

    const delivery = t.get(DeliveryService);
    const issueId: string = (await t.get(DataSource).query(`SELECT id FROM issues WHERE number = 1`))[0].id;
    let send = (await delivery.getSendForIssue(issueId))!;
    expect(send.status).toBe('sending');
    const batches = await delivery.batchesOf(send.id);
    expect(batches.map((b) => b.number)).toEqual([1, 2, 3]);
    // The batch that met the 429 is rescheduled past retry-after (not counted as an attempt); the others went out.
    const retried = batches.find((b) => b.lastError)!;
    expect(retried.lastError).toMatch(/rate_limit_exceeded/);
    expect(retried.status).toBe('pending');
    expect(retried.attempts).toBe(0);
    expect(retried.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + 1_000);
    expect(batches.filter((b) => b.status === 'sent')).toHaveLength(2);
    expect(resend.requests.filter((r) => r.path === '/emails/batch')).toHaveLength(3);

    // Not due yet: nothing is sent early.
    expect((await delivery.run()).batchesSent).toBe(0);
    clock.advance(10 * 60_000);
    expect((await delivery.run()).batchesSent).toBe(1);

    send = (await delivery.getSendForIssue(issueId))!;
    expect(send.status).toBe('sent');
    expect(send.audience).toBe(250);
    expect(send.accepted + send.suppressed + send.failed + send.skipped).toBe(send.audience);
    expect(send.accepted).toBe(250);

    const batchRequests = resend.requests.filter((r) => r.path === '/emails/batch');
    expect(batchRequests).toHaveLength(4);
    const keys = batchRequests.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(3);
    expect(keys.filter((k) => k === retried.idempotencyKey)).toHaveLength(2);
    for (const r of batchRequests) expect((r.body as unknown[]).length).toBeLessThanOrEqual(100);

    const to = resend.emails.map((e) => e.to[0]);
    expect(to).toHaveLength(250);
    expect(new Set(to).size).toBe(250);
    const email = resend.emails[0];
    expect(email.headers['List-Unsubscribe']).toMatch(new RegExp(`^<${t.url}/unsubscribe\\?token=[\\w.-]+>$`));
    expect(email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(email.html).toContain(email.headers['List-Unsubscribe'].slice(1, -1));
    expect(email.text).toContain(email.headers['List-Unsubscribe'].slice(1, -1));
    expect(email.html).not.toContain('broadsheet.invalid');
    // Each reader gets their own link.
    expect(new Set(resend.emails.map((e) => e.headers['List-Unsubscribe'])).size).toBe(250);
  });
});

/**
 * A crash between Resend accepting a batch and the answer being recorded. Its own app and fake Resend, with the
 * demo week assembled (issue 1, not sent) to copy a second issue from: nothing here depends on the test above.
 */
describe('delivery through Resend after a crash', () => {
  let resend: FakeResend;
  let t: TestApp;
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));

  beforeAll(async () => {
    ({ t, resend } = await startWithResend(clock));
    await deliveryFixtures(t, t.get(DataSource)).demoWeek();
  });

  afterAll(async () => {
    await t?.close();
    await resend?.close();
  });

  it('never duplicates a batch whose request reached Resend before a crash', async () => {
    const db = t.get(DataSource);
    // A second issue to a small audience: the demo week's five subscribers.
    await db.query(
      `INSERT INTO issues (number, week_start, week_end, title, intro, status, approved_at)
       SELECT 2, week_start + interval '7 days', week_end + interval '7 days', 'Second', 'x', 'approved', now() FROM issues WHERE number = 1`,
    );
    await db.query(
      `INSERT INTO issue_entries (issue_id, narrative_id, position) SELECT i2.id, e.narrative_id, e.position FROM issue_entries e JOIN issues i1 ON i1.id = e.issue_id AND i1.number = 1, issues i2 WHERE i2.number = 2`,
    );
    const delivery = t.get(DeliveryService);
    const issueId: string = (await db.query(`SELECT id FROM issues WHERE number = 2`))[0].id;
    const send = (await delivery.startSend(issueId))!;
    expect(send.audience).toBe(5);
    const [batch] = await delivery.batchesOf(send.id);

    // The crashed instance: Resend accepts the batch, then recording the answer fails (the database refuses it),
    // leaving the batch claimed with a lease, exactly as a process dying mid-batch would.
    await db.query(`ALTER TABLE recipients ADD CONSTRAINT test_crash CHECK (status <> 'accepted') NOT VALID`);
    const before = resend.emails.length;
    expect((await delivery.run()).errors).toBe(1);
    await db.query(`ALTER TABLE recipients DROP CONSTRAINT test_crash`);
    expect(resend.emails.length).toBe(before + 5);
    expect((await delivery.batchesOf(send.id))[0].status).toBe('submitting');

    // Before the lease ends nobody touches it; after, another run resends with the same key and Resend
    // answers from its idempotency store: nobody gets a second copy.
    expect((await delivery.run()).batchesSent).toBe(0);
    clock.advance(5 * 60_000);
    expect((await delivery.run()).batchesSent).toBe(1);
    const after = (await delivery.getSendForIssue(issueId))!;
    expect(after.status).toBe('sent');
    expect(after.accepted).toBe(5);
    expect(resend.emails.length).toBe(before + 5);
    const keys = resend.requests
      .filter((r) => r.path === '/emails/batch')
      .slice(-2)
      .map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([batch.idempotencyKey, batch.idempotencyKey]);
    expect(new Set((await delivery.recipientsOf(send.id)).map((r) => r.providerMessageId)).size).toBe(5);
  });
});
