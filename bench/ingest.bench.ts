import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { listenOnLoopback, type ListeningServer } from '../test/fakes/fake-http';
import { startTestApp } from '../test/support/test-app';
import { FeedParsePool } from '../src/sources/parsing/feed-parse-pool';
import { SourcesService } from '../src/sources/sources.service';
import { bigFeed, hostileFiles, prepareCorpus } from './ingest-support';

/**
 * `npm run bench:ingest`: the public parser test-suite corpus and crafted hostile files through the parser;
 * records/s through fetch (local server) → parse → dedupe → upsert on PGlite and on PostgreSQL, next to the
 * parse-only rate of the same documents; p99 page latency while a 20 MB feed is ingested.
 */
const results: Record<string, unknown> = { cpus: cpus().length, node: process.version, startedAt: new Date().toISOString(), loadAverageAtStart: loadavg() };
const work = mkdtempSync(join(tmpdir(), 'broadsheet-bench-ingest-'));
const served: Buffer[] = [];
const fetchedAt = new Date();
const pool = new FeedParsePool({ threads: 1, memoryMb: 512, timeoutMs: 20_000 });
const table = (rows: Array<Record<string, unknown>>) => console.log(rows.map((r) => Object.values(r).map(String).join(' | ')).join('\n'));

afterAll(async () => {
  await pool.close();
  rmSync(work, { recursive: true, force: true });
  results.loadAverageAtEnd = loadavg();
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'ingest.json'), `${JSON.stringify(results, null, 2)}\n`);
});

