import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { runHostileUrls } from '../test/support/hostile-urls';

/**
 * `npm run bench -- bench/ingest-hostile-urls`: the hostile-URL table (test/support/hostile-urls.ts) through the
 * real `broadsheet sources test` command, with a local DNS server playing a hostile one; writes what each URL got
 * to bench/results/ingest-hostile-urls.json. test/e2e/sources-hostile-urls.e2e-spec.ts asserts the same run.
 */
it('hostile URLs through broadsheet sources test', async () => {
  const loadAverageAtStart = loadavg();
  const run = await runHostileUrls();
  console.log(run.rows.map((x) => `${x.what} | ${x.url} | exit ${x.exitCode} | ${x.outcome}`).join('\n'));
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'ingest-hostile-urls.json'),
    `${JSON.stringify(
      {
        cpus: cpus().length,
        node: process.version,
        finishedAt: new Date().toISOString(),
        loadAverageAtStart,
        loadAverage: loadavg(),
        command: 'broadsheet sources test --kind rss --target <url> --json',
        tried: run.rows.length,
        fetched: run.rows.filter((r) => r.outcome.startsWith('FETCHED')).length,
        internalRequestsReached: run.secretHits.length,
        urls: run.rows,
      },
      null,
      2,
    )}\n`,
  );
  expect(run.secretHits).toEqual([]);
  expect(run.rows.filter((x) => x.outcome.startsWith('FETCHED'))).toEqual([]);
});
