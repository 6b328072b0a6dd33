import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmtpEmailSender } from '../../src/kernel/email/smtp-email-sender.adapter';

/** The SMTP provider against a real SMTP server from Debian's packages: postfix's smtp-sink. */
describe('SMTP email sender (smtp-sink)', () => {
  const sinks: ChildProcess[] = [];
  const dirs: string[] = [];

  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    return port;
  }

  /** Starts smtp-sink dumping each message to a file; `flags` e.g. ['-f', 'RCPT'] to refuse every recipient. */
  async function startSink(flags: string[] = []): Promise<{ url: string; dir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'smtp-sink-'));
    dirs.push(dir);
    const port = await freePort();
    const sink = spawn('/usr/sbin/smtp-sink', ['-u', 'root', ...flags, '-d', `${dir}/%M.`, `127.0.0.1:${port}`, '10'], { stdio: 'ignore' });
    sinks.push(sink);
    let exited: string | null = null;
    sink.once('exit', (code, signal) => (exited = `smtp-sink exited (${signal ?? code}) before it listened`));
    // Until it listens, however long a loaded machine takes to start it (the test's timeout bounds this).
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (up) break;
      if (exited) throw new Error(exited);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { url: `smtp://127.0.0.1:${port}`, dir };
  }

  const email = (to: string, key: string) => ({
    from: 'Broadsheet <digest@news.example.com>',
    to,
    subject: 'Issue 1',
    html: '<p>Hello</p>',
    text: 'Hello',
    headers: { 'List-Unsubscribe': '<https://news.example.com/unsubscribe?token=t>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    messageKey: key,
  });

  afterAll(() => {
    for (const s of sinks) s.kill();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('delivers each message with a Message-ID derived from its key, the same on a retry', async () => {
    const { url, dir } = await startSink();
    const sender = new SmtpEmailSender({ url, messageIdDomain: 'news.example.com' });
    const batch = [email('a@example.net', 'broadsheet.issue-1.sub-a'), email('b@example.net', 'broadsheet.issue-1.sub-b')];
    const first = await sender.sendBatch(batch, { idempotencyKey: 'k1', timeoutMs: 5_000 });
    expect(first).toEqual({
      kind: 'accepted',
      messages: [
        { status: 'accepted', messageId: '<broadsheet.issue-1.sub-a@news.example.com>' },
        { status: 'accepted', messageId: '<broadsheet.issue-1.sub-b@news.example.com>' },
      ],
    });
    await sender.sendBatch(batch.slice(0, 1), { idempotencyKey: 'k1', timeoutMs: 5_000 });
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(files).toHaveLength(3);
    const ids = files.map((f) => /^Message-ID: (.+)$/m.exec(f)?.[1]).sort();
    expect(ids).toEqual([
      '<broadsheet.issue-1.sub-a@news.example.com>',
      '<broadsheet.issue-1.sub-a@news.example.com>',
      '<broadsheet.issue-1.sub-b@news.example.com>',
    ]);
    expect(files[0]).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
  });

  it('fails only the messages the server refuses with a 5xx', async () => {
    const { url } = await startSink(['-f', 'RCPT']);
    const sender = new SmtpEmailSender({ url, messageIdDomain: 'news.example.com' });
    const outcome = await sender.sendBatch([email('a@example.net', 'x.a'), email('b@example.net', 'x.b')], { idempotencyKey: 'k2', timeoutMs: 5_000 });
    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    expect(outcome.messages.map((m) => m.status)).toEqual(['rejected', 'rejected']);
    expect(outcome.messages[0]).toMatchObject({ error: expect.stringMatching(/^SMTP 5\d\d/) });
  });

  it('asks for a retry when the server cannot be reached', async () => {
    const sender = new SmtpEmailSender({ url: `smtp://127.0.0.1:${await freePort()}`, messageIdDomain: 'news.example.com' });
    const outcome = await sender.sendBatch([email('a@example.net', 'x.a')], { idempotencyKey: 'k3', timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ kind: 'retry', mayHaveSent: true });
  });
});
