import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AnthropicNarrativeWriter } from '../src/kernel/llm/anthropic-narrative-writer.adapter';
import { type NarrativeBrief, type NarrativeDraft, type WriterDocument } from '../src/kernel/llm/narrative-writer.port';
import { billedInputEquivalent, estimateCostUsd, NO_USAGE, addUsage, type TokenUsage } from '../src/kernel/llm/pricing';
import { assessDraft } from '../src/narratives/draft-assessment';
import { decodeFeedBytes } from '../src/sources/parsing/feed-decoding';
import { parseFeedDocument } from '../src/sources/parsing/feed-parser';
import { startFakeAnthropic, type FakeContentBlock } from '../test/fakes/fake-anthropic';

/**
 * `npm run bench:narratives`: a weekly run's worth of narratives (the demo week's feeds, 12 storylines of up to 40
 * records) written by the real Claude writer against the fake Anthropic server, then grounding-checked. The fake
 * answers like a real narrative (headline and dek lines, six paragraphs of about 80 words citing two records each,
 * ~700 output tokens) and applies the real prompt-caching rules with a 1,024-token minimum. Billed tokens of the
 * same run naive (no caching, one request at a time as it comes), with prompt caching, and with caching through
 * Message Batches (half price), the batch processed one request after another or four at a time (a cache entry is
 * readable only once the request writing it has begun answering); narratives per minute at the configured concurrency.
 */
const results: Record<string, unknown> = { cpus: cpus().length, node: process.version, startedAt: new Date().toISOString(), loadAverageAtStart: loadavg() };
const MODEL = 'claude-sonnet-5-5';
const CONCURRENCY = 4; // ANTHROPIC_CONCURRENCY's default

function briefs(): NarrativeBrief[] {
  const dir = join(__dirname, '..', 'demo', 'feeds');
  const docs: WriterDocument[] = [];
  for (const file of readdirSync(dir)) {
    const feed = parseFeedDocument(decodeFeedBytes(readFileSync(join(dir, file))), { fetchedAt: new Date('2026-11-23T00:00:00Z') });
    for (const item of feed.items)
      docs.push({
        platform: file.split('-')[0] === 'hn' ? 'hackernews' : file.split('-')[0],
        author: item.author,
        title: item.title,
        text: item.text,
        url: item.url,
        publishedAt: item.publishedAt,
      });
  }
  docs.sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime());
  return Array.from({ length: 12 }, (_, i) => ({
    beat: { name: 'Demo beat', description: 'The demo week.' },
    topic: `storyline ${i + 1}`,
    documents: docs.filter((_, j) => j % 12 === i).slice(0, 40),
  }));
}

/** A realistic answer: labelled headline and dek, then six paragraphs, each two cited runs of record sentences. */
function realisticAnswer(body: Record<string, unknown>): FakeContentBlock[] {
  const messages = body.messages as Array<{ content: Array<{ type: string; source?: { content: Array<{ text: string }> } }> }>;
  const texts = messages[0].content.find((b) => b.type === 'document')!.source!.content.map((b) => b.text);
  const sentences = (t: string) => (t.replace(/^\[[^\]]*\]\s*/, '').match(/[^.!?]+[.!?]/g) ?? [t]).map((s) => s.trim());
  const plain = texts[0].replace(/^\[[^\]]*\]\s*/, '');
  const blocks: FakeContentBlock[] = [
    { type: 'text', text: `Headline: ${plain.split(/\s+/).slice(0, 9).join(' ')}\nDek: ${sentences(texts[0])[0]}\n\n`, citations: null },
  ];
  for (let p = 0; p < 6; p++) {
    if (p > 0) blocks.push({ type: 'text', text: '\n\n', citations: null });
    for (const i of [(2 * p) % texts.length, (2 * p + 1) % texts.length]) {
      let run = '';
      for (const s of sentences(texts[i])) if ((run + s).length < 240) run += `${run ? ' ' : ''}${s}`;
      blocks.push({
        type: 'text',
        text: `${run || sentences(texts[i])[0]} `,
        citations: [
          {
            type: 'content_block_location',
            cited_text: texts[i],
            document_index: 0,
            document_title: null,
            start_block_index: i,
            end_block_index: i + 1,
            file_id: null,
          },
        ],
      });
    }
  }
  return blocks;
}

type Mode = 'naive' | 'cached' | 'batch';

