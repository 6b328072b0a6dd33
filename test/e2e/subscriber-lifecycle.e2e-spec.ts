import { DataSource } from 'typeorm';
import { SubscriberMailer } from '../../src/subscribers/subscriber-mailer';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { FakeClock } from '../fakes/fake-clock';
import { linkAfter, mailsTo, postForm, tokenOf } from '../support/subscriptions';
import { startTestApp, type TestApp } from '../support/test-app';

/** A subscriber's whole life over HTTP on the real app: welcome, preferences, address change, suppression, privacy, editors. */
describe('subscriber lifecycle', () => {
  let t: TestApp;
  let db: DataSource;
  let subscribers: SubscribersService;
  let mailer: SubscriberMailer;
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));

  beforeAll(async () => {
    t = await startTestApp({ SUBSCRIBE_CLIENT_LIMIT: '1000', SUBSCRIBE_ADDRESS_LIMIT: '1000' }, { clock });
    t.app.set('trust proxy', 'loopback');
    db = t.get(DataSource);
    subscribers = t.get(SubscribersService);
    mailer = t.get(SubscriberMailer);
  });
  afterAll(() => t?.close());

  const outbox = () => t.config.email.outboxDir;
  const row = async (email: string) => (await db.query(`SELECT * FROM subscribers WHERE lower(email) = lower($1)`, [email]))[0];

  /** Signs up over HTTP and confirms with the emailed link's button; returns the preferences link from the welcome email. */
  async function signUpAndConfirm(email: string, ip = '192.0.2.10'): Promise<string> {
    expect((await postForm(`${t.url}/subscribe`, { email }, { ip })).status).toBe(200);
    await mailer.run();
    const confirm = (await mailsTo(outbox(), email, 'Confirm')).at(-1)!;
    expect((await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(linkAfter(confirm, 'Confirm your subscription')) })).status).toBe(200);
    await mailer.run();
    const [welcome] = await mailsTo(outbox(), email, 'Welcome');
    return linkAfter(welcome, 'Your preferences \\(beats, pause, change of address, your data\\)');
  }

  it('sends a welcome email after confirmation with the latest issue, the archive, preferences and one-click unsubscribe', async () => {
    const prefs = await signUpAndConfirm('welcome@example.com');
    const [welcome] = await mailsTo(outbox(), 'welcome@example.com', 'Welcome');
    // No issue was sent yet: the welcome email links the archive (test/e2e/welcome-catch-up.e2e-spec.ts covers the latest issue).
    expect(welcome.mail.text).toContain('No issue has gone out yet');
    expect(linkAfter(welcome, 'Every past issue')).toBe(`${t.url}/issues`);
    expect(welcome.mail.html).toContain(tokenOf(prefs));
    const unsubscribe = linkAfter(welcome, 'Unsubscribe');
    expect(welcome.header('list-unsubscribe')).toBe(`<${unsubscribe}>`);
    expect(welcome.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    // Confirming twice sends no second welcome.
    const confirm = (await mailsTo(outbox(), 'welcome@example.com', 'Confirm'))[0];
    expect((await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(linkAfter(confirm, 'Confirm your subscription')) })).status).toBe(200);
    await mailer.run();
    expect(await mailsTo(outbox(), 'welcome@example.com', 'Welcome')).toHaveLength(1);
  });

  it('the preferences page sets beats and a pause; a paused subscriber is left out of sends until the pause ends', async () => {
    const prefs = await signUpAndConfirm('prefs@example.com');
    const page = await fetch(prefs);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Subscription for <strong>prefs@example.com</strong>');
    const token = tokenOf(prefs);
    const savedAt = clock.now();
    const saved = await postForm(`${t.url}/preferences`, { token, action: 'save', beats: ['ai-agents', 'open-source'], pause_weeks: '2' });
    expect(saved.status).toBe(200);
    const r = await row('prefs@example.com');
    expect(r.beat_slugs).toEqual(['ai-agents', 'open-source']);
    // Two weeks from when it was saved (2026-12-11T12:00Z when this test runs first, on the clock's start).
    expect(r.paused_until.toISOString()).toBe(new Date(savedAt.getTime() + 14 * 86_400_000).toISOString());
    const audience = async () => (await subscribers.getActiveAfter(null, 1000)).map((s) => s.email);
    expect(await audience()).not.toContain('prefs@example.com');
    expect(await subscribers.activeIds([r.id])).toEqual(new Set());
    const bad = await postForm(`${t.url}/preferences`, { token, action: 'save', pause_weeks: '99' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('from 0 to 52');
    expect((await postForm(`${t.url}/preferences`, { token, action: 'save', beats: 'Not A Slug' })).status).toBe(400);
    clock.advance(15 * 86_400_000);
    expect(await audience()).toContain('prefs@example.com');
    // Cross-site posts to the preferences form are refused.
    expect((await postForm(`${t.url}/preferences`, { token, action: 'unsubscribe' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await row('prefs@example.com')).status).toBe('active');
  });

  it('changes the address only once the new one is confirmed', async () => {
    const prefs = await signUpAndConfirm('old.address@example.com');
    const token = tokenOf(prefs);
    expect((await postForm(`${t.url}/preferences`, { token, action: 'change-email', email: 'new.address@example.com' })).status).toBe(200);
    expect((await row('old.address@example.com')).pending_email).toBe('new.address@example.com');
    await mailer.run();
    const [mail] = await mailsTo(outbox(), 'new.address@example.com', 'Confirm your new address');
    const link = linkAfter(mail, 'Use this address');
    const prompt = await fetch(link);
    expect(await prompt.text()).toContain('<form method="post" action="/preferences/confirm-email">');
    expect(await row('old.address@example.com')).toBeDefined();
    expect((await postForm(`${t.url}/preferences/confirm-email`, { token: tokenOf(link) })).status).toBe(200);
    expect(await row('old.address@example.com')).toBeUndefined();
    expect((await row('new.address@example.com')).status).toBe('active');
    // The used link does not work twice; taking someone else's address is refused.
    expect((await postForm(`${t.url}/preferences/confirm-email`, { token: tokenOf(link) })).status).toBe(400);
    await signUpAndConfirm('taken@example.com');
    expect((await postForm(`${t.url}/preferences`, { token, action: 'change-email', email: 'taken@example.com' })).status).toBe(200);
    await mailer.run();
    const [taken] = await mailsTo(outbox(), 'taken@example.com', 'Confirm your new address');
    const refused = await postForm(`${t.url}/preferences/confirm-email`, { token: tokenOf(linkAfter(taken, 'Use this address')) });
    expect(refused.status).toBe(400);
    expect((await row('new.address@example.com')).status).toBe('active');
  });

  it('unsubscribes and resubscribes from the preferences page; an old unsubscribe link then says "already unsubscribed"', async () => {
    const prefs = await signUpAndConfirm('leaver@example.com');
    const [welcome] = await mailsTo(outbox(), 'leaver@example.com', 'Welcome');
    const unsubscribe = linkAfter(welcome, 'Unsubscribe');
    // RFC 8058 one-click, as a mail provider posts it.
    const oneClick = await postForm(unsubscribe, { 'List-Unsubscribe': 'One-Click' }, { origin: null });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain('<h1>You have been unsubscribed</h1>');
    const again = await fetch(unsubscribe);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('<h1>You are already unsubscribed</h1>');
    expect((await postForm(unsubscribe, { 'List-Unsubscribe': 'One-Click' }, { origin: null })).status).toBe(200);
    const token = tokenOf(prefs);
    expect(await (await postForm(`${t.url}/preferences`, { token, action: 'resubscribe' })).text()).toContain('you are subscribed again');
    expect((await row('leaver@example.com')).status).toBe('active');
    expect((await postForm(`${t.url}/preferences`, { token, action: 'unsubscribe' })).status).toBe(200);
    expect((await row('leaver@example.com')).status).toBe('unsubscribed');
  });

  it('a suppressed address is never mailed and only a fresh confirmation revives it', async () => {
    await signUpAndConfirm('bouncy@example.com');
    const id = await subscribers.suppress({ email: 'Bouncy@Example.com', reason: 'bounced', detail: '550 5.1.1 user unknown' });
    expect(await subscribers.suppress({ email: 'bouncy@example.com', reason: 'bounced' })).toBe(id);
    expect((await row('bouncy@example.com')).status).toBe('suppressed');
    expect((await subscribers.getActiveAfter(null, 1000)).map((s) => s.id)).not.toContain(id);
    expect(await subscribers.activeIds([id])).toEqual(new Set());
    // A sign-up does not revive it...
    clock.advance(11 * 60_000);
    expect((await postForm(`${t.url}/subscribe`, { email: 'bouncy@example.com' }, { ip: '192.0.2.11' })).status).toBe(200);
    expect((await row('bouncy@example.com')).status).toBe('suppressed');
    // ...until the confirmation it asked for is used.
    await mailer.run();
    const confirm = (await mailsTo(outbox(), 'bouncy@example.com', 'Confirm')).at(-1)!;
    expect((await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(linkAfter(confirm, 'Confirm your subscription')) })).status).toBe(200);
    expect((await row('bouncy@example.com')).status).toBe('active');
    expect((await row('bouncy@example.com')).suppression_reason).toBeNull();

    // An address nobody subscribed yet (a complaint from an import, say) is recorded suppressed, and a sign-up must confirm.
    await subscribers.suppress({ email: 'complainer@example.com', reason: 'complained' });
    expect((await postForm(`${t.url}/subscribe`, { email: 'complainer@example.com' }, { ip: '192.0.2.12' })).status).toBe(200);
    expect((await row('complainer@example.com')).status).toBe('suppressed');
    // A suppression after the confirmation was sent voids that link; and the welcome email is never sent to a suppressed address.
    await mailer.run();
    const late = (await mailsTo(outbox(), 'complainer@example.com', 'Confirm')).at(-1)!;
    clock.advance(1000);
    await subscribers.suppress({ email: 'complainer@example.com', reason: 'manual' });
    expect((await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(linkAfter(late, 'Confirm your subscription')) })).status).toBe(400);
    await expect(subscribers.suppress({ email: 'x@example.com', reason: 'nope' as never })).rejects.toThrow('Unknown suppression reason');
  });

  it('lets a subscriber download their data and delete themselves; only anonymous counts remain', async () => {
    const prefs = await signUpAndConfirm('private@example.com', '198.51.100.77');
    const token = tokenOf(prefs);
    const download = await postForm(`${t.url}/preferences`, { token, action: 'download' });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain('attachment');
    const data = await download.json();
    expect(data.subscriber.email).toBe('private@example.com');
    expect(data.consents.map((c: { kind: string }) => c.kind)).toEqual(['requested', 'confirmed']);
    expect(data.consents[0]).toMatchObject({
      source: 'web-form',
      formText: expect.stringContaining('One email a week'),
      ipHash: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
    });
    expect(JSON.stringify(data)).not.toContain('198.51.100.77');

    const { id } = await row('private@example.com');
    const before = await subscribers.countByStatus();
    expect((await postForm(`${t.url}/preferences`, { token, action: 'delete' })).status).toBe(400); // the box must be ticked
    expect((await postForm(`${t.url}/preferences`, { token, action: 'delete', confirm_delete: 'yes' })).status).toBe(200);
    expect(await row('private@example.com')).toBeUndefined();
    const [anon] = await db.query(`SELECT * FROM subscribers WHERE id = $1`, [id]);
    expect(anon).toMatchObject({ status: 'deleted', name: null, beat_slugs: null, consent_ip: null, consent_ip_hash: null, consent_text: null });
    expect(anon.email).toMatch(/^deleted-[0-9a-f-]{36}@deleted\.invalid$/);
    expect((await db.query(`SELECT count(*)::int AS n FROM subscriber_consents WHERE subscriber_id = $1`, [anon.id]))[0].n).toBe(0);
    const after = await subscribers.countByStatus();
    expect(after.total).toBe(before.total);
    expect(after.byStatus.deleted).toBe(before.byStatus.deleted + 1);
    expect(after.byStatus.active).toBe(before.byStatus.active - 1);
    const [today] = (await subscribers.statusHistory(1)).slice(-1);
    expect(today.counts).toEqual(after.byStatus);
    const gone = await fetch(prefs);
    expect(gone.status).toBe(404);
    expect(await gone.text()).toContain('deleted');
  });

  it('gives editors lists by status, beat, search and date with a cursor, counts over time, and manual actions', async () => {
    // This test's own subscribers: three active (so a page of two has a next page), one of them on open-source.
    await signUpAndConfirm('listed.one@example.com');
    await signUpAndConfirm('listed.two@example.com');
    const beatPrefs = await signUpAndConfirm('listed.beat@example.com');
    expect((await postForm(`${t.url}/preferences`, { token: tokenOf(beatPrefs), action: 'save', beats: ['open-source'] })).status).toBe(200);
    const all = await subscribers.list({ limit: 500 });
    expect(all.nextCursor).toBeNull();
    const active = await subscribers.list({ status: 'active' as never, limit: 2 });
    expect(active.items).toHaveLength(2);
    const rest = await subscribers.list({ status: 'active' as never, limit: 500, cursor: active.nextCursor! });
    const ids = [...active.items, ...rest.items].map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe((await subscribers.countByStatus()).byStatus.active);
    expect((await subscribers.list({ search: 'LISTED.ONE@' })).items.map((s) => s.email)).toEqual(['listed.one@example.com']);
    expect((await subscribers.list({ search: '%' })).items).toEqual([]);
    const onBeat = (await subscribers.list({ beat: 'open-source', status: 'active' as never })).items.map((s) => s.email);
    expect(onBeat).toContain('listed.beat@example.com');
    expect((await subscribers.list({ createdFrom: new Date('2030-01-01T00:00:00Z') })).items).toEqual([]);
    await expect(subscribers.list({ status: 'nope' as never })).rejects.toThrow('Unknown status');
    await expect(subscribers.list({ cursor: 'garbage' })).rejects.toThrow('Invalid cursor');

    const taken = (await subscribers.list({ search: 'listed.one@' })).items[0];
    expect(taken.email).toBe('listed.one@example.com');
    expect((await subscribers.adminUnsubscribe(taken.id)).status).toBe('unsubscribed');
    expect((await subscribers.adminSuppress(taken.id, 'asked by phone')).status).toBe('suppressed');
    await subscribers.adminDelete(taken.id);
    expect((await subscribers.get(taken.id)).status).toBe('deleted');
    await expect(subscribers.get('00000000-0000-0000-0000-000000000000')).rejects.toThrow('No subscriber');

    const history = await subscribers.statusHistory(20);
    expect(history).toHaveLength(20);
    expect(history.at(-1)!.counts).toEqual((await subscribers.countByStatus()).byStatus);
    expect(history[0].counts.active).toBe(0);
  });
});
