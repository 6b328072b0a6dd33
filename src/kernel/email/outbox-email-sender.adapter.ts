import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { EmailSender, type BatchOutcome, type OutgoingEmail } from './email-sender.port';

/**
 * Writes each message as an RFC 5322 `.eml` file (built by nodemailer's MailComposer) under the outbox folder:
 * the default driver, so the demo "sends" without a provider. File names derive from the idempotency key, so
 * a repeated batch overwrites its own files instead of duplicating them.
 */
export class OutboxEmailSender extends EmailSender {
  readonly maxBatchSize = 100;
  readonly name = 'outbox';

  constructor(readonly dir: string) {
    super();
  }

  async sendBatch(emails: OutgoingEmail[], { idempotencyKey }: { idempotencyKey: string }): Promise<BatchOutcome> {
    try {
      await mkdir(this.dir, { recursive: true });
      const safeKey = idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '_');
      const messages = [];
      for (const [index, email] of emails.entries()) {
        const messageId = `${safeKey}-${String(index).padStart(3, '0')}`;
        const raw = await new MailComposer({
          from: email.from,
          to: email.to,
          subject: email.subject,
          html: email.html,
          text: email.text,
          headers: email.headers,
          messageId: `<${messageId}@broadsheet.outbox>`,
          date: new Date(),
        })
          .compile()
          .build();
        const file = join(this.dir, `${messageId}.eml`);
        // Write then rename, so a reader never sees half a message. Each write has its own temp file: two writers
        // of the same message at once must not rename each other's file away (that was a 503 under load).
        const tmp = `${file}.${randomUUID()}.tmp`;
        await writeFile(tmp, raw);
        await rename(tmp, file);
        messages.push({ status: 'accepted' as const, messageId });
      }
      return { kind: 'accepted', messages };
    } catch (error) {
      return { kind: 'retry', retryAfterMs: 5_000, error: `outbox write failed: ${(error as Error).message}`, mayHaveSent: true };
    }
  }
}
