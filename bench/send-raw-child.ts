// The raw rate of `npm run bench:send`, in a process of its own started exactly as an instance is (the same
// NODE_OPTIONS and environment from `npm start`, the same built code under dist/): the same number of batches of
// the send's content, built by `batchEmails` and posted by the Resend adapter and SDK with the same concurrency to
// the same fake, with no database. Started with child_process.fork; gets its job over IPC, answers the figures.
import { join } from 'node:path';

interface Job {
  content: { id: string; issueId: string; subject: string; html: string; text: string; fromAddress: string };
  token: string;
  batches: number;
  concurrency: number;
  fake: { url: string; apiKey: string };
}

const DIST = join(__dirname, '..', 'dist', 'src');
/* eslint-disable @typescript-eslint/no-require-imports -- the built modules an instance runs, not their sources */
const { batchEmails, sendContent } = require(join(DIST, 'delivery', 'delivery-engine.js')) as typeof import('../src/delivery/delivery-engine');
const { ResendEmailSender } = require(
  join(DIST, 'kernel', 'email', 'resend-email-sender.adapter.js'),
) as typeof import('../src/kernel/email/resend-email-sender.adapter');
/* eslint-enable @typescript-eslint/no-require-imports */

async function run(job: Job): Promise<{ emailsPerSecond: number; batchBytes: number }> {
  const content = sendContent(job.content);
  const sender = new ResendEmailSender({ apiKey: job.fake.apiKey, baseUrl: job.fake.url });
  let batchBytes = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let b = next++; b < job.batches; b = next++) {
      // Links of the same length as the stored ones, one per recipient.
      const members = Array.from({ length: 100 }, (_, i) => ({
        subscriberId: `raw-${b}-${i}`,
        email: `raw${b}-${i}@example.net`,
        unsubscribeUrl: `https://news.example.com/unsubscribe?token=${String(b * 100 + i).padStart(job.token.length, 'x')}`,
      }));
      const emails = batchEmails(content, members);
      // A keep-alive socket the fake closed meanwhile fails once: the same key makes the second try safe.
      let outcome = await sender.sendBatch(emails, { idempotencyKey: `raw-${b}` });
      for (let retry = 0; outcome.kind === 'retry' && retry < 5; retry++) outcome = await sender.sendBatch(emails, { idempotencyKey: `raw-${b}` });
      if (outcome.kind !== 'accepted') throw new Error(`raw post failed: ${JSON.stringify(outcome)}`);
      if (b === 0) batchBytes = Buffer.byteLength(JSON.stringify(emails.map(({ messageKey: _, to, ...e }) => ({ ...e, to: [to] }))));
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return { emailsPerSecond: (job.batches * 100) / ((performance.now() - t0) / 1000), batchBytes };
}

process.once('message', (job: Job) => {
  run(job).then(
    (figures) => process.send!(figures, () => process.exit(0)),
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
});
