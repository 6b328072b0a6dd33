import { DataSource } from 'typeorm';
import { checkEmailAddress } from '../../src/subscribers/email-address';
import { solveProofOfWork, SubscribersService } from '../../src/subscribers/subscribers.service';
import { type TestApp } from './test-app';

/** A small seeded PRNG (mulberry32), so a failing fuzz run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzResult {
  requests: number;
  byStatus: Record<string, number>;
  serverErrors: Array<{ method: string; path: string; status: number; body: string }>;
  corrupted: string[];
}

/**
 * Hostile requests to every subscription route: bad and long addresses, CRLF header injection, unicode tricks
 * (bidi overrides, zero-width, homoglyphs, NUL), huge and malformed bodies, wrong content types, array and object
 * fields, forged, truncated, expired and other-purpose tokens. Counts 5xx answers and then checks the database
 * for corrupted state.
 */
export async function fuzzSubscriptions(t: TestApp, options: { requests: number; seed: number; concurrency?: number }): Promise<FuzzResult> {
  const rnd = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const subscribers = t.get(SubscribersService);
  const db = t.get(DataSource);
  // Two known subscribers to aim at: one active, one unsubscribed.
  await subscribers.seedActive(['victim@example.com', 'leaver@example.com'], 'fuzz-seed');
  const [victim] = await db.query(`SELECT id FROM subscribers WHERE email = 'victim@example.com'`);
  const [leaver] = await db.query(`SELECT id FROM subscribers WHERE email = 'leaver@example.com'`);
  await subscribers.unsubscribe(subscribers.unsubscribeToken(leaver.id));
  const before = await db.query(`SELECT id, email, status FROM subscribers ORDER BY id`);

  const long = (n: number, c = 'a') => c.repeat(n);
  const addresses = [
    '',
    ' ',
    '@',
    'a@',
    '@b.com',
    'a@b',
    'a@@b.com',
    'a..b@example.com',
    '.a@example.com',
    'a.@example.com',
    `${long(65)}@example.com`,
    `${long(200)}@example.com`,
    `a@${long(64, 'b')}.com`,
    `a@${long(70, 'b')}.com`,
    `${long(64)}@${long(63, 'b')}.${long(63, 'c')}.${long(63, 'd')}.com`,
    'me@example.com\r\nBcc: everyone@example.com',
    'me@example.com\nSubject: hi',
    'me@example.com%0d%0aBcc:x@y.z',
    'me\u0000@example.com',
    'me@exa\u0000mple.com',
    'me\u202e@example.com',
    'me\u200b@example.com',
    'me@exa\u200dmple.com',
    'me@\u0435xample.com' /* Cyrillic е */,
    'ｍｅ@ｅｘａｍｐｌｅ．ｃｏｍ',
    'mé@example.com',
    'me@münchen.de',
    'me@xn--.com',
    'me@-bad-.com',
    'me@123.456',
    'me@[127.0.0.1]',
    '"quoted"@example.com',
    '<script>alert(1)</script>@example.com',
    "o'brien@example.com",
    'a+b@example.com',
    'ok@example.com',
    'Ok@Example.COM',
    'typo@gmial.com',
    'x@hotmial.con',
    long(5000),
    `${long(300)}@${long(300)}.com`,
    'a@b.c',
    'a@localhost',
    '\ud800@example.com' /* lone surrogate */,
    ...Array.from({ length: 20 }, (_, i) => `fuzz${i}@example.com`),
  ];
  const tokens = [
    '',
    '.',
    '..',
    'a.b',
    'a.b.c',
    long(5000),
    'null',
    '%00',
    '../../etc/passwd',
    '\r\n',
    'eyJ9.eyJ9',
    Buffer.from(victim.id).toString('base64url') + '.AAAA',
    `${Buffer.from(victim.id).toString('base64url')}.${long(43, 'x')}`,
    subscribers.unsubscribeToken(victim.id),
    subscribers.preferencesToken(victim.id),
    subscribers.unsubscribeToken(leaver.id),
    subscribers.confirmToken(victim.id, new Date(Date.now() - 100 * 86_400_000)), // expired (and superseded)
    subscribers.confirmToken(victim.id, new Date()),
    subscribers.changeEmailToken(victim.id, new Date()),
    subscribers.confirmToken('00000000-0000-0000-0000-000000000000', new Date()),
    subscribers.preferencesToken('not-a-uuid'),
    subscribers.unsubscribeToken(victim.id).replace(/.$/, 'A'),
    subscribers.unsubscribeToken(victim.id).toUpperCase(),
  ];
  const origins = [undefined, undefined, undefined, 'https://evil.example', 'null', t.url, `${t.url}.evil.example`, 'http://127.0.0.1:1'];
  const ips = [undefined, '203.0.113.1', '2001:db8::1', 'garbage', '::ffff:10.0.0.1', '1.2.3.4, 5.6.7.8', long(1000, '9')];
  // Sign-up challenge answers (SUBSCRIBE_CHALLENGE=pow): solved ones (each used once, then replayed), wrong,
  // forged, huge and odd shapes. With the challenge off they are ignored.
  const solved: Array<{ token: string; answer: string }> = [];
  const offer = await fetch(`${t.url}/api/v1/public/subscribe/challenge`);
  if (offer.ok) {
    for (let i = 0; i < Math.min(500, Math.ceil(options.requests / 10)); i++) {
      const c = (await (await fetch(`${t.url}/api/v1/public/subscribe/challenge`)).json()) as { token: string; bits: number };
      solved.push({ token: c.token, answer: solveProofOfWork(c.token, c.bits) });
    }
  } else await offer.arrayBuffer();
  let nextSolved = 0;
  const challengeAnswer = (): { token?: unknown; answer?: unknown } | undefined =>
    pick<() => { token?: unknown; answer?: unknown } | undefined>([
      () => undefined,
      () => (solved.length ? solved[nextSolved++ % solved.length] : undefined),
      () => (solved.length ? solved[nextSolved++ % solved.length] : undefined),
      () => (solved.length ? { token: pick(solved).token, answer: '0' } : { token: 'a.b', answer: '1' }),
      () => ({ token: pick(tokens), answer: String(Math.floor(rnd() * 1e6)) }),
      () => ({ token: long(3000), answer: long(40, '9') }),
      () => ({ token: solved.length ? pick(solved).token : '', answer: '-1' }),
      () => ({ token: ['x'], answer: { n: 1 } }),
    ])();
  // The victim's own unsubscribe token would unsubscribe it, rightly: POST /unsubscribe is never given it.
  const victimUnsubscribe = subscribers.unsubscribeToken(victim.id);
  const notTheVictims = tokens.filter((x) => !x.startsWith(victimUnsubscribe));
  const hostileField = () =>
    pick<unknown>([
      pick(addresses),
      pick(tokens),
      long(Math.floor(rnd() * 3000)),
      ['a', 'b'],
      { nested: 'x' },
      '1e999',
      '-1',
      '53',
      '0',
      'ai-agents',
      'Not A Slug',
    ]);

  // encodeURIComponent throws on a lone surrogate: send it as the bytes of one (ED A0 80), which is invalid UTF-8.
  const enc = (x: string) =>
    encodeURIComponent(x.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')).replace(/%EF%BF%BD/g, '%ED%A0%80');
  const form = (fields: Record<string, unknown>) => {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(fields)) {
      if (Array.isArray(v)) for (const x of v) parts.push(`${enc(k)}=${enc(String(x))}`);
      else if (v && typeof v === 'object') for (const [kk, vv] of Object.entries(v)) parts.push(`${enc(`${k}[${kk}]`)}=${enc(String(vv))}`);
      else if (v !== undefined) parts.push(`${enc(k)}=${enc(String(v))}`);
    }
    return parts.join('&');
  };

  type Req = { method: string; path: string; body?: string; type?: string };
  const makers: Array<() => Req> = [
    () => ({
      method: 'POST',
      path: '/subscribe',
      body: form({
        email: pick(addresses),
        accept_typo: pick([undefined, '1', 'yes']),
        name: rnd() < 0.2 ? hostileField() : undefined,
        beats: rnd() < 0.2 ? hostileField() : undefined,
        ...((c) => (c ? { challenge_token: c.token, challenge_answer: c.answer } : {}))(challengeAnswer()),
      }),
      type: 'application/x-www-form-urlencoded',
    }),
    () => ({ method: 'POST', path: '/subscribe', body: form({ email: hostileField() }), type: 'application/x-www-form-urlencoded' }),
    () => ({ method: 'POST', path: '/subscribe', body: `email=${long(rnd() < 0.5 ? 200_000 : 2_000_000)}`, type: 'application/x-www-form-urlencoded' }),
    () => ({
      method: 'POST',
      path: '/api/v1/public/subscribe',
      body: JSON.stringify({
        email: pick(addresses),
        acceptTypo: pick([undefined, true, false, 'yes', 1]),
        name: rnd() < 0.2 ? hostileField() : undefined,
        beats: rnd() < 0.2 ? hostileField() : undefined,
        challenge: rnd() < 0.9 ? challengeAnswer() : pick(['x', 1, null, [], long(1000)]),
      }),
      type: 'application/json',
    }),
    () => ({
      method: 'POST',
      path: '/api/v1/public/subscribe',
      body: pick([
        '{',
        '[]',
        'null',
        '42',
        '"x"',
        '{"email":',
        JSON.stringify({ email: { $ne: null } }),
        JSON.stringify({ email: [pick(addresses)] }),
        `{"email":"${long(300_000)}"}`,
        '\u0000',
      ]),
      type: pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded']),
    }),
    () => ({ method: pick(['GET', 'HEAD']), path: `/subscribe/confirm?token=${enc(pick(tokens))}` }),
    () => ({
      method: 'POST',
      path: `/subscribe/confirm${rnd() < 0.5 ? `?token=${enc(pick(tokens))}` : ''}`,
      body: form({ token: hostileField() }),
      type: 'application/x-www-form-urlencoded',
    }),
    () => ({ method: pick(['GET', 'HEAD']), path: `/unsubscribe?token=${enc(pick(tokens))}${rnd() < 0.1 ? '&token=a&token=b' : ''}` }),
    () => ({
      method: 'POST',
      path: `/unsubscribe?token=${enc(pick(notTheVictims))}`,
      // The form's token is used when the URL's is malformed, so it must not be the victim's real one either.
      body: form({ 'List-Unsubscribe': 'One-Click', token: ((v) => (typeof v === 'string' && v.startsWith(victimUnsubscribe) ? 'x' : v))(hostileField()) }),
      type: pick(['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']),
    }),
    () => ({ method: 'GET', path: `/preferences?token=${enc(pick(tokens))}` }),
    () => ({
      method: 'POST',
      path: '/preferences',
      body: form({
        token: pick(tokens),
        action: pick(['save', 'change-email', 'resubscribe', 'download', 'nope', '', undefined]),
        beats: hostileField(),
        pause_weeks: hostileField(),
        email: pick(addresses),
      }),
      type: 'application/x-www-form-urlencoded',
    }),
    () => ({
      method: pick(['GET', 'POST']),
      path: `/preferences/confirm-email?token=${enc(pick(tokens))}`,
      body: form({ token: hostileField() }),
      type: 'application/x-www-form-urlencoded',
    }),
  ];

  const result: FuzzResult = { requests: 0, byStatus: {}, serverErrors: [], corrupted: [] };
  // Every request (and its headers) is drawn before any is sent: the seed fixes the whole mix, whichever answer
  // comes back first, so a failing seed reproduces.
  const planned = Array.from({ length: options.requests }, () => {
    const r = pick(makers)();
    const headers: Record<string, string> = {};
    if (r.type) headers['content-type'] = r.type;
    const origin = pick(origins);
    if (origin) headers.origin = origin;
    const ip = pick(ips);
    if (ip) headers['x-forwarded-for'] = ip;
    return { r, headers };
  });
  const one = async ({ r, headers }: (typeof planned)[number]) => {
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${t.url}${r.path}`, { method: r.method, headers, body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body });
      status = res.status;
      text = status >= 500 ? (await res.text()).slice(0, 300) : (await res.arrayBuffer(), '');
    } catch (error) {
      status = 599;
      text = (error as Error).message;
    }
    result.requests += 1;
    result.byStatus[status] = (result.byStatus[status] ?? 0) + 1;
    if (status >= 500) result.serverErrors.push({ method: r.method, path: r.path.slice(0, 120), status, body: text });
  };
  const concurrency = options.concurrency ?? 8;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < planned.length) await one(planned[next++]);
    }),
  );

  // Corrupted state: anything stored that the rules forbid, or the known subscribers changed by forged requests.
  const rows: Array<{
    id: string;
    email: string;
    status: string;
    confirmed_at: Date | null;
    beat_slugs: string[] | null;
    paused_until: Date | null;
    pending_email: string | null;
  }> = await db.query(`SELECT id, email, status, confirmed_at, beat_slugs, paused_until, pending_email FROM subscribers`);
  for (const row of rows) {
    if (row.status !== 'deleted') {
      const checked = checkEmailAddress(row.email);
      if (!checked.ok || checked.email !== row.email) result.corrupted.push(`stored address ${JSON.stringify(row.email)} is not a valid normalised address`);
    }
    if (!['pending', 'active', 'unsubscribed', 'suppressed', 'deleted'].includes(row.status)) result.corrupted.push(`status ${row.status}`);
    if (row.status === 'active' && !row.confirmed_at) result.corrupted.push(`${row.email} active without confirmation`);
    if (row.beat_slugs?.some((b) => !/^[a-z0-9][a-z0-9-]{0,99}$/.test(b)))
      result.corrupted.push(`${row.email} has bad beats ${JSON.stringify(row.beat_slugs)}`);
    if (row.paused_until && row.paused_until.getTime() > Date.now() + 53 * 7 * 86_400_000) result.corrupted.push(`${row.email} paused too long`);
    if (row.pending_email && !checkEmailAddress(row.pending_email).ok) result.corrupted.push(`${row.email} has a bad pending address`);
  }
  const emails: Array<{ to_email: string }> = await db.query(`SELECT to_email FROM subscriber_emails`);
  for (const e of emails) if (!checkEmailAddress(e.to_email).ok) result.corrupted.push(`queued email to ${JSON.stringify(e.to_email)}`);
  // Forged tokens cannot have confirmed, unsubscribed or deleted anyone, and nobody was activated without a confirmation.
  const after = new Map<string, { email: string; status: string }>(
    (await db.query(`SELECT id, email, status FROM subscribers`)).map((r: { id: string; email: string; status: string }) => [r.id, r]),
  );
  for (const b of before as Array<{ id: string; email: string; status: string }>) {
    const a = after.get(b.id);
    // The victim's own preferences token is among the inputs, so its beats/pause/resubscribe may change; its address and existence may not.
    if (!a || a.email !== b.email || a.status === 'deleted') result.corrupted.push(`known subscriber ${b.email} changed to ${JSON.stringify(a)}`);
    if (b.id === victim.id && a?.status !== 'active') result.corrupted.push(`the victim was ${a?.status}`);
  }
  const activated = rows.filter((r) => r.status === 'active' && !before.some((b: { id: string }) => b.id === r.id));
  if (activated.length) result.corrupted.push(`${activated.length} addresses active without a confirmation`);
  return result;
}
