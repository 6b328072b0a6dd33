// `npm run bench:memory`: the server's memory after the demo, idle. Boots the built server (the `npm start`
// command, with a fresh DATA_DIR: initdb, migrations, the demo week and one pipeline run), waits for /health,
// lets it idle, then samples RSS, V8 heap, external, arrayBuffers and PGlite's WASM memory — before and after
// a forced full GC — and the largest resident mappings from /proc/PID/smaps.
// Embedded PGlite by default; with DATABASE_URL set, a fresh database on that server (created and dropped).
// Writes bench/results/memory.json (bytes). IDLE_SECONDS (default 15) sets the idle time.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, report, root, waitForHealth } from './lib/server.mjs';

const idleSeconds = Number(process.env.IDLE_SECONDS ?? 15);
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

// The same entry `npm start` runs, with the environment it sets (`NAME=value` words before `node`).
const startWords = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start.split(/\s+/);
const startEnv = {};
while (/^[A-Za-z_][A-Za-z0-9_]*=/.test(startWords[0])) {
  const [name, ...value] = startWords.shift().split('=');
  startEnv[name] = value.join('=');
}
if (startWords[0] === 'node') startWords.shift();
const entry = startWords;

let databaseUrl;
let dropDatabase = async () => {};
if (process.env.DATABASE_URL) {
  const name = `broadsheet_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
  dropDatabase = async () => {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  };
}

function smapsTop(pid, n = 8) {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const maps = [];
  let current;
  for (const line of text.split('\n')) {
    const head = line.match(/^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+\S+\s*(.*)$/);
    if (head) {
      current = { name: head[3] || '[anonymous]', size: parseInt(head[2], 16) - parseInt(head[1], 16), rss: 0 };
      maps.push(current);
    } else if (current && line.startsWith('Rss:')) current.rss = Number(line.split(/\s+/)[1]) * 1024;
  }
  const byName = new Map();
  for (const m of maps) {
    const key = m.name.startsWith('/') ? m.name.split('/').slice(-1)[0] : m.name;
    byName.set(key, (byName.get(key) ?? 0) + m.rss);
  }
  const biggest = maps
    .sort((a, b) => b.rss - a.rss)
    .slice(0, n)
    .map((m) => ({ name: m.name, sizeBytes: m.size, rssBytes: m.rss }));
  return { byName: Object.fromEntries([...byName].sort((a, b) => b[1] - a[1]).slice(0, n)), biggest };
}

const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-bench-memory-'));
const port = await freePort();
const env = { ...process.env, ...startEnv, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
if (!databaseUrl) delete env.DATABASE_URL;
const t0 = performance.now();
// BENCH_NODE_FLAGS: extra node/V8 flags for experiments (e.g. "--no-wasm-dynamic-tiering").
const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const child = spawn(process.execPath, [...nodeFlags, '--expose-gc', '-r', join(root, 'bench', 'lib', 'memory-probe.cjs'), ...entry], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
});
let output = '';
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));
const proc = { child, output: () => output };
const ask = async (message) => {
  child.send(message);
  const [reply] = await once(child, 'message');
  return reply.sample;
};

try {
  await waitForHealth(`http://127.0.0.1:${port}/health`, proc);
  const bootSeconds = (performance.now() - t0) / 1000;
  const afterDemo = await ask('sample');
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idle = await ask('sample');
  const afterGc = await ask('gc');
  const smaps = smapsTop(child.pid);
  // Worker threads (the feed-parse pool retires its idle workers after 30 s) each hold a V8 isolate of their own.
  const threads = Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^Threads:\s+(\d+)/m)?.[1]);
  const figures = {
    database: databaseUrl ? 'server' : 'embedded',
    nodeFlags: nodeFlags.join(' '),
    startEnv,
    bootSeconds: Number(bootSeconds.toFixed(2)),
    idleSeconds,
    threads,
    afterDemo,
    idle,
    afterGc,
    smapsRssByMapping: smaps.byName,
    smapsBiggest: smaps.biggest,
  };
  const mb = (b) => (b / 1024 / 1024).toFixed(1);
  console.table(
    Object.fromEntries(
      ['rss', 'rssAnon', 'rssFile', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'wasmMemoryBytes', 'codeSpace'].map((k) => [
        `${k} MB`,
        { 'after demo': mb(afterDemo[k]), [`idle ${idleSeconds}s`]: mb(idle[k]), 'after GC': mb(afterGc[k]) },
      ]),
    ),
  );
  report(process.env.DATABASE_URL ? 'memory-server' : 'memory', figures, { print: false });
} finally {
  child.kill('SIGTERM');
  if (child.exitCode === null) await once(child, 'exit');
  rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase();
}
