// npm run bench:send — an issue to 100,000 subscribers through the fake Resend on the PostgreSQL server, start to
// every recipient final, with the raw rate of the same batches posted to the same fake without a database in the
// same run; then 1,000,000 once (capped by BENCH_SEND_MAX); then a 10 requests/s limit with three instances,
// judged at the fake's side. Writes bench/results/send.json (runs measured earlier and not repeated are kept).
// BENCH_SEND_RUNS=unthrottled,max,limited picks runs; BENCH_SEND_LIMITED sets the limited run's audience (30000);
// The instances and the raw-rate process run as `npm start` runs the server (its variables and node flags, read
// from package.json); BENCH_NODE_OPTIONS replaces those flags in both; BENCH_NODE_ARGS adds node flags to the
// instances only (`--cpu-prof --cpu-prof-dir=…`); BENCH_LOG_DIR keeps each instance's log.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import {
  instanceEnv,
  instanceNodeOptions,
  memoryOf,
  query,
  ROOT,
  runtimeEnv,
  sendProgress,
  startFleet,
  startScriptRuntime,
  waitFor,
  type FakeChild,
} from './send-lib';

type RunKey = 'unthrottled' | 'max' | 'limited';

interface Run {
  /** Which of the three runs this is: a later invocation replaces the file's run of the same kind. */
  run: RunKey;
  label: string;
  recipients: number;
  instances: number;
  limitRequestsPerSecond: number | null;
  seconds: number;
  emailsPerSecond: number;
  rawEmailsPerSecond: number | null;
  /** Size of one batch request's JSON body (100 personalised digests). */
  requestBodyBytes: number | null;
  ratioToRaw: number | null;
  achievedRequestsPerSecond: number | null;
  rateRatio: number | null;
  maxRequestsInAnyWindow: number;
  rateLimited429: number;
  peakRssBytes: number;
  idleRssBytes: number;
  rssGrowthBytes: number;
  duplicates: number;
  neverSent: number;
  /** The machine's 1, 5 and 15 minute load averages when the run started. */
  loadAverage: number[];
  at: string;
  /** The commit the run measured (`git describe --always --dirty`). */
  commit: string;
  /** DELIVERY_CONCURRENCY and the instances' NODE_OPTIONS in this run. */
  concurrency: number;
  nodeOptions: string;
  /** Other variables of `npm start` the instances and the raw-rate process ran with (MALLOC_MMAP_THRESHOLD_). */
  runtimeEnv: string;
  /**
   * What the first instance's memory was made of, from its /metrics (prom-client's default metrics) sampled every
   * 2 s during the send: the highest of each figure, and all of them at the sample with the highest RSS.
   */
  memory: { peak: MemorySample; atPeakRss: MemorySample } | null;
}

interface MemorySample {
  rssBytes: number;
  heapTotalBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** V8's young generation: new space and new large-object space, used bytes. */
  youngUsedBytes: number;
  /** Old space and (old) large-object space, used bytes. */
  oldUsedBytes: number;
}

/** One sample of an instance's memory from its /metrics, or null when it did not answer. */
async function sampleMemory(port: number, pid: number): Promise<MemorySample | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (name: string, space?: string) => {
      const line = text.split('\n').find((l) => l.startsWith(space ? `${name}{space="${space}"}` : `${name} `));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };
    const used = (space: string) => value('broadsheet_nodejs_heap_space_size_used_bytes', space);
    return {
      rssBytes: memoryOf(pid).rss,
      heapTotalBytes: value('broadsheet_nodejs_heap_size_total_bytes'),
      heapUsedBytes: value('broadsheet_nodejs_heap_size_used_bytes'),
      externalBytes: value('broadsheet_nodejs_external_memory_bytes'),
      youngUsedBytes: used('new') + used('new_large_object'),
      oldUsedBytes: used('old') + used('large_object'),
    };
  } catch {
    return null;
  }
}

const CONCURRENCY = Number(process.env.BENCH_SEND_CONCURRENCY ?? 4);
const NODE_OPTIONS = instanceNodeOptions();

