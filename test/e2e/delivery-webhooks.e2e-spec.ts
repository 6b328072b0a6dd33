import { DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { startFakeResend, type FakeResend } from '../fakes/fake-resend';
import { deliveryFixtures } from '../support/delivery-fixtures';
import { startTestApp, type TestApp } from '../support/test-app';

/** Resend's signed webhooks: verified on the raw body, once per event id, recorded, acted on. */
describe('Resend webhooks', () => {
  let resend: FakeResend;
  let t: TestApp;
  let db: DataSource;
  let endpoint: string;

  beforeAll(async () => {
    resend = await startFakeResend();
    t = await startTestApp({
      RESEND_API_KEY: resend.apiKey,
      RESEND_BASE_URL: resend.url,
      DELIVERY_RATE_PER_SECOND: '100',
      RESEND_WEBHOOK_SECRET: resend.webhookSecret,
    });
    db = t.get(DataSource);
    endpoint = `${t.url}/webhooks/resend`;
    await t.get(DemoSeeder).seed();
    await t.get(PipelineService).runOnce({ approve: false });
  });

  afterAll(async () => {
    await t?.close();
    await resend?.close();
  });

  it('records events against recipients, ignores duplicates, and suppresses hard bounces and complaints', async () => {
    const readers = ['hooked0@example.net', 'hooked1@example.net', 'hooked2@example.net'];
    const issue = await deliveryFixtures(t, db).issueFor(readers);
    const delivery = t.get(DeliveryService);
    await delivery.run();
    const emailOf = (to: string) => resend.emails.find((e) => e.to[0] === to)!.id;

    const delivered = resend.eventFor(emailOf(readers[0]), 'email.delivered');
    const first = await resend.deliverWebhook(endpoint, delivered, { id: 'msg_delivered_1' });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ received: true, duplicate: false });
    const again = await resend.deliverWebhook(endpoint, delivered, { id: 'msg_delivered_1' });
    expect(JSON.parse(again.body)).toEqual({ received: true, duplicate: true });

    expect((await resend.deliverWebhook(endpoint, resend.eventFor(emailOf(readers[1]), 'email.bounced'))).status).toBe(200);
    expect((await resend.deliverWebhook(endpoint, resend.eventFor(emailOf(readers[2]), 'email.complained'))).status).toBe(200);
    // A soft bounce is recorded but suppresses nobody.
    const soft = resend.eventFor(emailOf(readers[0]), 'email.bounced', { bounce: { type: 'Transient', subType: 'MailboxFull', message: 'full' } });
    expect((await resend.deliverWebhook(endpoint, soft)).status).toBe(200);

    const status = await delivery.issueStatus(issue.number);
    expect(status.events).toMatchObject({ delivered: 1, bounced: 2, complained: 1 });
    const ids: Array<{ id: string; email: string }> = await db.query(`SELECT id, email FROM subscribers WHERE email = ANY($1) ORDER BY email`, [readers]);
    const active = await t.get(SubscribersService).activeIds(ids.map((r) => r.id));
    expect(ids.filter((r) => active.has(r.id)).map((r) => r.email)).toEqual([readers[0]]);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM delivery_events WHERE recipient_id IS NOT NULL`);
    expect(n).toBe(4);
  });

  it('refuses unsigned, wrongly signed, tampered and stale deliveries', async () => {
    const event = { type: 'email.delivered', created_at: new Date().toISOString(), data: { email_id: 'x', to: ['a@example.net'] } };
    const signed = resend.signWebhook(event);
    const post = (headers: Record<string, string>, body: string) =>
      fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    const unsigned = await post({}, signed.body);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ code: 'invalid_webhook_signature' });
    expect((await post({ ...signed.headers, 'svix-signature': 'v1,AAAA' }, signed.body)).status).toBe(401);
    expect((await post(signed.headers, signed.body.replace('a@example.net', 'b@example.net'))).status).toBe(401);
    const stale = resend.signWebhook(event, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect((await post(stale.headers, stale.body)).status).toBe(401);
    expect((await post(signed.headers, signed.body)).status).toBe(200);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM delivery_events WHERE event_id = $1`, [signed.headers['svix-id']]);
    expect(n).toBe(1);
  });
});
