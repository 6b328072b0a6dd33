// npm run bench:chaos — 10,000 subscribers, three instances on one database, the fake Resend injecting 429s, 5xx,
// slow answers and accepted-then-dropped connections, instances SIGKILLed at random moments and restarted (at least
// 10 times), PostgreSQL itself restarted once mid-send. Prints and writes bench/results/chaos.json: duplicates
// delivered (must be 0), recipients never sent (must be 0), accounting closed (must be true).
// It restarts the shared PostgreSQL server once (briefly): run it when nobody else's tests need that server.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { healthy, instanceEnv, query, ROOT, sendProgress, startFleet, startInstance } from './send-lib';

const SUBSCRIBERS = Number(process.env.BENCH_CHAOS_SUBSCRIBERS ?? 10_000);
const KILLS = Number(process.env.BENCH_CHAOS_KILLS ?? 12);
const INSTANCES = 3;

async function main(): Promise<void> {
  const started = Date.now();
  const loadAverageAtStart = loadavg();
  const fleet = await startFleet({
    subscribers: SUBSCRIBERS,
    instances: INSTANCES,
    basePort: 3960,
    fakeOptions: { faults: { status500: 0.05, status429: 0.05, acceptThenDrop: 0.05, slow: 0.04, slowMs: 3_000 } },
    instanceEnv: (base) =>
      instanceEnv({
        ...base,
        rate: 20,
        extra: { DELIVERY_LEASE_SECONDS: '5', DELIVERY_REQUEST_TIMEOUT_SECONDS: '2', DELIVERY_MAX_ATTEMPTS: '20', DELIVERY_BATCH_SIZE: '50' },
      }),
  });
  const { db, fake, env } = fleet;
  const children = new Map<number, ReturnType<typeof startInstance>>(fleet.children.map((c, i) => [i, c]));
  let kills = 0;
  let pgRestarted = false;
  try {
    await fleet.queueSend();

    const deadline = Date.now() + 30 * 60_000;
    const up = new Map<number, number>(); // instance -> when it answered /health
    for (let i = 0; i < INSTANCES; i++) up.set(i, Date.now());
    for (;;) {
      const progress = await sendProgress(db.url).catch(() => null);
      if (progress && (progress.status === 'sent' || progress.status === 'held')) break;
      if (Date.now() > deadline) throw new Error(`not finished after 30 minutes: ${JSON.stringify(progress)}`);
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 3_000));
      for (const [i, c] of children) {
        if (c.exitCode !== null || c.signalCode !== null) {
          children.set(i, startInstance(env(3961 + i)));
          up.delete(i);
        } else if (!up.has(i) && (await healthy(3961 + i))) up.set(i, Date.now());
      }
      // Kill, at a random moment while it works, an instance that has been up for a while; spread the kills over
      // the send (about one per 8% of the audience) so that some land mid-batch.
      const working = progress && progress.pending < progress.audience;
      const due = progress && kills < KILLS && progress.pending < progress.audience * (1 - (kills + 1) / (KILLS + 2));
      const victims = [...up.entries()].filter(([, at]) => Date.now() - at > 2_000).map(([i]) => i);
      if (working && due && victims.length > 0) {
        const i = victims[Math.floor(Math.random() * victims.length)]!;
        children.get(i)!.kill('SIGKILL');
        await new Promise((r) => children.get(i)!.once('exit', r));
        children.set(i, startInstance(env(3961 + i)));
        up.delete(i);
        kills++;
        process.stderr.write(`bench:chaos: SIGKILL #${kills} of instance ${i} (${progress.pending} pending)\n`);
        if (!pgRestarted && kills === 4) {
          process.stderr.write('bench:chaos: restarting PostgreSQL\n');
          execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'restart'], { stdio: 'inherit' });
          pgRestarted = true;
        }
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const progress = await sendProgress(db.url);
    const stats = await fake.stats();
    const [rows] = await query<Record<string, number>>(
      db.url,
      `SELECT (SELECT count(*) FROM recipients WHERE status IN ('pending'))::int AS pending_rows,
              (SELECT count(*) FROM recipients WHERE status = 'accepted')::int AS accepted_rows,
              (SELECT count(*) FROM recipients WHERE status = 'held')::int AS held_rows,
              (SELECT count(*) FROM recipients)::int AS rows,
              (SELECT count(*) FROM delivery_batches WHERE status IN ('pending', 'submitting'))::int AS open_batches,
              (SELECT sum(accepted + failed + suppressed + skipped + held) FROM sends WHERE kind = 'issue')::int AS counted,
              (SELECT sum(audience) FROM sends WHERE kind = 'issue')::int AS audience,
              (SELECT sum(accepted) FROM sends WHERE kind = 'issue')::int AS accepted_counter`,
    );
    const accountingClosed =
      rows!.pending_rows === 0 &&
      rows!.open_batches === 0 &&
      rows!.counted === rows!.audience &&
      rows!.rows === rows!.audience &&
      rows!.accepted_counter === rows!.accepted_rows;
    const result = {
      benchmark: 'chaos',
      at: new Date().toISOString(),
      cpus: cpus().length,
      node: process.version,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg(),
      subscribers: SUBSCRIBERS,
      instances: INSTANCES,
      sigkills: kills,
      postgresRestarts: pgRestarted ? 1 : 0,
      seconds,
      sendStatus: progress.status,
      audience: progress.audience,
      accepted: rows!.accepted_rows,
      held: rows!.held_rows,
      providerRequests: stats.requests,
      providerAnswers: stats.byStatus,
      duplicatesDelivered: stats.duplicates,
      recipientsNeverSent: progress.audience - stats.addresses,
      accountingClosed,
    };
    console.table([
      {
        subscribers: SUBSCRIBERS,
        instances: INSTANCES,
        SIGKILLs: kills,
        'PG restarts': result.postgresRestarts,
        seconds: seconds.toFixed(0),
        status: result.sendStatus,
        duplicates: result.duplicatesDelivered,
        'never sent': result.recipientsNeverSent,
        held: result.held,
        'accounting closed': accountingClosed,
      },
    ]);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'chaos.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    // Restarted instances replaced the fleet's first children: stop whichever are running now.
    fleet.children.splice(0, fleet.children.length, ...children.values());
    await fleet.stop('SIGKILL');
    // The server was restarted mid-run: leave it up for everyone else.
    if (pgRestarted) {
      try {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'start'], { stdio: 'ignore' });
      } catch {
        // Already running (the usual case): pg_ctlcluster start refuses a running cluster.
      }
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
