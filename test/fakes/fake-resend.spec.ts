import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Resend } from 'resend';
import { startFakeResend, type FakeResend } from './fake-resend';

function email(to: string | string[], subject = 'Weekly digest') {
  return { from: 'Broadsheet <digest@news.example.com>', to, subject, html: `<p>${subject}</p>`, text: subject };
}

describe('fake Resend driven by the real resend SDK', () => {
  let fake: FakeResend;
  let resend: Resend;

  beforeEach(async () => {
    fake = await startFakeResend();
    resend = new Resend(fake.apiKey, { baseUrl: fake.url });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('accepts one email and keeps custom headers, tags and rate-limit headers', async () => {
    const result = await resend.emails.send({
      ...email('reader@example.org'),
      headers: {
        'List-Unsubscribe': '<https://news.example.com/u/abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      tags: [{ name: 'issue', value: '2026-47' }],
    });

    expect(result.error).toBeNull();
    expect(result.data?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.headers?.['ratelimit-limit']).toBeDefined();
    expect(result.headers?.['ratelimit-remaining']).toBeDefined();
    expect(result.headers?.['ratelimit-reset']).toBeDefined();
    expect(fake.emails).toHaveLength(1);
    expect(fake.emails[0]).toMatchObject({
      id: result.data?.id,
      from: 'Broadsheet <digest@news.example.com>',
      to: ['reader@example.org'],
      subject: 'Weekly digest',
      html: '<p>Weekly digest</p>',
      headers: {
        'List-Unsubscribe': '<https://news.example.com/u/abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      tags: [{ name: 'issue', value: '2026-47' }],
      idempotencyKey: null,
    });
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/emails', status: 200 });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);

    const fetched = await resend.emails.get(result.data?.id ?? '');
    expect(fetched.data).toMatchObject({ object: 'email', id: result.data?.id, subject: 'Weekly digest' });
  });

  it('is reachable through RESEND_BASE_URL as well as the baseUrl option', async () => {
    const previous = process.env.RESEND_BASE_URL;
    process.env.RESEND_BASE_URL = fake.url;
    try {
      const viaEnv = new Resend(fake.apiKey);
      const result = await viaEnv.emails.send(email('env@example.org'));
      expect(result.error).toBeNull();
      expect(fake.emails.map((e) => e.to[0])).toEqual(['env@example.org']);
    } finally {
      if (previous === undefined) delete process.env.RESEND_BASE_URL;
      else process.env.RESEND_BASE_URL = previous;
    }
  });

  it('rejects a wrong key with 401 and a missing key with missing_api_key', async () => {
    const wrong = await new Resend('re_wrong_key', { baseUrl: fake.url }).emails.send(email('a@example.org'));
    expect(wrong.data).toBeNull();
    expect(wrong.error).toEqual({ statusCode: 401, name: 'validation_error', message: 'API key is invalid' });

    const missing = await fetch(`${fake.url}/emails`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(email('a@example.org')),
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ statusCode: 401, name: 'missing_api_key' });
    expect(fake.emails).toHaveLength(0);
  });

  it('sends a batch once per idempotency key and replays the original answer', async () => {
    const batch = [email('one@example.org'), email(['two@example.org', 'Three <three@example.org>'])];

    const first = await resend.batch.send(batch, { idempotencyKey: 'digest/2026-47/chunk-0' });
    expect(first.error).toBeNull();
    expect(first.data?.data).toHaveLength(2);
    expect(fake.emails).toHaveLength(2);
    expect(fake.emails.map((e) => e.idempotencyKey)).toEqual(['digest/2026-47/chunk-0', 'digest/2026-47/chunk-0']);
    expect(fake.emails[1]?.to).toEqual(['two@example.org', 'Three <three@example.org>']);

    const repeat = await resend.batch.send(batch, { idempotencyKey: 'digest/2026-47/chunk-0' });
    expect(repeat.error).toBeNull();
    expect(repeat.data).toEqual(first.data);
    expect(fake.emails).toHaveLength(2);
    expect(fake.requests.map((r) => r.headers['idempotency-key'])).toEqual(['digest/2026-47/chunk-0', 'digest/2026-47/chunk-0']);
    expect(fake.requests[0]?.headers['x-batch-validation']).toBe('strict');

    const changed = await resend.batch.send([email('one@example.org', 'Other subject')], {
      idempotencyKey: 'digest/2026-47/chunk-0',
    });
    expect(changed.error).toMatchObject({ statusCode: 409, name: 'invalid_idempotent_request' });

    const tooLong = await resend.emails.send(email('x@example.org'), { idempotencyKey: 'k'.repeat(257) });
    expect(tooLong.error).toMatchObject({ statusCode: 400, name: 'invalid_idempotency_key' });
    expect(fake.emails).toHaveLength(2);
  });

  it('rejects a strict batch with one bad address as a whole', async () => {
    const result = await resend.batch.send([email('ok@example.org'), email('not-an-address')]);

    expect(result.data).toBeNull();
    expect(result.error).toMatchObject({ statusCode: 422, name: 'validation_error' });
    expect(result.error?.message).toContain('`to`');
    expect(fake.emails).toHaveLength(0);
  });

  it('accepts the valid emails of a permissive batch and lists the others by index', async () => {
    const result = await resend.batch.send([email('ok@example.org'), email('not-an-address'), { ...email('third@example.org'), subject: '' }], {
      batchValidation: 'permissive',
    });

    expect(result.error).toBeNull();
    expect(result.data?.data).toHaveLength(1);
    expect(result.data?.errors).toEqual([
      { index: 1, message: expect.stringContaining('`to`') },
      { index: 2, message: 'The `subject` field is missing.' },
    ]);
    expect(fake.emails.map((e) => e.to)).toEqual([['ok@example.org']]);
    expect(fake.emails[0]?.batchIndex).toBe(0);
  });

  it('limits a batch to 100 emails and 50 recipients per email', async () => {
    const tooMany = await resend.batch.send(Array.from({ length: 101 }, (_, i) => email(`r${i}@example.org`)));
    expect(tooMany.error).toMatchObject({ statusCode: 422, name: 'validation_error' });

    const hundred = await resend.batch.send(Array.from({ length: 100 }, (_, i) => email(`r${i}@example.org`)));
    expect(hundred.data?.data).toHaveLength(100);

    const crowded = await resend.emails.send(email(Array.from({ length: 51 }, (_, i) => `c${i}@example.org`)));
    expect(crowded.error).toMatchObject({ statusCode: 422, name: 'validation_error' });
    expect(fake.emails).toHaveLength(100);
  });

  it('answers injected failures without retrying, and recovers after them', async () => {
    fake.failNext(1, { status: 429, retryAfterSeconds: 7 });
    fake.failNext(1, { status: 500 });
    fake.failNext(1, { status: 422, name: 'validation_error', message: 'Invalid `from` field.' });

    const limited = await resend.emails.send(email('a@example.org'));
    expect(limited.data).toBeNull();
    expect(limited.error).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' });
    expect(limited.headers?.['retry-after']).toBe('7');
    expect(limited.headers?.['ratelimit-remaining']).toBe('0');

    const broken = await resend.emails.send(email('a@example.org'));
    expect(broken.error).toMatchObject({ statusCode: 500, name: 'internal_server_error' });

    const invalid = await resend.emails.send(email('a@example.org'));
    expect(invalid.error).toEqual({ statusCode: 422, name: 'validation_error', message: 'Invalid `from` field.' });

    // One request per call: the SDK never retries by itself.
    expect(fake.requests.map((r) => r.status)).toEqual([429, 500, 422]);
    const ok = await resend.emails.send(email('a@example.org'));
    expect(ok.error).toBeNull();
    expect(fake.emails).toHaveLength(1);
  });

  it('enforces ratePerSecond with retry-after and ratelimit-* headers', async () => {
    let clock = 1_800_000_000_000;
    const limited = await startFakeResend({ ratePerSecond: 2, now: () => clock });
    try {
      const client = new Resend(limited.apiKey, { baseUrl: limited.url });
      const first = await client.emails.send(email('a@example.org'));
      expect(first.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1' });
      const second = await client.emails.send(email('b@example.org'));
      expect(second.headers).toMatchObject({ 'ratelimit-remaining': '0' });

      const third = await client.emails.send(email('c@example.org'));
      expect(third.error).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' });
      expect(third.headers).toMatchObject({ 'retry-after': '1', 'ratelimit-limit': '2', 'ratelimit-remaining': '0' });
      expect(limited.emails).toHaveLength(2);

      clock += 1000;
      const fourth = await client.emails.send(email('c@example.org'));
      expect(fourth.error).toBeNull();
      expect(limited.emails.map((e) => e.to[0])).toEqual(['a@example.org', 'b@example.org', 'c@example.org']);
    } finally {
      await limited.close();
    }
  });

  it('signs webhooks so that resend.webhooks.verify accepts them, and a tampered body fails', async () => {
    const sent = await resend.emails.send({ ...email('bounce@example.org'), tags: [{ name: 'issue', value: '47' }] });
    const emailId = sent.data?.id ?? '';

    const bounced = fake.eventFor(emailId, 'email.bounced');
    expect(bounced).toMatchObject({
      type: 'email.bounced',
      data: {
        email_id: emailId,
        from: 'Broadsheet <digest@news.example.com>',
        to: ['bounce@example.org'],
        subject: 'Weekly digest',
        tags: { issue: '47' },
        bounce: { type: 'Permanent', subType: 'General' },
      },
    });
    expect(typeof (bounced.data.bounce as { message: unknown }).message).toBe('string');

    const signed = fake.signWebhook(bounced, { id: 'msg_test_1' });
    expect(fake.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(signed.headers['svix-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verifyHeaders = {
      id: signed.headers['svix-id'],
      timestamp: signed.headers['svix-timestamp'],
      signature: signed.headers['svix-signature'],
    };

    const verified = resend.webhooks.verify({
      payload: signed.body,
      headers: verifyHeaders,
      webhookSecret: fake.webhookSecret,
    });
    expect(verified).toEqual(bounced);

    const tampered = signed.body.replace('bounce@example.org', 'other@example.org');
    expect(() => resend.webhooks.verify({ payload: tampered, headers: verifyHeaders, webhookSecret: fake.webhookSecret })).toThrow(/signature/i);
    expect(() =>
      resend.webhooks.verify({
        payload: signed.body,
        headers: verifyHeaders,
        webhookSecret: `whsec_${Buffer.from('another secret').toString('base64')}`,
      }),
    ).toThrow(/signature/i);
  });

  it('delivers a signed webhook to an HTTP endpoint with svix headers and the raw body', async () => {
    const sent = await resend.emails.send(email('deliver@example.org'));
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const event = fake.eventFor(sent.data?.id ?? '', 'email.delivered');
      const result = await fake.deliverWebhook(`http://127.0.0.1:${port}/webhooks/resend`, event);

      expect(result.status).toBe(204);
      expect(received).toHaveLength(1);
      const got = received[0];
      const parsed = resend.webhooks.verify({
        payload: got?.body ?? '',
        headers: {
          id: String(got?.headers['svix-id']),
          timestamp: String(got?.headers['svix-timestamp']),
          signature: String(got?.headers['svix-signature']),
        },
        webhookSecret: fake.webhookSecret,
      });
      expect(parsed).toMatchObject({ type: 'email.delivered', data: { email_id: sent.data?.id } });
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
