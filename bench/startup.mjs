// `npm run bench:startup`: how long `npm start` takes to answer GET /health with a current build.
// First start: fresh DATA_DIR (initdb, migrations, the demo week and one pipeline run). Second start: the same
// DATA_DIR again (no build, no demo). Writes bench/results/startup.json (seconds).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort, report, root, start, waitForHealth } from './lib/server.mjs';

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-bench-startup-'));
const database = process.env.DATABASE_URL ? 'server' : 'embedded';
const figures = {};
try {
  for (const run of ['first', 'second', 'third']) {
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, SCHEDULER_ENABLED: 'false', LOG_LEVEL: 'warn' };
    const t0 = performance.now();
    const proc = start('npm', ['start', '--silent'], env);
    await waitForHealth(`http://127.0.0.1:${port}/health`, proc);
    figures[`${run} start to /health s`] = Number(((performance.now() - t0) / 1000).toFixed(2));
    if (run !== 'first' && /building \(/.test(proc.output())) throw new Error(`the ${run} start rebuilt:\n${proc.output()}`);
    await proc.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
report('startup', { database, ...figures });
