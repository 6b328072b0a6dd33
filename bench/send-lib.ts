// Shared by the send and chaos benchmarks: a database on the server, the fake Resend in its own process, and
// Broadsheet instances as child processes (the built `broadsheet serve`).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

export const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const NEVER = '0 0 1 1 *';

export function serverUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `broadsheet_bench_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: serverUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface FakeChild {
  url: string;
  apiKey: string;
  stats(): Promise<{
    emails: number;
    addresses: number;
    duplicates: number;
    requests: number;
    byStatus: Record<string, number>;
    maxInAnyWindow: number;
    firstArrival: number;
    lastArrival: number;
    addressesList?: string[];
  }>;
  close(): void;
}

export async function startFakeChild(options: Record<string, unknown>, env: Record<string, string> = {}): Promise<FakeChild> {
  const child = fork(join(ROOT, 'bench', 'fake-resend-child.ts'), [], {
    execArgv: ['-r', join(ROOT, 'bench', 'ts-hook.cjs')],
    env: { ...process.env, FAKE_RESEND_OPTIONS: JSON.stringify(options), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; apiKey: string }>((ok, fail) => {
    child.once('message', (m) => ok(m as { url: string; apiKey: string }));
    child.once('exit', (code) => fail(new Error(`fake Resend exited with ${code}`)));
  });
  let next = 0;
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    stats: () =>
      new Promise((ok) => {
        const id = ++next;
        const listener = (m: { id?: number }) => {
          if (m.id === id) {
            child.off('message', listener);
            ok(m as never);
          }
        };
        child.on('message', listener);
        child.send({ cmd: 'stats', id });
      }),
    close: () => child.kill('SIGKILL'),
  };
}

/**
 * How `npm start` runs the server, read from package.json's `start` script: the environment variables set before
 * `node` (`MALLOC_MMAP_THRESHOLD_`) and node's flags (`--max-semi-space-size=2`). Instances and the raw-rate
 * process run the same way, so the figures are the product's.
 */
export function startScriptRuntime(): { env: Record<string, string>; nodeFlags: string } {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  const words = start.split(/\s+/).filter(Boolean);
  const node = words.indexOf('node');
  if (node === -1) throw new Error(`package.json's start script does not run node: ${start}`);
  const env = Object.fromEntries(words.slice(0, node).map((w) => w.split('=', 2) as [string, string]));
  const flags = words.slice(node + 1).filter((w, i, all) => w.startsWith('--') && all.slice(0, i).every((x) => x.startsWith('--')));
  return { env, nodeFlags: flags.join(' ') };
}

/** The instances' NODE_OPTIONS: BENCH_NODE_OPTIONS, or node's flags in `npm start`. */
export function instanceNodeOptions(): string {
  return process.env.BENCH_NODE_OPTIONS ?? startScriptRuntime().nodeFlags;
}

/** The environment every measured process gets besides its own: `npm start`'s variables and NODE_OPTIONS. */
export function runtimeEnv(): Record<string, string> {
  return { ...startScriptRuntime().env, NODE_OPTIONS: instanceNodeOptions() };
}

export function instanceEnv(input: {
  databaseUrl: string;
  fake: FakeChild;
  rate: number;
  port: number;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    // Run as `npm start` runs it (reported with the figures).
    ...runtimeEnv(),
    DATABASE_URL: input.databaseUrl,
    DATABASE_POOL_SIZE: '6',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'broadsheet-bench-')),
    DEMO: 'true',
    SOURCES_IMPORT_DIR: join(ROOT, 'demo'),
    PORT: String(input.port),
    HOST: '127.0.0.1',
    PUBLIC_URL: 'https://news.example.com',
    SECRET_KEY: 'bench-secret-key-bench-secret-key-0123456789',
    RESEND_API_KEY: input.fake.apiKey,
    RESEND_BASE_URL: input.fake.url,
    DELIVERY_RATE_PER_SECOND: String(input.rate),
    DELIVERY_SEND_ON_APPROVE: 'false',
    SCHEDULER_ENABLED: 'true',
    CRON_DELIVER: '* * * * * *',
    CRON_POLL_SOURCES: NEVER,
    CRON_BUILD_NARRATIVES: NEVER,
    CRON_ASSEMBLE_ISSUE: NEVER,
    ...input.extra,
  };
}

