import { DataSource } from 'typeorm';
import { SubscriberMailer } from '../../src/subscribers/subscriber-mailer';
import { FakeClock } from '../fakes/fake-clock';
import { readOutbox } from '../support/outbox';
import { linkAfter, mailsTo, postForm, postJson, tokenOf } from '../support/subscriptions';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The attacks of issue 9, each over real HTTP on the real app and database: a confirmation flood from one
 * client, cross-site posts, a throttle race, a timing oracle, link scanners, and addresses beyond RFC 5321.
 */
describe('sign-up under attack', () => {
  let t: TestApp;
  let db: DataSource;
  let mailer: SubscriberMailer;
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));

  beforeAll(async () => {
    t = await startTestApp({ SUBSCRIBE_CLIENT_LIMIT: '10', SUBSCRIBE_ADDRESS_LIMIT: '1000' }, { clock });
    t.app.set('trust proxy', 'loopback');
    db = t.get(DataSource);
    mailer = t.get(SubscriberMailer);
  });
  afterAll(() => t?.close());

  const subscribe = (email: string, ip: string, extra: Record<string, string> = {}) => postForm(`${t.url}/subscribe`, { email, ...extra }, { ip });
  const count = async (sql: string, params: unknown[] = []) => (await db.query(sql, params))[0].n as number;
  /** Moves the shared clock forward (never back) to 12:00 UTC of the next day: the start of fresh rate-limit windows. */
  const startAtNextNoon = () => {
    const noon = clock.now();
    noon.setUTCDate(noon.getUTCDate() + 1);
    noon.setUTCHours(12, 0, 0, 0);
    clock.set(noon);
  };
  /** Signs `email` up and runs the mail job: the address is then known (pending) and its confirmation is in the outbox. */
  const signUp = async (email: string, ip: string) => {
    expect((await subscribe(email, ip)).status).toBe(200);
    await mailer.run();
    const [confirmation] = await mailsTo(t.config.email.outboxDir, email, 'Confirm');
    expect(confirmation).toBeDefined();
    return confirmation;
  };

  it('a flood of 200 addresses from one client sends at most the client limit of emails; the rest get 429 saying when to retry', async () => {
    // The retry time below is read off the clock: start at a known window boundary whatever ran before.
    startAtNextNoon();
    const statuses: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 200; i++) {
      const res = await subscribe(`flood${i}@example.com`, '203.0.113.7');
      statuses.push(res.status);
      if (res.status === 429 && !limited) limited = res;
    }
    await mailer.run();
    const confirmations = (await readOutbox(t.config.email.outboxDir)).filter(
      (m) => m.mail.subject?.startsWith('Confirm') && /flood\d+@/.test(m.mail.text ?? ''),
    );
    expect(confirmations).toHaveLength(10);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(190);
    expect(limited!.headers.get('retry-after')).toBe('600');
    const page = await limited!.text();
    expect(page).toContain('Please try again after 12:10 UTC');
    // Another client (even in the same window) is not affected; an IPv6 client is counted by its /64.
    expect((await subscribe('someone.else@example.com', '198.51.100.1')).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await subscribe(`v6-${i}@example.com`, `2001:db8:1:2::${i + 1}`)).status).toBe(200);
    expect((await subscribe('v6-more@example.com', '2001:db8:1:2:ffff::1')).status).toBe(429);
    // The counters live in PostgreSQL, so every instance shares them.
    expect(await count(`SELECT count(*)::int AS n FROM rate_limit_windows WHERE bucket LIKE 'subscribe-client:%'`)).toBeGreaterThanOrEqual(3);
  });

  it('refuses sign-ups posted from another site (Origin or Sec-Fetch-Site) and stores nothing', async () => {
    const before = await count(`SELECT count(*)::int AS n FROM subscribers`);
    const evil = await postForm(`${t.url}/subscribe`, { email: 'victim@example.com' }, { ip: '192.0.2.50', origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(await evil.text()).toContain('sent from another website');
    const nullOrigin = await postForm(`${t.url}/subscribe`, { email: 'victim@example.com' }, { ip: '192.0.2.50', origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    const fetchSite = await postForm(
      `${t.url}/subscribe`,
      { email: 'victim@example.com' },
      { ip: '192.0.2.50', origin: null, headers: { 'sec-fetch-site': 'cross-site' } },
    );
    expect(fetchSite.status).toBe(403);
    const json = await postJson(
      `${t.url}/api/v1/public/subscribe`,
      { email: 'victim@example.com' },
      { ip: '192.0.2.50', headers: { origin: 'https://evil.example' } },
    );
    expect(json.status).toBe(403);
    expect(json.headers.get('content-type')).toContain('application/problem+json');
    expect(await count(`SELECT count(*)::int AS n FROM subscribers`)).toBe(before);
    // Our own pages' posts go through.
    expect(
      (await postForm(`${t.url}/subscribe`, { email: 'victim@example.com' }, { ip: '192.0.2.50', headers: { 'sec-fetch-site': 'same-origin' } })).status,
    ).toBe(200);
  });

  it('64 simultaneous sign-ups of one address after the re-send window send exactly one new email, and none fails', async () => {
    const address = 'race@example.com';
    expect((await subscribe(address, '192.0.2.64')).status).toBe(200);
    await mailer.run();
    expect(await mailsTo(t.config.email.outboxDir, address, 'Confirm')).toHaveLength(1);
    clock.advance(11 * 60_000);
    const responses = await Promise.all(Array.from({ length: 64 }, (_, i) => subscribe(address, `192.0.2.${100 + (i % 100)}`)));
    expect(responses.map((r) => r.status)).toEqual(Array(64).fill(200));
    await Promise.all([mailer.run(), mailer.run()]);
    expect(await mailsTo(t.config.email.outboxDir, address, 'Confirm')).toHaveLength(2);
    expect(await count(`SELECT count(*)::int AS n FROM subscriber_emails e JOIN subscribers s ON s.id = e.subscriber_id WHERE s.email = $1`, [address])).toBe(
      2,
    );
  });

  it('answers a known and a new address alike and never sends mail inline (no rendering in the request)', async () => {
    // This test's own known address: signed up, its confirmation sent, and the re-send window passed.
    await signUp('known@example.com', '192.0.2.200');
    clock.advance(20 * 60_000);
    expect(await count(`SELECT count(*)::int AS n FROM subscribers WHERE email = 'known@example.com'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM subscribers WHERE email = 'brand.new@example.com'`)).toBe(0);
    const known = await subscribe('known@example.com', '192.0.2.201');
    const fresh = await subscribe('brand.new@example.com', '192.0.2.202');
    expect(known.status).toBe(fresh.status);
    const strip = (s: string) => s.replace(/known@example\.com|brand\.new@example\.com/g, 'ADDRESS');
    expect(strip(await known.text())).toBe(strip(await fresh.text()));
    // Nothing is in the outbox until the job runs: the request only queued a row.
    expect(await mailsTo(t.config.email.outboxDir, 'brand.new@example.com')).toHaveLength(0);
    expect(await count(`SELECT count(*)::int AS n FROM subscriber_emails WHERE to_email = 'brand.new@example.com' AND status = 'queued'`)).toBe(1);
    await mailer.run();
    expect(await mailsTo(t.config.email.outboxDir, 'brand.new@example.com', 'Confirm')).toHaveLength(1);
  });

  it('a link scanner (GET, HEAD) confirms no one: the page has a button and only its POST confirms; links expire', async () => {
    const mail = await signUp('scanned@example.com', '192.0.2.204');
    const link = linkAfter(mail, 'Confirm your subscription');
    const status = async () => (await db.query(`SELECT status FROM subscribers WHERE email = 'scanned@example.com'`))[0].status;
    expect((await fetch(link, { method: 'HEAD' })).status).toBe(200);
    const get = await fetch(link);
    expect(get.status).toBe(200);
    const page = await get.text();
    expect(page).toContain('<form method="post" action="/subscribe/confirm">');
    expect(page).toContain(`<input type="hidden" name="token" value="${tokenOf(link)}">`);
    expect(await status()).toBe('pending');
    const post = await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(link) });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain("<h1>You're subscribed</h1>");
    expect(await status()).toBe('active');

    // A fresh link expires after SUBSCRIBE_LINK_TTL_HOURS (72 by default).
    expect((await subscribe('late@example.com', '192.0.2.203')).status).toBe(200);
    await mailer.run();
    const [late] = await mailsTo(t.config.email.outboxDir, 'late@example.com', 'Confirm');
    clock.advance(73 * 3_600_000);
    const expired = await fetch(linkAfter(late, 'Confirm your subscription'));
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('expired');
    expect((await postForm(`${t.url}/subscribe/confirm`, { token: tokenOf(linkAfter(late, 'Confirm your subscription')) })).status).toBe(400);
    expect((await db.query(`SELECT status FROM subscribers WHERE email = 'late@example.com'`))[0].status).toBe('pending');
  });

  it.each([
    ['a 200-character local part', `${'a'.repeat(200)}@example.com`, 'the limit is 64'],
    ['a 70-character label', `me@${'b'.repeat(70)}.com`, 'at most 63'],
    ['a CRLF header injection', 'me@example.com\r\nBcc: all@example.com', 'control characters'],
    ['a NUL byte', 'me\u0000@example.com', 'control characters'],
    ['a zero-width space', 'me\u200b@example.com', 'invisible'],
    ['a right-to-left override', 'me\u202e@example.com', 'invisible'],
    ['no domain dot', 'me@localhost', 'needs a dot'],
  ])('refuses %s with a clear 400 message and stores nothing', async (_label, email, message) => {
    const before = await count(`SELECT count(*)::int AS n FROM subscribers`);
    const form = await subscribe(email, '192.0.2.210');
    expect(form.status).toBe(400);
    expect(await form.text()).toContain(message);
    const api = await postJson(`${t.url}/api/v1/public/subscribe`, { email }, { ip: '192.0.2.211' });
    expect(api.status).toBe(400);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    const problem = await api.json();
    expect(problem).toMatchObject({ type: 'about:blank', status: 400, code: 'invalid_email' });
    expect(problem.title).toEqual(expect.any(String));
    expect(problem.detail).toContain(message);
    expect(problem.errors).toEqual([{ field: 'email', message: expect.stringContaining(message) }]);
    expect(await count(`SELECT count(*)::int AS n FROM subscribers`)).toBe(before);
  });

  it('normalises case and IDN domains, and asks "did you mean" instead of correcting a typo', async () => {
    clock.advance(60 * 60_000);
    expect((await subscribe('Zoë.Reader@Bücher.Example', '192.0.2.220')).status).toBe(400); // non-ASCII local part: refused, not mangled
    expect((await subscribe('Zoe.Reader@Bücher.Example', '192.0.2.220')).status).toBe(200);
    expect((await db.query(`SELECT email FROM subscribers WHERE lower(email) LIKE 'zoe.reader@%'`))[0].email).toBe('Zoe.Reader@xn--bcher-kva.example');

    const typo = await subscribe('someone@gmial.com', '192.0.2.221');
    expect(typo.status).toBe(400);
    const page = await typo.text();
    expect(page).toContain('Did you mean someone@gmail.com?');
    expect(page).toContain('name="accept_typo" value="1"');
    expect(await count(`SELECT count(*)::int AS n FROM subscribers WHERE email LIKE 'someone@%'`)).toBe(0);
    const api = await (await postJson(`${t.url}/api/v1/public/subscribe`, { email: 'someone@gmial.com' }, { ip: '192.0.2.221' })).json();
    expect(api).toMatchObject({ code: 'email_typo_suspected', suggestion: 'someone@gmail.com' });
    // Kept as typed when the person says so.
    expect((await subscribe('someone@gmial.com', '192.0.2.221', { accept_typo: '1' })).status).toBe(200);
    expect((await db.query(`SELECT email FROM subscribers WHERE email LIKE 'someone@%'`)).map((r: { email: string }) => r.email)).toEqual([
      'someone@gmial.com',
    ]);
    const ok = await postJson(`${t.url}/api/v1/public/subscribe`, { email: 'json.reader@example.com' }, { ip: '192.0.2.222' });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ status: 'check-inbox' });
  });
});