const COMMIT = (() => {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();

async function runSend(input: { key: RunKey; label: string; recipients: number; instances: number; rate: number | null; raw: boolean }): Promise<Run> {
  const loadAverage = loadavg();
  const at = new Date().toISOString();
  const fleet = await startFleet({
    subscribers: input.recipients,
    instances: input.instances,
    basePort: 3950,
    fakeOptions: input.rate ? { ratePerSecond: input.rate } : {},
    instanceEnv: (base) => instanceEnv({ ...base, rate: input.rate ?? 0, extra: { DELIVERY_CONCURRENCY: String(CONCURRENCY) } }),
  });
  const { db, fake, children } = fleet;
  try {
    // Idle: booted, scheduler ticking, nothing to send.
    await new Promise((r) => setTimeout(r, 3_000));
    const idle = children.map((c) => memoryOf(c.pid!).rss);

    const t0 = performance.now();
    await fleet.queueSend();
    let peak = children.map((c) => memoryOf(c.pid!).hwm);
    let memory: Run['memory'] = null;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await sampleMemory(3951, children[0]!.pid!);
        if (s) {
          const keys = Object.keys(s) as Array<keyof MemorySample>;
          memory = memory
            ? {
                peak: Object.fromEntries(keys.map((k) => [k, Math.max(memory!.peak[k], s[k])])) as unknown as MemorySample,
                atPeakRss: s.rssBytes > memory.atPeakRss.rssBytes ? s : memory.atPeakRss,
              }
            : { peak: s, atPeakRss: s };
        }
        await new Promise((r) => setTimeout(r, 2_000));
      }
    })();
    await waitFor(
      'every recipient final',
      async () => {
        peak = children.map((c) => memoryOf(c.pid!).hwm);
        const p = await sendProgress(db.url);
        return p.status === 'sent' || p.status === 'held';
      },
      3 * 3_600_000,
      250,
    );
    sampling = false;
    await sampler;
    // From the send being queued to the last recipient made final, by the database's own clock (the CLI's boot
    // before it queues is not delivery time).
    const [span] = await query<{ seconds: number }>(
      db.url,
      `SELECT extract(epoch FROM (SELECT max(updated_at) FROM recipients) - (SELECT min(created_at) FROM sends WHERE kind = 'issue'))::float AS seconds`,
    );
    const seconds = Number(span!.seconds) || (performance.now() - t0) / 1000;
    const progress = await sendProgress(db.url);
    const stats = await fake.stats();
    const audience = progress.audience;

    const measured = input.raw ? await rawRate(db.url, fake, Math.ceil(audience / 100)) : null;
    const raw = measured?.emailsPerSecond ?? null;
    const spanSeconds = (stats.lastArrival - stats.firstArrival) / 1000;
    const okRequests = stats.byStatus['200'] ?? 0;
    const achieved = input.rate && spanSeconds > 0 ? (okRequests - 1) / spanSeconds : null;
    return {
      run: input.key,
      label: input.label,
      recipients: audience,
      instances: input.instances,
      limitRequestsPerSecond: input.rate,
      seconds,
      emailsPerSecond: audience / seconds,
      rawEmailsPerSecond: raw,
      requestBodyBytes: measured?.batchBytes ?? null,
      ratioToRaw: raw ? audience / seconds / raw : null,
      achievedRequestsPerSecond: achieved,
      rateRatio: achieved && input.rate ? achieved / input.rate : null,
      maxRequestsInAnyWindow: stats.maxInAnyWindow,
      rateLimited429: stats.byStatus['429'] ?? 0,
      peakRssBytes: Math.max(...peak),
      idleRssBytes: Math.max(...idle),
      rssGrowthBytes: Math.max(...peak.map((p, i) => p - idle[i]!)),
      duplicates: stats.duplicates,
      neverSent: audience - stats.addresses,
      loadAverage,
      at,
      commit: COMMIT,
      concurrency: CONCURRENCY,
      nodeOptions: children.length ? NODE_OPTIONS : '',
      runtimeEnv: Object.entries(startScriptRuntime().env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      memory,
    };
  } finally {
    await fleet.stop('SIGTERM');
  }
}

/**
 * The limit of this machine: the same number of batches of the same send's content, built by the same code
 * (`batchEmails`, one stored link per recipient) and posted by the same adapter and Resend SDK with the same
 * concurrency to the same fake, with no database at all, in a process started as an instance is
 * (`bench/send-raw-child.ts`: the same NODE_OPTIONS, environment and built code).
 */
