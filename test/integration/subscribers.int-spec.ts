import { DataSource } from 'typeorm';
import { SubscriberMailer } from '../../src/subscribers/subscriber-mailer';
import { SubscribersService, InvalidEmailError, InvalidTokenError } from '../../src/subscribers/subscribers.service';
import { FakeClock } from '../fakes/fake-clock';
import { readOutbox } from '../support/outbox';
import { startTestApp, type TestApp } from '../support/test-app';

describe('subscribers', () => {
  let t: TestApp;
  let subscribers: SubscribersService;
  let db: DataSource;
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));

  beforeAll(async () => {
    t = await startTestApp({ SUBSCRIBE_ADDRESS_LIMIT: '100', SUBSCRIBE_CLIENT_LIMIT: '100' }, { clock });
    subscribers = t.get(SubscribersService);
    db = t.get(DataSource);
  });
  afterAll(() => t?.close());

  const confirmLinks = async (to: string) => {
    await t.get(SubscriberMailer).run();
    return (await readOutbox(t.config.email.outboxDir))
      .filter((m) => (m.mail.to as { text: string }).text.toLowerCase() === to)
      .filter((m) => m.mail.subject?.startsWith('Confirm'))
      .map((m) => new URL(/Confirm your subscription: (\S+)/.exec(m.mail.text!)![1]).searchParams.get('token')!);
  };
  const subscriberCount = async () => (await db.query(`SELECT count(*)::int AS n FROM subscribers`))[0].n as number;
  /**
   * This test's own subscriber, as a person leaves one: signed up, a second link asked for after the re-send
   * window (which voids the first), and confirmed with it. Returns its id and both confirmation tokens.
   */
  const confirmedSubscriber = async (email: string) => {
    await subscribers.subscribe({ email, ip: '127.0.0.1', source: 'web-form' });
    const [first] = await confirmLinks(email);
    clock.advance(11 * 60_000);
    await subscribers.subscribe({ email, ip: '127.0.0.1', source: 'web-form' });
    const links = await confirmLinks(email);
    expect(links).toHaveLength(2);
    await expect(subscribers.confirm(links.find((l) => l !== first)!)).resolves.toMatchObject({ alreadyActive: false });
    const [{ id }] = await db.query(`SELECT id FROM subscribers WHERE lower(email) = $1`, [email]);
    return { id: id as string, links };
  };

  it.each(['', 'plainaddress', 'a@b', 'two@@example.com', 'x'.repeat(250) + '@example.com', 'me@example.com\r\nBcc: you@example.com', 42, null])(
    'refuses %p with a clear message and stores nothing',
    async (email) => {
      const before = await subscriberCount();
      await expect(subscribers.subscribe({ email, ip: null, source: 'web-form' })).rejects.toThrow(InvalidEmailError);
      expect(await subscriberCount()).toBe(before);
    },
  );

  it('sends one confirmation per ten minutes however often the form is posted, and a new link voids the old', async () => {
    const before = await subscriberCount();
    for (let i = 0; i < 5; i++)
      await expect(subscribers.subscribe({ email: 'Ada@Example.com', ip: '127.0.0.1', source: 'web-form' })).resolves.toBe('check-inbox');
    expect(await confirmLinks('ada@example.com')).toHaveLength(1);
    const [first] = await confirmLinks('ada@example.com');
    clock.advance(11 * 60_000);
    await subscribers.subscribe({ email: 'ada@example.com', ip: '127.0.0.1', source: 'web-form' });
    const links = await confirmLinks('ada@example.com');
    expect(links).toHaveLength(2);
    const second = links.find((l) => l !== first)!;
    await expect(subscribers.confirm(first)).rejects.toThrow(InvalidTokenError);
    await expect(subscribers.confirm(second)).resolves.toMatchObject({ alreadyActive: false });
    await expect(subscribers.confirm(second)).resolves.toMatchObject({ alreadyActive: true });
    expect(await subscriberCount()).toBe(before + 1);
    expect((await db.query(`SELECT count(*)::int AS n FROM subscribers WHERE lower(email) = 'ada@example.com'`))[0].n).toBe(1);
    await expect(subscribers.subscribe({ email: 'ADA@example.com', ip: null, source: 'web-form' })).resolves.toBe('check-inbox');
  });

  it('never lets an old confirmation link re-subscribe someone who unsubscribed', async () => {
    const { id, links } = await confirmedSubscriber('leaver@example.com');
    await subscribers.unsubscribe(subscribers.unsubscribeToken(id));
    for (const link of links) await expect(subscribers.confirm(link)).rejects.toThrow(InvalidTokenError);
    expect((await db.query(`SELECT status FROM subscribers WHERE id = $1`, [id]))[0].status).toBe('unsubscribed');
  });

  it('signs unsubscribe tokens that are unforgeable and do not reveal the address', async () => {
    await subscribers.subscribe({ email: 'grace@example.com', ip: '127.0.0.1', source: 'web-form' });
    const [{ id }] = await db.query(`SELECT id FROM subscribers WHERE lower(email) = 'grace@example.com'`);
    const token = subscribers.unsubscribeToken(id);
    expect(Buffer.from(token.split('.')[0], 'base64url').toString()).toBe(id);
    expect(token.toLowerCase()).not.toContain('grace');
    const [body, signature] = token.split('.');
    const forged = `${Buffer.from('00000000-0000-0000-0000-000000000000').toString('base64url')}.${signature}`;
    for (const bad of [forged, `${body}.${signature.slice(0, -2)}xx`, `${body}`, `${body}.${signature}.x`, '']) {
      await expect(subscribers.unsubscribe(bad)).rejects.toThrow(InvalidTokenError);
    }
    // A confirmation token is not an unsubscribe token, even for the same subscriber.
    const [confirm] = await confirmLinks('grace@example.com');
    expect(confirm).toBeDefined();
    await expect(subscribers.unsubscribe(confirm)).rejects.toThrow(InvalidTokenError);
  });
});
