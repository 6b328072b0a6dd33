import { createTransport, type Transporter } from 'nodemailer';
import { EmailSender, type BatchOutcome, type MessageOutcome, type OutgoingEmail, type SendBatchOptions } from './email-sender.port';

/**
 * SMTP for self-hosters (nodemailer, pooled connection from SMTP_URL). SMTP has no idempotency keys: each message
 * gets a Message-ID derived from its `messageKey` (issue and subscriber), so a message sent again after a crash keeps
 * its identity, and delivery's recipient rows keep it from being sent again once its answer is recorded. A message
 * refused with a 5xx reply fails alone; a 4xx reply or a broken connection makes the batch retry.
 */
export class SmtpEmailSender extends EmailSender {
  readonly maxBatchSize = 100;
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(options: { url: string; messageIdDomain: string }) {
    super();
    this.transport = createTransport(options.url, { pool: true, maxConnections: 2 } as never);
    this.domain = options.messageIdDomain;
  }

  private readonly domain: string;

  async sendBatch(emails: OutgoingEmail[], { idempotencyKey, timeoutMs }: SendBatchOptions): Promise<BatchOutcome> {
    const messages: MessageOutcome[] = [];
    for (const [index, email] of emails.entries()) {
      const id = `<${(email.messageKey ?? `${idempotencyKey}.${index}`).replace(/[^A-Za-z0-9.-]/g, '-')}@${this.domain}>`;
      try {
        const send = this.transport.sendMail({
          from: email.from,
          to: email.to,
          subject: email.subject,
          html: email.html,
          text: email.text,
          headers: email.headers,
          messageId: id,
        });
        const info = await (timeoutMs ? Promise.race([send, timeout(timeoutMs)]) : send);
        messages.push({ status: 'accepted', messageId: (info as { messageId?: string }).messageId ?? id });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode ?? 0;
        if (code >= 500) {
          messages.push({ status: 'rejected', error: `SMTP ${code}: ${(error as Error).message}` });
          continue;
        }
        // Nothing recorded yet for this batch: the messages before this one may be sent again, with the same Message-IDs.
        return { kind: 'retry', retryAfterMs: 5_000, error: `SMTP: ${(error as Error).message}`, mayHaveSent: true };
      }
    }
    return { kind: 'accepted', messages };
  }
}

function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref());
}