/**
 * A batch's requests are processed in Anthropic's own time (most batches within an hour, all within 24 h; the order
 * and spacing are not promised). The fake processes them in order, `minutesPerRequest` simulated minutes apart:
 * 0 is the best case for a 5-minute cache (all within one lifetime), 6 spreads the 12 requests over 66 minutes (about
 * the hour most batches take), where a 5-minute entry has always expired before the next request.
 */
async function run(options: { mode: Mode; concurrency: number; ttl?: '5m' | '1h'; minutesPerRequest?: number; parallelism?: number }) {
  const fake = await startFakeAnthropic({
    minCacheableTokens: 1024,
    batchPollsBeforeEnd: 0,
    batchMinutesPerRequest: options.minutesPerRequest ?? 0,
    batchParallelism: options.parallelism ?? 1,
  });
  fake.respondWith(realisticAnswer, Infinity);
  const writer = new AnthropicNarrativeWriter({
    apiKey: fake.apiKey,
    baseUrl: fake.url,
    model: MODEL,
    maxRetries: 2,
    promptCaching: options.mode !== 'naive',
    batchCacheTtl: options.ttl ?? '1h',
  });
  const work = briefs();
  const drafts: Array<{ brief: NarrativeBrief; draft: NarrativeDraft }> = [];
  const t0 = performance.now();
  if (options.mode === 'batch') {
    const ids = work.map((_, i) => `storyline_${i}`);
    const batchId = await writer.batches.submit(work.map((brief, i) => ({ id: ids[i], brief })));
    while (!(await writer.batches.state(batchId)).ended);
    for (const outcome of await writer.batches.results(batchId, new Map(work.map((brief, i) => [ids[i], brief])))) {
      if (!('draft' in outcome)) throw new Error(outcome.error);
      drafts.push({ brief: work[ids.indexOf(outcome.id)], draft: outcome.draft });
    }
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < work.length) {
          const brief = work[next++];
          drafts.push({ brief, draft: await writer.write(brief) });
        }
      }),
    );
  }
  let usage: TokenUsage = NO_USAGE;
  let published = 0;
  for (const { brief, draft } of drafts) {
    if (assessDraft({ draft, records: brief.documents.map((d, j) => ({ ...d, id: String(j), outlet: null })) }).publishable) published++;
    usage = addUsage(usage, draft.usage);
  }
  const seconds = (performance.now() - t0) / 1000;
  await fake.close();
  const batch = options.mode === 'batch';
  return {
    mode: options.mode,
    concurrency: batch ? null : options.concurrency,
    ...(batch ? { cacheTtl: options.ttl ?? '1h', minutesPerRequest: options.minutesPerRequest ?? 0, parallelism: options.parallelism ?? 1 } : {}),
    narratives: drafts.length,
    seconds,
    perMinute: (drafts.length / seconds) * 60,
    published,
    usage,
    systemPromptCharacters: (writer.request(work[0]).system as Array<{ text: string }>)[0].text.length,
    billedInputEquivalent: billedInputEquivalent(usage, { batch }),
    costUsd: estimateCostUsd(MODEL, usage, { batch }),
  };
}