let instances = 0;
/** `broadsheet serve` as a child; its output goes to $BENCH_LOG_DIR/instance-N.log when that is set. */
export function startInstance(env: Record<string, string>): ChildProcess {
  const dir = process.env.BENCH_LOG_DIR;
  const out = dir ? openSync(join(dir, `instance-${++instances}.log`), 'a') : 'ignore';
  // BENCH_NODE_ARGS: flags NODE_OPTIONS refuses (`--cpu-prof --cpu-prof-dir=…` to profile an instance).
  const args = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : [];
  return spawn(process.execPath, [...args, MAIN, 'serve'], { cwd: ROOT, env, stdio: ['ignore', out, out] });
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

/** Resident and peak resident memory of a process, from /proc (bytes). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...env, SCHEDULER_ENABLED: 'false' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => ok({ code: code ?? 1, stdout, stderr }));
  });
}

/** Boots one instance on an empty database (the demo week: issue 1 approved, nothing sent), then stops it. */
export async function seedDemo(env: Record<string, string>): Promise<void> {
  const seeder = startInstance(env);
  await waitFor('the seeding instance', () => healthy(Number(env.PORT)), 180_000, 500);
  seeder.kill('SIGTERM');
  await new Promise((r) => seeder.once('exit', r));
}

/** `count` active subscribers added in SQL (the fastest way to a big audience); the demo's own five left out. */
export async function addSubscribers(databaseUrl: string, count: number): Promise<void> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  await c.query(`UPDATE subscribers SET status = 'unsubscribed'`);
  for (let from = 0; from < count; from += 200_000) {
    await c.query(
      `INSERT INTO subscribers (email, status, consent_at, consent_source, confirmed_at)
       SELECT 'reader' || n || '@example.net', 'active', now(), 'bench', now() FROM generate_series($1::int, $2::int) n`,
      [from, Math.min(count, from + 200_000) - 1],
    );
  }
  await c.query('ANALYZE');
  await c.end();
}

export async function query<T = Record<string, unknown>>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** The figures of `issues status 1`, straight from the database. */
export async function sendProgress(databaseUrl: string): Promise<{ status: string | null; audience: number; final: number; pending: number; held: number }> {
  const [row] = await query<{ status: string | null; audience: number; final: number; held: number }>(
    databaseUrl,
    `SELECT (SELECT status FROM sends WHERE kind = 'issue' ORDER BY created_at DESC LIMIT 1) AS status,
            coalesce(sum(audience), 0)::int AS audience, coalesce(sum(accepted + failed + suppressed + skipped), 0)::int AS final, coalesce(sum(held), 0)::int AS held
     FROM sends WHERE kind = 'issue'`,
  );
  return { ...row, pending: row.audience - row.final - row.held };
}

/**
 * What both benchmarks start from: a fresh database on the server with the demo week and `subscribers` active
 * readers, the fake Resend in its own process, and `instances` Broadsheet instances up (ports `basePort + 1…`).
 * `env(port)` gives an instance's environment (for restarts and the CLI). `queueSend()` is `issues send 1`.
 */
export async function startFleet(input: {
  subscribers: number;
  instances: number;
  basePort: number;
  fakeOptions: Record<string, unknown>;
  instanceEnv: (base: { databaseUrl: string; fake: FakeChild; port: number }) => Record<string, string>;
}): Promise<{
  db: { url: string; drop: () => Promise<void> };
  fake: FakeChild;
  env: (port: number) => Record<string, string>;
  children: ChildProcess[];
  queueSend: () => Promise<void>;
  stop: (signal: NodeJS.Signals) => Promise<void>;
}> {
  const db = await createDatabase();
  const fake = await startFakeChild(input.fakeOptions);
  const env = (port: number) => input.instanceEnv({ databaseUrl: db.url, fake, port });
  const children: ChildProcess[] = [];
  const stop = async (signal: NodeJS.Signals) => {
    for (const c of children) c.kill(signal);
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
    fake.close();
    await db.drop().catch(() => undefined);
  };
  try {
    await seedDemo(env(input.basePort));
    await addSubscribers(db.url, input.subscribers);
    for (let i = 0; i < input.instances; i++) children.push(startInstance(env(input.basePort + 1 + i)));
    for (let i = 0; i < input.instances; i++) await waitFor(`instance ${i}`, () => healthy(input.basePort + 1 + i), 120_000, 300);
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return {
    db,
    fake,
    env,
    children,
    stop,
    queueSend: async () => {
      const queued = await cli(env(input.basePort + 49), ['issues', 'send', '1', '--json']);
      if (queued.code !== 0) throw new Error(`issues send failed: ${queued.stderr}`);
    },
  };
}
