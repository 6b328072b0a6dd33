import { DataSource } from 'typeorm';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { IssuesService } from '../../src/issues/issues.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { type FakeClock } from '../fakes/fake-clock';
import { type FakeResend } from '../fakes/fake-resend';
import { deliveryFixtures, type DeliveryTestBed, readers } from '../support/delivery-fixtures';
import { type TestApp } from '../support/test-app';

/** What delivery does when the world misbehaves: unsubscribes mid-send, provider outages, crashes. */
describe('delivery recovery', () => {
  let resend: FakeResend;
  let t: TestApp;
  let db: DataSource;
  let delivery: DeliveryService;
  let fx: ReturnType<typeof deliveryFixtures>;
  let clock: FakeClock;
  let bed: DeliveryTestBed;
  let issue1: string;

  /** Sends an issue made by the fixtures to its whole audience and checks it went out. */
  async function deliver(issueId: string): Promise<void> {
    await delivery.startSend(issueId);
    await delivery.run();
    expect((await delivery.getSendForIssue(issueId))!.status).toBe('sent');
  }

  /** Starts a send to `audience` whose one batch the provider accepts and whose answer is lost. */
  async function sendWithLostAnswer(audience: string[]): Promise<{ issue: { id: string; number: number }; send: { id: string } }> {
    const issue = await fx.issueFor(audience);
    const send = (await delivery.startSend(issue.id))!;
    resend.faultNext(1, { kind: 'accept-then-drop' });
    await delivery.run();
    return { issue, send };
  }

  /** The retry after a lost answer: the same payload under the same key (no 409), the send closed. */
  async function retryAndExpectSent(issueId: string, accepted: number): Promise<void> {
    clock.advance(10 * 60_000);
    await delivery.run();
    expect(resend.requests.filter((r) => r.status === 409)).toHaveLength(0);
    expect((await delivery.getSendForIssue(issueId))!).toMatchObject({ status: 'sent', accepted, held: 0 });
  }

  // The demo week with issue 1 approved and delivered to the demo subscribers: the public issue page and the
  // stories every fixture issue copies. Tests make their own issues (fixtures.issueFor) with their own readers.
  beforeAll(async () => {
    bed = await deliveryFixtures.startWithResend({ DELIVERY_MAX_ATTEMPTS: '2' });
    ({ resend, t, db, delivery, fx, clock } = bed);
    issue1 = (await db.query(`SELECT id FROM issues WHERE number = 1`))[0].id;
    await t.get(IssuesService).approve(issue1);
    await deliver(issue1);
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('does not mail someone who unsubscribed after the send started, and the books still close', async () => {
    const audience = readers('reader', 150);
    const issue = await fx.issueFor(audience);
    const send = (await delivery.startSend(issue.id))!;
    expect(send.audience).toBe(150);
    const leaver = (await delivery.recipientsOf(send.id)).find((r) => r.email === audience[77])!;
    const subscribers = t.get(SubscribersService);
    await subscribers.unsubscribe(subscribers.unsubscribeToken(leaver.subscriberId!));

    await delivery.run();
    const done = (await delivery.getSendForIssue(issue.id))!;
    expect(done).toMatchObject({ status: 'sent', audience: 150, accepted: 149, suppressed: 1, failed: 0, skipped: 0 });
    expect(resend.emails.map((e) => e.to[0])).not.toContain(audience[77]);
    expect((await delivery.recipientsOf(send.id)).find((r) => r.id === leaver.id)!.status).toBe('suppressed');
    expect((await db.query(`SELECT status FROM issues WHERE id = $1`, [issue.id]))[0].status).toBe('sent');
  });

  it('closes a send whose last batch was recorded just before a crash', async () => {
    const issue = await fx.issueFor(readers('closed', 3));
    await deliver(issue.id);
    // The state a crash leaves between recording the last batch and marking the send done.
    await db.query(`UPDATE sends SET status = 'sending', finished_at = NULL WHERE issue_id = $1`, [issue.id]);
    await db.query(`UPDATE issues SET status = 'approved' WHERE id = $1`, [issue.id]);
    const requests = resend.requests.length;
    await delivery.run();
    expect((await delivery.getSendForIssue(issue.id))!.status).toBe('sent');
    expect((await db.query(`SELECT status FROM issues WHERE id = $1`, [issue.id]))[0].status).toBe('sent');
    expect(resend.requests.length).toBe(requests);
  });

  it('holds, never fails or resends, a batch whose outcome is unknown after its last attempt', async () => {
    const issue = await fx.issueFor(readers('held', 5));
    resend.failNext(2, { status: 500 });
    expect((await delivery.run()).batchesRetried).toBe(1);
    clock.advance(10 * 60_000);
    expect((await delivery.run()).batchesHeld).toBe(1);
    const send = (await delivery.getSendForIssue(issue.id))!;
    expect(send.status).toBe('held');
    const [batch] = await delivery.batchesOf(send.id);
    expect(batch.status).toBe('held');
    expect(batch.lastError).toMatch(/may have accepted it/);
    expect((await delivery.recipientsOf(send.id)).every((r) => r.status === 'held')).toBe(true);
    expect(await delivery.issueStatus(issue.number)).toMatchObject({ status: 'held', audience: 5, held: 5, pending: 0, failed: 0 });
    clock.advance(60 * 60_000);
    const requests = resend.requests.length;
    await delivery.run();
    expect(resend.requests.length).toBe(requests);
  });

  it('rebuilds the identical payload after a lost answer from the links stored on the batch, and copies them onto the rows with the results', async () => {
    const { issue, send } = await sendWithLostAnswer(readers('linked', 4));
    // Prepared: the links are on the batch, not yet on the recipients' rows (each row is written once, with its result).
    const [prepared] = await db.query(`SELECT links FROM delivery_batches WHERE send_id = $1`, [send.id]);
    const links = (typeof prepared.links === 'string' ? JSON.parse(prepared.links) : prepared.links) as Record<string, string>;
    const rows: Array<{ id: string; unsubscribe_url: string | null }> = await db.query(`SELECT id, unsubscribe_url FROM recipients WHERE send_id = $1`, [
      send.id,
    ]);
    expect(rows.map((r) => r.unsubscribe_url)).toEqual([null, null, null, null]);
    expect(Object.keys(links).sort()).toEqual(rows.map((r) => r.id).sort());

    await retryAndExpectSent(issue.id, 4);
    const after: Array<{ id: string; unsubscribe_url: string }> = await db.query(`SELECT id, unsubscribe_url FROM recipients WHERE send_id = $1`, [send.id]);
    expect(Object.fromEntries(after.map((r) => [r.id, r.unsubscribe_url]))).toEqual(links);
  });

  it("rebuilds the identical payload of a batch prepared before links were stored on batches, from its recipients' rows", async () => {
    const audience = readers('upgraded', 3);
    const { issue, send } = await sendWithLostAnswer(audience);
    // What a batch prepared by the previous release looks like: its links on its recipients' rows only.
    await db.query(
      `UPDATE recipients r SET unsubscribe_url = b.links ->> r.id::text FROM delivery_batches b WHERE b.send_id = $1 AND r.send_id = b.send_id AND r.batch_number = b.number`,
      [send.id],
    );
    await db.query(`UPDATE delivery_batches SET links = NULL WHERE send_id = $1`, [send.id]);

    await retryAndExpectSent(issue.id, 3);
    expect(resend.emails.filter((e) => audience.includes(e.to[0]))).toHaveLength(3);
  });

  it('leaves a story out of the issue once it has been held', async () => {
    const [story] = await db.query(
      `SELECT n.id, n.slug FROM narratives n JOIN issue_entries e ON e.narrative_id = n.id WHERE e.issue_id = $1 ORDER BY e.position LIMIT 1`,
      [issue1],
    );
    await db.query(`UPDATE narratives SET status = 'held' WHERE id = $1`, [story.id]);
    const view = await t.get(IssuesService).getView(issue1);
    expect(view.stories.map((s) => s.id)).not.toContain(story.id);
    const before = view.stories.length;
    expect(before).toBeGreaterThan(0);
    const page = await (await fetch(`${t.url}/issues/1`)).text();
    expect(page).toContain(`/stories/${view.stories[0].slug}`);
    expect(page).not.toContain(`/stories/${story.slug}`);
  });
});