it('billed tokens per weekly run: naive, with prompt caching, with caching and Message Batches; narratives per minute', async () => {
  await run({ mode: 'cached', concurrency: 1 }); // warm-up: compromise's lexicon and the JIT
  const naive = await run({ mode: 'naive', concurrency: CONCURRENCY });
  const cached = await run({ mode: 'cached', concurrency: CONCURRENCY });
  // The configured batch (1-hour cache), and the 5-minute cache for comparison, each with the batch processed at
  // once and spread over about an hour.
  const batch = await run({ mode: 'batch', concurrency: CONCURRENCY, ttl: '1h', minutesPerRequest: 6 });
  const batch1hAtOnce = await run({ mode: 'batch', concurrency: CONCURRENCY, ttl: '1h', minutesPerRequest: 0 });
  const batch5mAtOnce = await run({ mode: 'batch', concurrency: CONCURRENCY, ttl: '5m', minutesPerRequest: 0 });
  const batch5mSpread = await run({ mode: 'batch', concurrency: CONCURRENCY, ttl: '5m', minutesPerRequest: 6 });
  // Anthropic processes a batch's requests concurrently: four at a time, each group misses what none of it found.
  const batch1hParallel = await run({ mode: 'batch', concurrency: CONCURRENCY, ttl: '1h', minutesPerRequest: 6, parallelism: 4 });
  const serial = await run({ mode: 'cached', concurrency: 1 });
  const ratio = (r: typeof naive) => r.billedInputEquivalent / naive.billedInputEquivalent;
  // Where the configured run's billed tokens go (input-priced, halved for the batch), and how many cache writes it made.
  const prefixTokens = Math.ceil(batch.systemPromptCharacters / 4);
  const half = (n: number) => n / 2;
  const whereBilled = {
    uncachedInput: half(batch.usage.inputTokens),
    cacheWrites: half((batch.usage.cacheWriteTokens - (batch.usage.cacheWrite1hTokens ?? 0)) * 1.25 + (batch.usage.cacheWrite1hTokens ?? 0) * 2),
    cacheReads: half(batch.usage.cacheReadTokens * 0.1),
    output: half(batch.usage.outputTokens * 5),
    cachedPrefixTokensPerRequest: prefixTokens,
    variableInputTokensPerRequest:
      Math.round((batch.usage.inputTokens + batch.usage.cacheReadTokens + batch.usage.cacheWriteTokens) / batch.narratives) - prefixTokens,
    outputTokensPerRequest: Math.round(batch.usage.outputTokens / batch.narratives),
    cacheWritesPerRun: Math.round(batch.usage.cacheWriteTokens / prefixTokens),
  };
  Object.assign(results, {
    model: MODEL,
    concurrency: CONCURRENCY,
    naive,
    cached,
    batch,
    batchTtls: { '1h, at once': batch1hAtOnce, '5m, at once': batch5mAtOnce, '5m, over an hour': batch5mSpread, '1h, 4 at a time': batch1hParallel },
    serial,
    cachedOverNaive: ratio(cached),
    batchOverNaive: ratio(batch),
    batchTtlOverNaive: {
      '1h, over an hour (configured)': ratio(batch),
      '1h, at once': ratio(batch1hAtOnce),
      '5m, at once': ratio(batch5mAtOnce),
      '5m, over an hour': ratio(batch5mSpread),
      '1h, 4 at a time': ratio(batch1hParallel),
    },
    whereBilled,
    goal: 'batch and cache at most 0.40 of naive',
    note: 'billed = input + 1.25 x 5-minute cache writes (2 x 1-hour ones) + 0.1 x cache reads + 5 x output (Sonnet list prices), halved for batches; the fake processes a batch in order, minutesPerRequest simulated minutes apart (0: at once; 6: 12 requests over about an hour), parallelism requests at a time (a group misses what none of it found), the real API in its own order and time, concurrently, its cache hits best-effort',
    loadAverageAtEnd: loadavg(),
  });
  console.log(
    [
      'run                    narratives  seconds  per minute   input  output  cache read  cache write  billed (input-equiv.)  share  est. USD',
      ...[
        ['naive, 4 at once', naive],
        ['cached, 4 at once', cached],
        ['batch, 1h, over 1 h', batch],
        ['batch, 1h, at once', batch1hAtOnce],
        ['batch, 5m, at once', batch5mAtOnce],
        ['batch, 5m, over 1 h', batch5mSpread],
        ['batch, 1h, 4 at a time', batch1hParallel],
        ['cached, 1 at once', serial],
      ].map(([name, r]) => {
        const x = r as typeof naive;
        return `${String(name).padEnd(23)}${String(x.narratives).padStart(10)}${x.seconds.toFixed(2).padStart(9)}${x.perMinute.toFixed(0).padStart(12)}${String(x.usage.inputTokens).padStart(8)}${String(x.usage.outputTokens).padStart(8)}${String(x.usage.cacheReadTokens).padStart(12)}${String(x.usage.cacheWriteTokens).padStart(13)}${x.billedInputEquivalent.toFixed(0).padStart(23)}${`${(ratio(x) * 100).toFixed(1)}%`.padStart(7)}${x.costUsd.toFixed(3).padStart(10)}`;
      }),
      `system prompt: ${naive.systemPromptCharacters} characters; goal: caching + batches at most 40% of naive`,
      `configured batch, billed: ${Object.entries(whereBilled)
        .map(([k, v]) => `${k} ${Math.round(v)}`)
        .join(', ')}`,
    ].join('\n'),
  );
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'narratives.json'), `${JSON.stringify(results, null, 2)}\n`);
  expect(batch.narratives).toBe(12);
});
