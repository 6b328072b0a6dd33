import { DataSource } from 'typeorm';
import { DeliveryRepository } from '../../src/delivery/delivery.repository';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { type FakeClock } from '../fakes/fake-clock';
import { type FakeResend } from '../fakes/fake-resend';
import { deliveryFixtures, type DeliveryTestBed, mailedTo, readers } from '../support/delivery-fixtures';
import { type TestApp } from '../support/test-app';

/** Editors' controls and the provider's faults, through the real Resend SDK against the fake. */
describe('delivery controls and provider faults', () => {
  let resend: FakeResend;
  let t: TestApp;
  let db: DataSource;
  let delivery: DeliveryService;
  let fx: ReturnType<typeof deliveryFixtures>;
  let clock: FakeClock;
  let bed: DeliveryTestBed;
  const mailed = (number: number) => mailedTo(resend, number);

  beforeAll(async () => {
    bed = await deliveryFixtures.startWithResend({ DELIVERY_MAX_ATTEMPTS: '3' });
    ({ resend, t, db, delivery, fx, clock } = bed);
  });

  afterAll(async () => {
    await bed?.close();
  });

  // A case that fails half-way leaves its send open and its faults queued: cancel the one, forget the other, so the
  // next case's claims and faults are its own.
  afterEach(async () => {
    resend.clearFaults();
    const open: Array<{ number: number }> = await db.query(
      `SELECT DISTINCT i.number FROM sends s JOIN issues i ON i.id = s.issue_id WHERE s.status IN ('scheduled', 'sending', 'paused')`,
    );
    for (const { number } of open) await delivery.cancel(number);
  });

  it('sends an issue again only to active subscribers who have no copy (catch-up), never twice', async () => {
    const first = readers('early', 3);
    const issue = await fx.issueFor(first);
    await delivery.run();
    expect(mailed(issue.number).sort()).toEqual(first);
    await t.get(SubscribersService).seedActive(readers('late', 2), 'test');

    const catchUp = await delivery.send(issue.number);
    expect(catchUp).toMatchObject({ number: 2, audience: 2 });
    await delivery.run();
    expect(mailed(issue.number).sort()).toEqual([...first, ...readers('late', 2)].sort());
    expect(await delivery.issueStatus(issue.number)).toMatchObject({ status: 'sent', audience: 5, accepted: 5, pending: 0 });

    // Nobody new: a third send freezes an empty audience and mails no one.
    await delivery.send(issue.number);
    await delivery.run();
    expect(mailed(issue.number)).toHaveLength(5);
  });

  it('pauses a send when the daily quota is used up, fails nobody, and resumes when it resets', async () => {
    const issue = await fx.issueFor(readers('quota', 4));
    resend.failNext(1, { status: 429, name: 'daily_quota_exceeded' });
    await delivery.run();
    let status = await delivery.issueStatus(issue.number);
    expect(status).toMatchObject({ status: 'paused', failed: 0, accepted: 0, pending: 4 });
    expect(status.sends[0].pauseReason).toMatch(/daily_quota_exceeded/);
    expect(new Date(status.sends[0].resumeAt!).getTime()).toBeGreaterThan(clock.now().getTime());

    await delivery.run();
    expect(mailed(issue.number)).toHaveLength(0);
    clock.set(new Date(status.sends[0].resumeAt!));
    await delivery.run();
    status = await delivery.issueStatus(issue.number);
    expect(status).toMatchObject({ status: 'sent', accepted: 4, failed: 0 });
  });

  it('fails only the recipient whose address the provider refuses', async () => {
    const list = readers('valid', 3);
    const issue = await fx.issueFor(list);
    const send = (await delivery.startSend(issue.id))!;
    await db.query(`UPDATE recipients SET email = 'not an address' WHERE send_id = $1 AND email = $2`, [send.id, list[1]]);
    await delivery.run();
    expect(await delivery.issueStatus(issue.number)).toMatchObject({ status: 'sent', accepted: 2, failed: 1 });
    const failed = (await delivery.recipientsOf(send.id)).find((r) => r.status === 'failed')!;
    expect(failed.error).toMatch(/to/);
  });

  it('retries a 5xx with backoff under the same key, and sends each reader once', async () => {
    const issue = await fx.issueFor(readers('flaky', 3));
    resend.failNext(1, { status: 500 });
    await delivery.run();
    const send = (await delivery.getSendForIssue(issue.id))!;
    const [batch] = await delivery.batchesOf(send.id);
    expect(batch).toMatchObject({ status: 'pending', attempts: 1, keyUsed: true });
    expect(batch.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + 1_000);
    clock.advance(60_000);
    await delivery.run();
    expect(mailed(issue.number).sort()).toEqual(readers('flaky', 3));
    const keys = resend.requests.filter((r) => r.headers['idempotency-key'] === batch.idempotencyKey);
    expect(keys.map((r) => r.status)).toEqual([500, 200]);
  });

  it('pauses, resumes and cancels without re-sending; a cancelled send releases those nobody tried', async () => {
    const list = readers('paused', 150);
    const issue = await fx.issueFor(list);
    await delivery.startSend(issue.id);
    await delivery.pause(issue.number);
    await delivery.run();
    expect(mailed(issue.number)).toHaveLength(0);
    await delivery.resume(issue.number);
    await expect(delivery.resume(issue.number)).rejects.toThrow(/not paused/);

    // One batch goes out, then the editor cancels: the other batch is released, the sent one stays sent.
    const send = (await delivery.getSendForIssue(issue.id))!;
    await db.query(`UPDATE delivery_batches SET next_attempt_at = $2 WHERE send_id = $1 AND number = 2`, [
      send.id,
      new Date(clock.now().getTime() + 3_600_000),
    ]);
    await delivery.run();
    expect(mailed(issue.number)).toHaveLength(100);
    const cancelled = await delivery.cancel(issue.number);
    expect(cancelled).toMatchObject({ status: 'cancelled', released: 50, audience: 100 });
    clock.advance(2 * 3_600_000);
    await delivery.run();
    expect(mailed(issue.number)).toHaveLength(100);
    expect(await delivery.issueStatus(issue.number)).toMatchObject({ status: 'cancelled', audience: 100, accepted: 100, pending: 0, cancelled: 50 });

    // Sending the issue again reaches the released readers only.
    await delivery.send(issue.number);
    await delivery.run();
    expect(mailed(issue.number).sort()).toEqual(list);
  });

  it('retries only the failed recipients, under new keys', async () => {
    const issue = await fx.issueFor(readers('refused', 3));
    resend.failNext(1, { status: 422, name: 'validation_error', message: 'The `from` field is invalid.' });
    await delivery.run();
    expect(await delivery.issueStatus(issue.number)).toMatchObject({ status: 'sent', failed: 3, accepted: 0 });
    expect(await delivery.retryFailed(issue.number)).toEqual({ recipients: 3 });
    await delivery.run();
    expect(await delivery.issueStatus(issue.number)).toMatchObject({ status: 'sent', failed: 0, accepted: 3, audience: 3 });
    expect(mailed(issue.number).sort()).toEqual(readers('refused', 3));
    expect(await delivery.retryFailed(issue.number)).toEqual({ recipients: 0 });
  });

  it("releases a held batch by the editor's decision, with the reason recorded", async () => {
    const issue = await fx.issueFor(readers('held', 2));
    resend.failNext(1, { status: 409, name: 'invalid_idempotent_request' });
    await delivery.run();
    let status = await delivery.issueStatus(issue.number);
    expect(status).toMatchObject({ status: 'held', held: 2 });
    const [held] = status.heldBatches;
    await expect(delivery.releaseHeld({ batchId: held.id, action: 'resend', reason: '  ' })).rejects.toThrow(/reason/);
    await delivery.releaseHeld({ batchId: held.id, action: 'resend', reason: 'checked the Resend dashboard: not delivered' });
    await delivery.run();
    status = await delivery.issueStatus(issue.number);
    expect(status).toMatchObject({ status: 'sent', held: 0, accepted: 2 });
    const [batch] = await delivery.batchesOf((await delivery.getSendForIssue(issue.id))!.id);
    expect(batch.idempotencyKey).toMatch(/-r1$/);
    expect(batch.releaseNote).toBe('resend by an editor: checked the Resend dashboard: not delivered');
    await expect(delivery.releaseHeld({ batchId: held.id, action: 'failed', reason: 'again' })).rejects.toThrow(/not held/);

    const other = await fx.issueFor(readers('checked', 2));
    resend.failNext(1, { status: 409, name: 'invalid_idempotent_request' });
    await delivery.run();
    const [again] = (await delivery.issueStatus(other.number)).heldBatches;
    await delivery.releaseHeld({ batchId: again.id, action: 'accepted', reason: 'the provider log shows both delivered' });
    expect(await delivery.issueStatus(other.number)).toMatchObject({ status: 'sent', accepted: 2, held: 0, pending: 0 });
    expect(mailed(other.number)).toHaveLength(0);
  });

  it('sends a test to given addresses, marked as a test and outside the statistics', async () => {
    const issue = await fx.issueFor(readers('stats', 2));
    await delivery.run();
    const before = await delivery.issueStatus(issue.number);
    const test = await delivery.testSend(issue.number, ['editor@example.org']);
    expect(test).toMatchObject({ kind: 'test', accepted: 1 });
    const email = resend.emails[resend.emails.length - 1];
    expect(email).toMatchObject({ to: ['editor@example.org'] });
    expect(email.subject).toMatch(/^\[Test\]/);
    expect(await delivery.issueStatus(issue.number)).toEqual(before);
    await expect(delivery.testSend(issue.number, ['not an address'])).rejects.toThrow(/cannot contain spaces/);
  });

  it('fences claims: a worker that lost its lease cannot record over the one that holds it', async () => {
    const repo = t.get(DeliveryRepository);
    const issue = await fx.issueFor(readers('fenced', 2));
    const send = (await delivery.startSend(issue.id))!;
    const lease = t.config.email.leaseMs;
    const [stale] = await repo.claim(clock.now(), lease, 1);
    expect(stale.sendId).toBe(send.id);
    expect(await repo.claim(clock.now(), lease, 1)).toEqual([]);
    clock.advance(lease + 1_000);
    const [fresh] = await repo.claim(clock.now(), lease, 1);
    expect(fresh.id).toBe(stale.id);
    expect(fresh.leaseToken).not.toBe(stale.leaseToken);

    const members = await repo.members(send.id, stale.number);
    const asFailed = members.map((m) => ({ recipientId: m.id, status: 'failed' as const, messageId: null, error: 'stale' }));
    expect(await repo.complete(stale, asFailed as never, 'failed' as never, 'stale')).toBe(false);
    const asAccepted = members.map((m) => ({ recipientId: m.id, status: 'accepted' as const, messageId: `m-${m.id}`, error: null }));
    expect(await repo.complete(fresh, asAccepted as never, 'sent' as never, null)).toBe(true);
    expect((await delivery.recipientsOf(send.id)).map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect((await repo.getSend(send.id))!).toMatchObject({ accepted: 2, failed: 0 });
  });
});