async function rawRate(databaseUrl: string, fake: FakeChild, batches: number): Promise<{ emailsPerSecond: number; batchBytes: number }> {
  const [send] = await query<{ id: string; issue_id: string; subject: string; html: string; text: string; from_address: string }>(
    databaseUrl,
    `SELECT id, issue_id, subject, html, text, from_address FROM sends WHERE kind = 'issue' LIMIT 1`,
  );
  const [sample] = await query<{ unsubscribe_url: string }>(databaseUrl, `SELECT unsubscribe_url FROM recipients WHERE unsubscribe_url IS NOT NULL LIMIT 1`);
  const token = /token=([^&]+)/.exec(sample!.unsubscribe_url)?.[1] ?? 'x'.repeat(92);
  const child = fork(join(ROOT, 'bench', 'send-raw-child.ts'), [], {
    execArgv: ['-r', join(ROOT, 'bench', 'ts-hook.cjs')],
    env: { PATH: process.env.PATH ?? '', ...runtimeEnv() },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const figures = new Promise<{ emailsPerSecond: number; batchBytes: number }>((ok, fail) => {
    child.once('message', (m) => ok(m as { emailsPerSecond: number; batchBytes: number }));
    child.once('exit', (code) => fail(new Error(`the raw-rate process exited with ${code}`)));
  });
  child.send({
    content: { id: send!.id, issueId: send!.issue_id, subject: send!.subject, html: send!.html, text: send!.text, fromAddress: send!.from_address },
    token,
    batches,
    concurrency: CONCURRENCY,
    fake: { url: fake.url, apiKey: fake.apiKey },
  });
  return figures;
}

async function main(): Promise<void> {
  const max = Number(process.env.BENCH_SEND_MAX ?? 1_000_000);
  const runs: Run[] = [];
  const unthrottled = Math.min(100_000, max);
  const plan: Array<Parameters<typeof runSend>[0]> = [
    {
      key: 'unthrottled',
      label: `${unthrottled % 1000 === 0 ? `${unthrottled / 1000}k` : unthrottled} unthrottled`,
      recipients: unthrottled,
      instances: 1,
      rate: null,
      raw: true,
    },
    ...(max > 100_000 ? [{ key: 'max' as const, label: `${max} once`, recipients: max, instances: 1, rate: null, raw: false }] : []),
    {
      key: 'limited',
      label: '10 req/s x 100, three instances',
      recipients: Math.min(Number(process.env.BENCH_SEND_LIMITED ?? 30_000), max),
      instances: 3,
      rate: 10,
      raw: false,
    },
  ];
  // BENCH_SEND_RUNS=unthrottled,max,limited picks runs (all by default).
  const only = process.env.BENCH_SEND_RUNS?.split(',');
  for (const p of plan.filter((p) => !only || only.includes(p.key))) {
    process.stderr.write(`bench:send: ${p.label} (${p.recipients} recipients)…\n`);
    const run = await runSend(p);
    runs.push(run);
    process.stderr.write(`${JSON.stringify(run)}\n`);
  }
  const table = runs.map((r) => ({
    run: r.label,
    recipients: r.recipients,
    instances: r.instances,
    limit: r.limitRequestsPerSecond ?? '—',
    seconds: r.seconds.toFixed(1),
    'emails/s': r.emailsPerSecond.toFixed(0),
    'raw emails/s': r.rawEmailsPerSecond?.toFixed(0) ?? '—',
    'ratio to raw': r.ratioToRaw?.toFixed(2) ?? '—',
    'rate/limit': r.rateRatio?.toFixed(3) ?? '—',
    'max in 1 s': r.maxRequestsInAnyWindow,
    '429s': r.rateLimited429,
    'peak RSS MB': (r.peakRssBytes / 2 ** 20).toFixed(0),
    'growth MB': (r.rssGrowthBytes / 2 ** 20).toFixed(0),
    duplicates: r.duplicates,
    'never sent': r.neverSent,
  }));
  console.table(table);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  // The file holds one run of each kind: one measured by an earlier invocation (BENCH_SEND_RUNS picks some) is
  // kept unless this one measured that kind again (runs from before `run` was recorded are known by their label).
  const file = join(ROOT, 'bench', 'results', 'send.json');
  const earlier = existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { runs?: Array<Partial<Run>> }).runs ?? []) : [];
  const kindOf = (r: Partial<Run>): RunKey | undefined =>
    r.run ?? (/unthrottled/.test(r.label ?? '') ? 'unthrottled' : / once$/.test(r.label ?? '') ? 'max' : /req\/s/.test(r.label ?? '') ? 'limited' : undefined);
  const order: RunKey[] = ['unthrottled', 'max', 'limited'];
  const merged = order
    .map((k) => runs.find((r) => r.run === k) ?? earlier.find((e) => e.loadAverage && kindOf(e) === k))
    .filter((r): r is Run => r !== undefined)
    .map((r) => ({ ...r, run: kindOf(r)! }));
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark: 'send', at: new Date().toISOString(), cpus: cpus().length, node: process.version, concurrency: CONCURRENCY, runs: merged }, null, 2)}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
