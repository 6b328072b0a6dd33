import { createHash } from 'node:crypto';
import { type Browser } from 'playwright-core';
import { DataSource } from 'typeorm';
import { solveProofOfWork } from '../../src/subscribers/subscribers.service';
import { FakeClock } from '../fakes/fake-clock';
import { launchChromium } from '../support/browser';
import { postForm, postJson } from '../support/subscriptions';
import { startTestApp, type TestApp } from '../support/test-app';

interface Offer {
  kind: string;
  token: string;
  bits: number;
  expiresAt: string;
}

/** The optional sign-up challenge (issue 9): off by default; with SUBSCRIBE_CHALLENGE=pow a signed, expiring, single-use proof of work. */
describe('sign-up challenge', () => {
  describe('off (the default)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t?.close());

    it('issues no challenge, the form has no script, and a sign-up needs no answer', async () => {
      const offer = await fetch(`${t.url}/api/v1/public/subscribe/challenge`);
      expect(offer.status).toBe(404);
      expect(await offer.json()).toMatchObject({ code: 'challenge_off' });
      const page = await (await fetch(`${t.url}/subscribe`)).text();
      expect(page).not.toContain('<script');
      expect(page).not.toContain('data-challenge');
      const home = await fetch(`${t.url}/`);
      expect(await home.text()).not.toContain('<script');
      expect(home.headers.get('content-security-policy')).not.toContain('script-src');
      expect((await postForm(`${t.url}/subscribe`, { email: 'plain@example.com' })).status).toBe(200);
      expect((await postJson(`${t.url}/api/v1/public/subscribe`, { email: 'plain.api@example.com' })).status).toBe(202);
    });
  });

  describe('proof of work', () => {
    let t: TestApp;
    let db: DataSource;
    let browser: Browser;
    const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
    const offer = async (): Promise<Offer> => {
      const res = await fetch(`${t.url}/api/v1/public/subscribe/challenge`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return res.json();
    };
    const stored = async (email: string) => (await db.query(`SELECT count(*)::int AS n FROM subscribers WHERE email = $1`, [email]))[0].n;

    beforeAll(async () => {
      t = await startTestApp(
        {
          SUBSCRIBE_CHALLENGE: 'pow',
          SUBSCRIBE_POW_BITS: '12',
          SUBSCRIBE_CHALLENGE_TTL_MINUTES: '30',
          SUBSCRIBE_CLIENT_LIMIT: '1000',
          SUBSCRIBE_ADDRESS_LIMIT: '1000',
        },
        { clock },
      );
      db = t.get(DataSource);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    it('refuses missing, forged, wrong, replayed and expired answers with clear errors, and accepts a valid one', async () => {
      const api = (body: unknown) => postJson(`${t.url}/api/v1/public/subscribe`, body);
      const problem = async (res: Response) => ({ status: res.status, ...(await res.json()) });

      expect(await problem(await api({ email: 'missing@example.com' }))).toMatchObject({
        status: 400,
        code: 'challenge_required',
        detail: expect.stringContaining('GET /api/v1/public/subscribe/challenge'),
      });
      const c = await offer();
      expect(c).toMatchObject({ kind: 'pow', bits: 12, expiresAt: '2026-11-27T12:30:00.000Z' });
      const answer = solveProofOfWork(c.token, c.bits);
      const forged = `${c.token.split('.')[0]}.${'A'.repeat(43)}`;
      expect(await problem(await api({ email: 'forged@example.com', challenge: { token: forged, answer } }))).toMatchObject({
        status: 400,
        code: 'challenge_invalid',
      });
      // A token whose payload was edited (say, to ask for fewer bits) fails its signature.
      const edited = `${Buffer.from(Buffer.from(c.token.split('.')[0], 'base64url').toString().replace(/:12$/, ':1')).toString('base64url')}.${c.token.split('.')[1]}`;
      expect(await problem(await api({ email: 'edited@example.com', challenge: { token: edited, answer: '0' } }))).toMatchObject({ code: 'challenge_invalid' });
      // An answer whose hash does not start with 12 zero bits.
      const wrong = Array.from({ length: 100 }, (_, n) => String(n)).find(
        (n) => createHash('sha256').update(`${c.token}:${n}`).digest().readUInt16BE(0) >= 16,
      )!;
      expect(await problem(await api({ email: 'wrong@example.com', challenge: { token: c.token, answer: wrong } }))).toMatchObject({ code: 'challenge_wrong' });
      expect(await problem(await api({ email: 'shape@example.com', challenge: 'x' }))).toMatchObject({ status: 400, code: 'validation_failed' });
      for (const email of ['missing@example.com', 'forged@example.com', 'edited@example.com', 'wrong@example.com', 'shape@example.com']) {
        expect(await stored(email)).toBe(0);
      }

      const ok = await api({ email: 'solved@example.com', challenge: { token: c.token, answer } });
      expect(ok.status).toBe(202);
      expect(await stored('solved@example.com')).toBe(1);
      // Single use: the same solution again is refused, for another address too.
      expect(await problem(await api({ email: 'replay@example.com', challenge: { token: c.token, answer } }))).toMatchObject({ code: 'challenge_used' });
      expect(await stored('replay@example.com')).toBe(0);

      const old = await offer();
      const oldAnswer = solveProofOfWork(old.token, old.bits);
      clock.advance(31 * 60_000);
      expect(await problem(await api({ email: 'late@example.com', challenge: { token: old.token, answer: oldAnswer } }))).toMatchObject({
        code: 'challenge_expired',
        detail: expect.stringContaining('expired'),
      });
      expect(await stored('late@example.com')).toBe(0);
    });

    it('the form posts its answer in hidden fields; without one it says JavaScript is needed', async () => {
      const c = await offer();
      const res = await postForm(`${t.url}/subscribe`, {
        email: 'form@example.com',
        challenge_token: c.token,
        challenge_answer: solveProofOfWork(c.token, c.bits),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Check your inbox');
      const refused = await postForm(`${t.url}/subscribe`, { email: 'noscript@example.com' });
      expect(refused.status).toBe(400);
      const page = await refused.text();
      expect(page).toContain('please turn on JavaScript');
      expect(page).toContain('value="noscript@example.com"');
      expect(page).toContain('<script src="/subscribe/challenge.js" defer></script>');
      expect(refused.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await stored('noscript@example.com')).toBe(0);
      const script = await fetch(`${t.url}/subscribe/challenge.js`);
      expect(script.headers.get('content-type')).toContain('javascript');
    });

    it("in Chromium the home page's cached sign-up panel solves the puzzle too: the confirmation page, not the 400 page", async () => {
      // Two visitors sign up from the home page: the second is served the cached copy the first one filled.
      for (const email of ['home.one@example.com', 'home.two@example.com']) {
        const context = await browser.newContext();
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${t.url}/`);
        await page.fill('#subscribe input[name=email]', email);
        await page.click('#subscribe button[type=submit]');
        // The submit is asynchronous (fetch a challenge, solve it, then submit): wait for the answer's page, not
        // for the home page's own (visually hidden) h1.
        await page.waitForURL((url) => url.pathname === '/subscribe');
        expect(await page.textContent('h1')).toBe('Check your inbox');
        expect(await page.textContent('body')).not.toContain('please turn on JavaScript');
        expect(errors).toEqual([]);
        expect(await stored(email)).toBe(1);
        await context.close();
      }

      // That copy is the same for every visitor: it carries the script, never a challenge (each
      // submit fetches its own, single-use), so two visitors served the same cached bytes both sign up.
      const first = await fetch(`${t.url}/`);
      const body = await first.text();
      const again = await fetch(`${t.url}/`);
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(await again.text()).toBe(body);
      expect(body).toContain('data-challenge="pow"');
      expect(body).toContain('<script src="/subscribe/challenge.js" defer></script>');
      expect(body).not.toContain('challenge_token');
      expect(first.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(again.headers.get('content-security-policy')).toContain("connect-src 'self'");
    });

    it('in Chromium the form solves the puzzle itself and signs up; with JavaScript off it shows a clear message', async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${t.url}/subscribe`);
      await page.fill('input[name=email]', 'browser@example.com');
      await page.click('form[method=post] button[type=submit]');
      await page.waitForSelector('h1:text("Check your inbox")');
      expect(errors).toEqual([]);
      expect(await stored('browser@example.com')).toBe(1);
      await page.close();

      const context = await browser.newContext({ javaScriptEnabled: false });
      const plain = await context.newPage();
      await plain.goto(`${t.url}/subscribe`);
      expect(await plain.textContent('body')).toContain('This form needs JavaScript');
      await plain.fill('input[name=email]', 'nojs@example.com');
      await plain.click('form[method=post] button[type=submit]');
      await plain.waitForSelector('h1');
      expect(await plain.textContent('body')).toContain('please turn on JavaScript');
      expect(await stored('nojs@example.com')).toBe(0);
      await context.close();
    });
  });
});
