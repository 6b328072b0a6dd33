import { startFakeResend, type FakeResend } from '../../test/fakes/fake-resend';
import { ResendEmailSender } from '../kernel/email/resend-email-sender.adapter';
import { type OutgoingEmail } from '../kernel/email/email-sender.port';
import { batchEmails, sendContent } from './delivery-engine';
import { personalise, PREFERENCES_SENTINEL, UNSUBSCRIBE_SENTINEL } from './digest-renderer';

const send = sendContent({
  id: '00000000-0000-4000-8000-000000000001',
  issueId: '00000000-0000-4000-8000-000000000002',
  subject: 'Clinics pause the AI scribe — Broadsheet No. 1',
  fromAddress: 'Broadsheet <digest@example.com>',
  html: `<p>“Quoted” – text → more</p><a href="${UNSUBSCRIBE_SENTINEL}">Unsubscribe</a> · <a href="${PREFERENCES_SENTINEL}">Preferences</a>\n<a href="${UNSUBSCRIBE_SENTINEL}">x</a>`,
  text: `“Quoted” – text\nUnsubscribe: ${UNSUBSCRIBE_SENTINEL}\nPreferences: ${PREFERENCES_SENTINEL}`,
});
const members = Array.from({ length: 3 }, (_, i) => ({
  subscriberId: `00000000-0000-4000-8000-00000000001${i}`,
  email: `reader${i}@example.net`,
  unsubscribeUrl: `https://news.example.com/unsubscribe?token=t${i}.sig"&<${i}>`,
}));

/** The same messages the old way: each recipient's copy substituted into the whole digest, as plain strings. */
function plainEmails(): OutgoingEmail[] {
  return members.map((m) => {
    const body = personalise(send, m.unsubscribeUrl);
    return {
      from: send.from,
      to: m.email,
      subject: send.subject,
      html: body.html,
      text: body.text,
      headers: { 'List-Unsubscribe': `<${m.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      tags: [{ name: 'send', value: send.id }],
      messageKey: `broadsheet.${send.issueId}.${m.subscriberId}`,
    };
  });
}

describe('a batch payload through the Resend SDK', () => {
  let resend: FakeResend;
  let sender: ResendEmailSender;

  beforeAll(async () => {
    resend = await startFakeResend();
    sender = new ResendEmailSender({ apiKey: resend.apiKey, baseUrl: resend.url });
  });

  afterAll(() => resend.close());

  it('spliced per recipient and read while the SDK serialises it, is byte for byte the plain payload', async () => {
    const spliced = batchEmails(send, members);
    expect(spliced.map((e) => ({ ...e }))).toEqual(plainEmails());

    const first = await sender.sendBatch(spliced, { idempotencyKey: 'payload-1' });
    expect(first.kind).toBe('accepted');
    expect(resend.emails).toHaveLength(3);
    const [email] = resend.emails;
    expect(email!.html).toContain('href="https://news.example.com/unsubscribe?token=t0.sig&quot;&amp;&lt;0&gt;"');
    expect(email!.html).toContain('href="https://news.example.com/preferences?token=t0.sig%22&amp;%3C0%3E"');
    expect(email!.text).toContain('Unsubscribe: https://news.example.com/unsubscribe?token=t0.sig"&<0>');
    expect(email!.html).not.toContain('broadsheet.invalid');

    // The fake answers a key reused with other bytes with 409 invalid_idempotent_request (outcome `unknown`);
    // the plain payload and a rebuilt one under the same key get the original answer, and nothing is sent again.
    for (const again of [plainEmails(), batchEmails(send, members)]) {
      const outcome = await sender.sendBatch(again, { idempotencyKey: 'payload-1' });
      expect(outcome).toEqual(first);
    }
    expect(resend.emails).toHaveLength(3);
    const other = await sender.sendBatch(batchEmails(send, members.slice(1)), { idempotencyKey: 'payload-1' });
    expect(other.kind).toBe('unknown');
  });
});