it('corpus: public feed-parser test suites', async () => {
  const rssAtStart = process.memoryUsage().rss;
  let peakRss = rssAtStart;
  const { files, sources } = prepareCorpus(work);
  const reasons = new Map<string, number>();
  let parsed = 0;
  let items = 0;
  let crashes = 0;
  let hangs = 0;
  const t0 = performance.now();
  for (const file of files) {
    const bytes = readFileSync(file);
    try {
      const feed = await pool.parse(bytes, { fetchedAt, maxItems: 500 });
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      parsed++;
      items += feed.items.length;
      if (feed.items.length > 0) served.push(bytes);
    } catch (error) {
      const message = (error as Error).message;
      if (/took longer than/.test(message)) hangs++;
      else if (/the parser stopped/.test(message)) crashes++;
      const bucket = message
        .replace(/"[^"]*"/g, '"…"')
        .replace(/\d+/g, 'N')
        .slice(0, 90);
      reasons.set(bucket, (reasons.get(bucket) ?? 0) + 1);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const rejected = files.length - parsed;
  results.corpus = {
    repositories: sources,
    files: files.length,
    parsed,
    rejected,
    crashes,
    hangs,
    items,
    seconds: Number(seconds.toFixed(2)),
    rssAtStartBytes: rssAtStart,
    peakRssBytes: peakRss,
    processMaxRssBytes: process.resourceUsage().maxRSS * 1024,
    rejectedReasons: Object.fromEntries([...reasons.entries()].sort((a, b) => b[1] - a[1])),
  };
  console.log(
    `corpus: ${files.length} files, ${parsed} parsed, ${rejected} rejected with a reason, ${crashes} crashes, ${hangs} hangs, ${items} items, ${seconds.toFixed(1)} s`,
  );
  table(
    [...reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([reason, n]) => ({ n, reason })),
  );
  expect(crashes + hangs).toBe(0);
});

it('hostile files', async () => {
  const rows: Array<Record<string, unknown>> = [];
  for (const [name, bytes] of hostileFiles()) {
    const t0 = performance.now();
    let outcome: string;
    try {
      const feed = await pool.parse(bytes, { fetchedAt, maxItems: 500 });
      const sample = feed.items[0];
      outcome = `${feed.items.length} items, ${feed.rejectedCount} rejected${feed.overCap ? `, ${feed.overCap} over the per-poll cap` : ''}${sample ? `; first: ${JSON.stringify({ title: sample.title.slice(0, 40), url: sample.url, dated: sample.dated, text: sample.text.slice(0, 30) })}` : ''}${feed.rejected[0] ? `; rejected: ${feed.rejected[0].reason}` : ''}`;
    } catch (error) {
      outcome = `refused: ${(error as Error).message}`;
    }
    rows.push({ file: name, bytes: bytes.length, seconds: Number(((performance.now() - t0) / 1000).toFixed(2)), outcome });
  }
  results.hostileFiles = rows;
  table(rows);
  expect(rows.length).toBeGreaterThan(15);
});

async function serve(docs: Buffer[], extra: Buffer | null): Promise<ListeningServer> {
  return listenOnLoopback(async (req, res) => {
    const m = /^\/f\/(\d+)(\?warm-up)?$/.exec(req.url ?? '');
    const body = req.url === '/big.xml' ? extra : m ? docs[Number(m[1])] : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
  });
}

it('ingest rate on both databases, next to the parse-only rate', async () => {
  const demo = JSON.parse(readFileSync(join(__dirname, '..', 'demo', 'manifest.json'), 'utf8')) as { sources: Array<{ path: string }> };
  const docs = [...demo.sources.map((s) => readFileSync(join(__dirname, '..', 'demo', s.path))), ...served].slice(0, 400);
  let parseItems = 0;
  await pool.parse(docs[0], { fetchedAt, maxItems: 500 }); // warm-up, not timed: the worker starts
  const t0 = performance.now();
  for (const doc of docs) parseItems += (await pool.parse(doc, { fetchedAt, maxItems: 500 })).items.length;
  const parseSeconds = (performance.now() - t0) / 1000;
  const parseRate = parseItems / parseSeconds;
  const server = await serve(docs, null);
  const rows: Array<Record<string, unknown>> = [
    {
      step: 'parse only (worker thread)',
      documents: docs.length,
      records: parseItems,
      seconds: Number(parseSeconds.toFixed(2)),
      recordsPerSecond: Math.round(parseRate),
    },
  ];
  const databases: Array<[string, string | undefined]> = [
    ['PGlite (embedded)', undefined],
    ['PostgreSQL server', process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'],
  ];
  const saved = process.env.DATABASE_URL;
  try {
    for (const [label, url] of databases) {
      if (url) process.env.DATABASE_URL = url;
      else delete process.env.DATABASE_URL;
      const t = await startTestApp({ FETCH_ALLOWLIST: '127.0.0.1', DEMO: 'false', SOURCES_POLL_CONCURRENCY: '4' });
      try {
        const service = t.get(SourcesService);
        // Warm-up, not timed: the app's parse worker starts (and loads its code) on its first document.
        const warm = await service.add({ kind: 'rss', target: `${server.url}/f/0?warm-up` });
        await service.pollAll();
        await service.remove(warm.id);
        for (let i = 0; i < docs.length; i++) await service.add({ kind: 'rss', target: `${server.url}/f/${i}` });
        const t1 = performance.now();
        const polls = await service.pollAll();
        const seconds = (performance.now() - t1) / 1000;
        const processed = polls.reduce((n, p) => n + p.new + p.updated + p.duplicate, 0);
        const stored = polls.reduce((n, p) => n + p.new, 0);
        rows.push({
          step: `fetch → parse → dedupe → upsert, ${label}`,
          documents: polls.length,
          records: processed,
          seconds: Number(seconds.toFixed(2)),
          recordsPerSecond: Math.round(processed / seconds),
          newRecords: stored,
          failedPolls: polls.filter((p) => !p.ok).length,
          shareOfParseRate: Number((processed / seconds / parseRate).toFixed(2)),
        });
      } finally {
        await t.close();
      }
    }
  } finally {
    if (saved) process.env.DATABASE_URL = saved;
    else delete process.env.DATABASE_URL;
    await server.close();
  }
  results.ingest = {
    rows,
    before: {
      parseOnlyRecordsPerSecond: 2865,
      postgresRecordsPerSecond: 682,
      pgliteRecordsPerSecond: 887,
      note: 'as measured in issue 7 on 5,115 items from 330 file sources',
    },
  };
  table(rows);
  expect(rows).toHaveLength(3);
});

const ROUNDS = 3;

it.each([
  ['PGlite (embedded)', undefined],
  ['PostgreSQL server', process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'],
])('page latency while a 20 MB feed is ingested, %s', async (label, url) => {
  // Three different 20 MB feeds, ingested one after the other, while two clients keep requesting the home page.
  const bigs = Array.from({ length: ROUNDS }, (_, i) => bigFeed(i));
  const server = await listenOnLoopback(async (req, res) => {
    const m = /^\/big\/(\d+)\.xml$/.exec(req.url ?? '');
    const body = m ? bigs[Number(m[1])] : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
  });
  const saved = process.env.DATABASE_URL;
  if (url) process.env.DATABASE_URL = url;
  else delete process.env.DATABASE_URL;
  const t = await startTestApp({ FETCH_ALLOWLIST: '127.0.0.1', DEMO: 'false', SOURCES_POLL_CONCURRENCY: '1' });
  if (saved) process.env.DATABASE_URL = saved;
  else delete process.env.DATABASE_URL;
  try {
    const service = t.get(SourcesService);
    for (let i = 0; i < ROUNDS; i++) await service.add({ kind: 'rss', target: `${server.url}/big/${i}.xml` });
    await fetch(`${t.url}/`); // warm the page
    const idle: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await (await fetch(`${t.url}/`)).arrayBuffer();
      idle.push(performance.now() - t0);
    }
    idle.sort((a, b) => a - b);
    // How long the event loop itself was blocked (what parsing on it used to do), apart from machine load.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    let done = false;
    const t1 = performance.now();
    const polling = service.pollAll().finally(() => (done = true));
    const latencies: number[] = [];
    const client = async () => {
      while (!done) {
        const t0 = performance.now();
        const response = await fetch(`${t.url}/`);
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    };
    await Promise.all([client(), client()]);
    const ingestSeconds = (performance.now() - t1) / 1000;
    loop.disable();
    const summaries = await polling;
    latencies.sort((a, b) => a - b);
    const at = (list: number[], p: number) => Number(list[Math.min(list.length - 1, Math.floor(p * list.length))].toFixed(1));
    const figures = {
      feedBytes: bigs[0].length,
      feedItems: 286_764,
      feeds: ROUNDS,
      ingestSeconds: Number(ingestSeconds.toFixed(2)),
      polls: summaries,
      requests: latencies.length,
      concurrentClients: 2,
      p50Seconds: at(latencies, 0.5) / 1000,
      p99Seconds: at(latencies, 0.99) / 1000,
      maxSeconds: at(latencies, 1) / 1000,
      idle: { requests: idle.length, p50Seconds: at(idle, 0.5) / 1000, p99Seconds: at(idle, 0.99) / 1000 },
      eventLoopDelayMaxSeconds: loop.max / 1e9,
      eventLoopDelayP99Seconds: loop.percentile(99) / 1e9,
      rssBeforeBytes: rssBefore,
      peakRssDuringIngestBytes: peakRss,
      loadAverage: loadavg(),
    };
    results[`latency ${label}`] = figures;
    console.log(
      `${label}: page / idle p50 ${at(idle, 0.5)} ms, p99 ${at(idle, 0.99)} ms; during ${ROUNDS} ingests of ${bigs[0].length}-byte feeds (${ingestSeconds.toFixed(1)} s): ${latencies.length} requests, p50 ${at(latencies, 0.5)} ms, p99 ${at(latencies, 0.99)} ms, max ${at(latencies, 1)} ms; event loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms; peak RSS ${(peakRss / 1e6).toFixed(0)} MB; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; polls: new ${summaries.map((p) => p.new).join('/')}`,
    );
    expect(summaries.every((p) => p.ok)).toBe(true);
  } finally {
    await t.close();
    await server.close();
  }
});
