import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { SubscriberMailer } from '../src/subscribers/subscriber-mailer';
import { FakeClock } from '../test/fakes/fake-clock';
import { readOutbox } from '../test/support/outbox';
import { fuzzSubscriptions } from '../test/support/subscription-fuzz';
import { postForm } from '../test/support/subscriptions';
import { startTestApp } from '../test/support/test-app';

/**
 * `npm run bench:subscribe`: the sign-up attacks of issue 9, measured on embedded PGlite and on the PostgreSQL
 * server (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres): confirmation emails for 200
 * sign-ups from one client, for 64 simultaneous sign-ups of one address, the new/known response-time ratio,
 * and a fuzz run of 10,000 hostile requests (5xx and corrupted states, both must be 0).
 */
const SERVER = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FUZZ_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const TIMING_SAMPLES = 300;

async function withDatabase<T>(
  database: 'pglite' | 'postgres',
  env: Record<string, string>,
  clock: FakeClock | undefined,
  fn: (t: Awaited<ReturnType<typeof startTestApp>>) => Promise<T>,
): Promise<T> {
  const saved = process.env.DATABASE_URL;
  if (database === 'postgres') process.env.DATABASE_URL = SERVER;
  else delete process.env.DATABASE_URL;
  try {
    const t = await startTestApp(env, clock ? { clock } : {});
    t.app.set('trust proxy', 'loopback');
    try {
      return await fn(t);
    } finally {
      await t.close();
    }
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

const confirmations = async (dir: string, match: RegExp) =>
  (await readOutbox(dir)).filter((m) => m.mail.subject?.startsWith('Confirm') && match.test(m.mail.text ?? '')).length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

it('sign-up abuse figures on both databases', async () => {
  const figures: Record<string, Record<string, number>> = {};
  for (const database of ['pglite', 'postgres'] as const) {
    const f: Record<string, number> = {};
    // Flood: 200 different addresses from one client, default limits.
    await withDatabase(database, {}, new FakeClock(new Date('2026-11-27T12:00:00Z')), async (t) => {
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) statuses.push((await postForm(`${t.url}/subscribe`, { email: `flood${i}@example.com` }, { ip: '203.0.113.9' })).status);
      await t.get(SubscriberMailer).run();
      f.flood_requests = 200;
      f.flood_emails = await confirmations(t.config.email.outboxDir, /flood\d+@/);
      f.flood_429 = statuses.filter((s) => s === 429).length;
      f.flood_5xx = statuses.filter((s) => s >= 500).length;
    });
    // Race: 64 simultaneous sign-ups of one address after the re-send window.
    const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
    await withDatabase(database, { SUBSCRIBE_CLIENT_LIMIT: '100000', SUBSCRIBE_ADDRESS_LIMIT: '100000' }, clock, async (t) => {
      await postForm(`${t.url}/subscribe`, { email: 'race@example.com' }, { ip: '192.0.2.1' });
      await t.get(SubscriberMailer).run();
      clock.advance(11 * 60_000);
      const statuses = await Promise.all(
        Array.from({ length: 64 }, (_, i) => postForm(`${t.url}/subscribe`, { email: 'race@example.com' }, { ip: `192.0.2.${i + 2}` }).then((r) => r.status)),
      );
      await Promise.all([t.get(SubscriberMailer).run(), t.get(SubscriberMailer).run()]);
      f.race_requests = 64;
      f.race_emails_after_window = (await confirmations(t.config.email.outboxDir, /race@/)) - 1;
      f.race_5xx = statuses.filter((s) => s >= 500).length;
    });
    // Timing: alternate a known (active) address and a new one, same client and path.
    await withDatabase(database, { SUBSCRIBE_CLIENT_LIMIT: '100000', SUBSCRIBE_ADDRESS_LIMIT: '100000' }, undefined, async (t) => {
      await postForm(`${t.url}/subscribe`, { email: 'known@example.com' }, { ip: '192.0.2.1' });
      await t.get(SubscriberMailer).run();
      await t.get(DataSource).query(`UPDATE subscribers SET status = 'active', confirmed_at = now() WHERE email = 'known@example.com'`);
      for (let i = 0; i < 20; i++) await postForm(`${t.url}/subscribe`, { email: `warm${i}@example.com` }, { ip: '192.0.2.1' });
      const known: number[] = [];
      const fresh: number[] = [];
      for (let i = 0; i < TIMING_SAMPLES; i++) {
        for (const [list, email] of (i % 2
          ? [
              [known, 'known@example.com'],
              [fresh, `new${i}@example.com`],
            ]
          : [
              [fresh, `new${i}@example.com`],
              [known, 'known@example.com'],
            ]) as Array<[number[], string]>) {
          const t0 = performance.now();
          const res = await postForm(`${t.url}/subscribe`, { email }, { ip: '192.0.2.1' });
          await res.text();
          list.push(performance.now() - t0);
        }
      }
      f.timing_known_median_s = median(known) / 1000;
      f.timing_new_median_s = median(fresh) / 1000;
      f.timing_ratio_new_to_known = Number((median(fresh) / median(known)).toFixed(3));
    });
    // Fuzz.
    await withDatabase(database, { SUBSCRIBE_CLIENT_LIMIT: '1000000', SUBSCRIBE_ADDRESS_LIMIT: '1000000' }, undefined, async (t) => {
      const started = performance.now();
      const result = await fuzzSubscriptions(t, { requests: FUZZ_REQUESTS, seed: 2026 });
      f.fuzz_requests = result.requests;
      f.fuzz_5xx = result.serverErrors.length;
      f.fuzz_corrupted_states = result.corrupted.length;
      f.fuzz_seconds = Number(((performance.now() - started) / 1000).toFixed(1));
      for (const [status, n] of Object.entries(result.byStatus)) f[`fuzz_status_${status}`] = n;
      if (result.serverErrors.length || result.corrupted.length)
        console.error(JSON.stringify({ serverErrors: result.serverErrors.slice(0, 10), corrupted: result.corrupted.slice(0, 10) }, null, 2));
    });
    figures[database] = f;
  }
  console.table(figures);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'subscribe.json'),
    `${JSON.stringify({ bench: 'subscribe', at: new Date().toISOString(), cpus: cpus().length, node: process.version, figures }, null, 2)}\n`,
  );
  for (const f of Object.values(figures)) {
    expect(f.fuzz_5xx).toBe(0);
    expect(f.fuzz_corrupted_states).toBe(0);
    expect(f.fuzz_requests).toBe(FUZZ_REQUESTS);
    expect(f.flood_emails).toBeLessThanOrEqual(10);
    expect(f.race_emails_after_window).toBe(1);
  }
}, 3_600_000);
