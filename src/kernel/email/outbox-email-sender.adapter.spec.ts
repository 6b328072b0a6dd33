import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxEmailSender } from './outbox-email-sender.adapter';

describe('OutboxEmailSender', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const email = { from: 'a@example.com', to: 'b@example.com', subject: 'Hi', html: '<p>Hi</p>', text: 'Hi', headers: {} };

  it('accepts concurrent writes of the same message (same idempotency key) without a temp-file collision', async () => {
    const sender = new OutboxEmailSender(dir);
    const outcomes = await Promise.all(Array.from({ length: 32 }, () => sender.sendBatch([email], { idempotencyKey: 'confirm-same-key' })));
    expect(outcomes.map((o) => o.kind)).toEqual(Array(32).fill('accepted'));
    // One message, written once per key however often it is retried; no temp files left behind.
    expect(readdirSync(dir)).toEqual(['confirm-same-key-000.eml']);
  });
});
