import { DataSource } from 'typeorm';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { WelcomeCatchUp } from '../../src/delivery/welcome-catch-up';
import { SubscriberMailer } from '../../src/subscribers/subscriber-mailer';
import { FakeClock } from '../fakes/fake-clock';
import { startFakeResend, type FakeResend, type FakeResendEmail } from '../fakes/fake-resend';
import { deliveryFixtures } from '../support/delivery-fixtures';
import { postForm, tokenOf } from '../support/subscriptions';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The welcome's catch-up (issue 9): a new subscriber gets the latest sent issue once, through delivery's catch-up
 * send, and every digest carries a signed preferences link next to its unsubscribe link. Real Resend SDK, fake Resend.
 */
describe('welcome catch-up and the digest preferences link', () => {
  let resend: FakeResend;
  let t: TestApp;
  let db: DataSource;
  let delivery: DeliveryService;
  let catchUp: WelcomeCatchUp;
  let mailer: SubscriberMailer;
  let fx: ReturnType<typeof deliveryFixtures>;
  let clock: FakeClock;

  /** A fresh app on the demo week (issue 1 assembled, nothing sent), so each group below starts from its own state. */
  async function start(): Promise<void> {
    clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
    resend = await startFakeResend();
    t = await startTestApp(
      {
        RESEND_API_KEY: resend.apiKey,
        RESEND_BASE_URL: resend.url,
        DELIVERY_RATE_PER_SECOND: '100',
        SUBSCRIBE_CLIENT_LIMIT: '1000',
        SUBSCRIBE_ADDRESS_LIMIT: '1000',
      },
      { clock },
    );
    t.app.set('trust proxy', 'loopback');
    db = t.get(DataSource);
    delivery = t.get(DeliveryService);
    catchUp = t.get(WelcomeCatchUp);
    mailer = t.get(SubscriberMailer);
    fx = deliveryFixtures(t, db);
    await fx.demoWeek();
  }

  async function stop(): Promise<void> {
    await t?.close();
    await resend?.close();
  }

  const to = (email: string, subject: RegExp): FakeResendEmail[] => resend.emails.filter((e) => e.to[0] === email && subject.test(e.subject));
  const digests = (email: string, issue: number) => to(email, new RegExp(`No\\. ${issue}( |$)`));
  const link = (email: FakeResendEmail, label: string): string => {
    const match = new RegExp(`${label.replace(/[()]/g, '\\$&')}: (\\S+)`).exec(email.text ?? '');
    if (!match) throw new Error(`no "${label}" link in: ${email.text}`);
    return match[1];
  };
  const status = async (email: string) => (await db.query(`SELECT status FROM subscribers WHERE email = $1`, [email]))[0]?.status;

  /** Everything the scheduled jobs would do next: queued subscriber mail, the catch-up pass started by a confirmation, batches due. */
  async function settle(): Promise<void> {
    await catchUp.idle();
    await mailer.run();
    await delivery.run();
  }

  /** Signs up over HTTP and presses the confirmation page's button; returns the confirmation link. */
  async function signUpAndConfirm(email: string): Promise<string> {
    expect((await postForm(`${t.url}/subscribe`, { email }, { ip: '192.0.2.50' })).status).toBe(200);
    await mailer.run();
    const confirm = link(to(email, /^Confirm/).at(-1)!, 'Confirm your subscription');
    expect((await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(confirm) })).status).toBe(200);
    await settle();
    return confirm;
  }

  // Its own app: "no issue sent yet" must hold whatever the other tests send.
  describe('before any issue has gone out', () => {
    beforeAll(start);
    afterAll(stop);

    it('with no issue sent yet, the welcome email links the archive and no digest goes out', async () => {
      await signUpAndConfirm('early@example.com');
      const [welcome] = to('early@example.com', /^Welcome/);
      expect(welcome.text).toContain('No issue has gone out yet');
      expect(welcome.text).not.toContain('Read the latest issue');
      expect(link(welcome, 'Every past issue')).toBe(`${t.url}/issues`);
      expect(welcome.html).toContain(`href="${t.url}/issues"`);
      expect(await catchUp.run()).toBe('nothing-sent-yet');
      expect(resend.emails.filter((e) => e.to[0] === 'early@example.com' && /No\. \d+/.test(e.subject))).toEqual([]);
    });
  });

  describe('once issues go out', () => {
    beforeAll(start);
    afterAll(stop);

    it('after confirmation the latest sent issue arrives once; confirming twice, resubscribing or signing up again never sends a second copy', async () => {
      // This test's own subscriber from before the issue: it gets the issue in the ordinary send, not by catch-up.
      await signUpAndConfirm('before.issue@example.com');
      const issue = await fx.issueFor(['reader@example.net'], { keepOthers: true });
      await delivery.run();
      expect((await delivery.issueStatus(issue.number)).status).toBe('sent');
      expect(digests('reader@example.net', issue.number)).toHaveLength(1);
      expect(digests('before.issue@example.com', issue.number)).toHaveLength(1);

      const confirm = await signUpAndConfirm('newcomer@example.com');
      expect(digests('newcomer@example.com', issue.number)).toHaveLength(1);
      const [welcome] = to('newcomer@example.com', /^Welcome/);
      expect(link(welcome, 'Read the latest issue')).toBe(`${t.url}/issues/${issue.number}`);
      expect(welcome.text).toContain(`The latest issue, No. ${issue.number} · Issue ${issue.number}, is on its way to you in a separate email.`);

      // Confirming again: already active, nothing new.
      expect((await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(confirm) })).status).toBe(200);
      await settle();
      expect(await catchUp.run()).toBe('up-to-date');
      // Unsubscribe with the digest's one-click link, then resubscribe from the preferences page.
      const digest = digests('newcomer@example.com', issue.number)[0];
      const unsubscribe = digest.headers['List-Unsubscribe'].slice(1, -1);
      expect((await postForm(unsubscribe, { 'List-Unsubscribe': 'One-Click' }, { origin: null })).status).toBe(200);
      expect(await status('newcomer@example.com')).toBe('unsubscribed');
      const preferences = link(welcome, 'Your preferences (beats, pause, change of address, your data)');
      expect(await (await postForm(`${t.url}/preferences`, { token: tokenOf(preferences), action: 'resubscribe' })).text()).toContain('subscribed again');
      await settle();
      expect(await catchUp.run()).toBe('up-to-date');
      // Unsubscribe again and sign up afresh through the form: a new confirmation, still no second copy.
      expect((await postForm(unsubscribe, { 'List-Unsubscribe': 'One-Click' }, { origin: null })).status).toBe(200);
      clock.advance(11 * 60_000); // past the re-send interval, so the form sends a new confirmation
      await signUpAndConfirm('newcomer@example.com');
      expect(await status('newcomer@example.com')).toBe('active');
      await settle();
      expect(digests('newcomer@example.com', issue.number)).toHaveLength(1);
      expect(digests('reader@example.net', issue.number)).toHaveLength(1);
      expect(digests('before.issue@example.com', issue.number)).toHaveLength(1);
      const totals = await delivery.issueStatus(issue.number);
      // Everyone in the issue's audience (the demo readers too) got exactly one copy, over all of its sends.
      expect(totals).toMatchObject({ accepted: totals.audience, failed: 0, pending: 0 });
      expect(resend.emails.filter((e) => new RegExp(`No\\. ${issue.number}( |$)`).test(e.subject))).toHaveLength(totals.audience);
    });

    it('someone who confirms while the next issue is going out gets the previous one now and the new one once it has gone out', async () => {
      const previous = (await fx.issueFor(['regular@example.net'], { keepOthers: true })).number;
      await delivery.run();
      const next = await fx.issueFor(['regular@example.net'], { keepOthers: true });
      await delivery.send(next.number); // frozen: its audience is fixed now
      await signUpAndConfirm('midway@example.com');
      expect(digests('midway@example.com', previous)).toHaveLength(1);
      // The next issue's send has finished meanwhile (settle ran its batches), without the newcomer.
      expect((await delivery.issueStatus(next.number)).status).toBe('sent');
      expect(digests('midway@example.com', next.number)).toHaveLength(0);
      // The scheduled pass finds the newcomer without a copy of what is now the latest issue.
      expect(await catchUp.run()).toBe('sent');
      await delivery.run();
      expect(digests('midway@example.com', next.number)).toHaveLength(1);
      expect(await catchUp.run()).toBe('up-to-date');
      expect(digests('regular@example.net', next.number)).toHaveLength(1);
      expect(digests('regular@example.net', previous)).toHaveLength(1);
    });

    it('every digest has a signed preferences link next to its unsubscribe link, and it opens the subscriber’s preferences page', async () => {
      const issue = await fx.issueFor(['footer.one@example.net', 'footer.two@example.net'], { keepOthers: true });
      await delivery.run();
      const digest = digests('footer.one@example.net', issue.number)[0];
      const unsubscribe = link(digest, 'Unsubscribe');
      const preferences = link(digest, 'Your preferences (beats, pause, change of address, your data)');
      expect(new URL(preferences).pathname).toBe('/preferences');
      expect(tokenOf(preferences)).toBe(tokenOf(unsubscribe));
      expect(digest.html).toMatch(new RegExp(`<a href="${preferences.replace(/[.?]/g, '\\$&')}"[^>]*>Preferences</a>`));
      expect(digest.html).not.toContain('broadsheet.invalid');
      const page = await fetch(preferences);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Subscription for <strong>footer.one@example.net</strong>');
      // The link works for changes too, and only for its own subscriber.
      expect((await postForm(`${t.url}/preferences`, { token: tokenOf(preferences), action: 'save', pause_weeks: '1' })).status).toBe(200);
      const [row] = await db.query(`SELECT paused_until FROM subscribers WHERE email = 'footer.one@example.net'`);
      expect(row.paused_until).not.toBeNull();
      const other = digests('footer.two@example.net', issue.number)[0];
      expect(await (await fetch(link(other, 'Your preferences (beats, pause, change of address, your data)'))).text()).toContain(
        'Subscription for <strong>footer.two@example.net</strong>',
      );
      // A forged token is refused.
      expect((await fetch(`${t.url}/preferences?token=${tokenOf(preferences).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`)).status).toBe(400);
    });
  });
});
