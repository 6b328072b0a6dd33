import { createWriteStream, mkdtempSync, rmSync, statSync, mkdirSync, writeFileSync, createReadStream } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { SubscriberTransfer } from '../src/subscribers/subscriber-transfer.service';
import { startTestApp } from '../test/support/test-app';

/**
 * `npm run bench:import`: `subscribers import` of 10,000 and 100,000 addresses from CSV on embedded PGlite and on
 * the PostgreSQL server: seconds, rows per second, and peak memory above the baseline (JS heap and RSS, sampled
 * every 20 ms). Memory flat in the file's size means the 100k peak is about the 10k peak.
 */
const SERVER = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SIZES = (process.env.IMPORT_SIZES ?? '10000,100000').split(',').map(Number);

function writeCsv(path: string, rows: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('error', reject).on('finish', resolve);
    out.write('email,name,beats\n');
    let i = 0;
    const more = () => {
      while (i < rows) {
        // Every 50th row is bad and every 40th repeats an earlier one, as real lists do.
        const line =
          i % 50 === 49
            ? `not-an-address-${i},Bad,\n`
            : i % 40 === 39
              ? `reader${i - 7}@example.com,Again,\n`
              : `reader${i}@example.com,Reader ${i},ai-agents;open-source\n`;
        i += 1;
        if (!out.write(line)) return void out.once('drain', more);
      }
      out.end();
    };
    more();
  });
}

it('imports 10k and 100k addresses on both databases with flat memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-import-'));
  const figures: Record<string, Record<string, number>> = {};
  try {
    for (const rows of SIZES) await writeCsv(join(dir, `${rows}.csv`), rows);
    for (const database of ['pglite', 'postgres'] as const) {
      for (const rows of SIZES) {
        const saved = process.env.DATABASE_URL;
        if (database === 'postgres') process.env.DATABASE_URL = SERVER;
        else delete process.env.DATABASE_URL;
        const t = await startTestApp({ DEMO: 'false' });
        if (saved === undefined) delete process.env.DATABASE_URL;
        else process.env.DATABASE_URL = saved;
        try {
          const file = join(dir, `${rows}.csv`);
          global.gc?.();
          const base = process.memoryUsage();
          let peakHeap = base.heapUsed;
          let peakRss = base.rss;
          const sampler = setInterval(() => {
            const m = process.memoryUsage();
            peakHeap = Math.max(peakHeap, m.heapUsed);
            peakRss = Math.max(peakRss, m.rss);
          }, 20);
          const started = performance.now();
          const summary = await t.get(SubscriberTransfer).importCsv(createReadStream(file), { consent: 'pending' });
          const seconds = (performance.now() - started) / 1000;
          clearInterval(sampler);
          const [{ n }] = await t.get(DataSource).query(`SELECT count(*)::int AS n FROM subscribers`);
          expect(n).toBe(summary.imported);
          expect(summary.rows).toBe(rows);
          expect(summary.imported + summary.duplicates + summary.invalid).toBe(rows);
          figures[`${database} ${rows}`] = {
            rows,
            file_bytes: statSync(file).size,
            imported: summary.imported,
            duplicates: summary.duplicates,
            invalid: summary.invalid,
            seconds: Number(seconds.toFixed(2)),
            rows_per_second: Math.round(rows / seconds),
            peak_heap_above_baseline_bytes: peakHeap - base.heapUsed,
            peak_rss_above_baseline_bytes: peakRss - base.rss,
          };
        } finally {
          await t.close();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(figures);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'import.json'),
    `${JSON.stringify({ bench: 'import', at: new Date().toISOString(), cpus: cpus().length, node: process.version, figures }, null, 2)}\n`,
  );
}, 3_600_000);
