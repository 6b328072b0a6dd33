import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AnthropicNarrativeWriter } from '../src/kernel/llm/anthropic-narrative-writer.adapter';
import { type NarrativeBrief, type WriterDocument } from '../src/kernel/llm/narrative-writer.port';
import { billedInputEquivalent, estimateCostUsd, NO_USAGE, addUsage, type TokenUsage } from '../src/kernel/llm/pricing';
import { assessDraft } from '../src/narratives/draft-assessment';
import { decodeFeedBytes } from '../src/sources/parsing/feed-decoding';
import { parseFeedDocument } from '../src/sources/parsing/feed-parser';
import { startFakeAnthropic } from '../test/fakes/fake-anthropic';

/**
 * `npm run bench:narratives`: a weekly run's worth of narratives (the demo week's feeds, 12 storylines of up to 40
 * records) written by the real Claude writer against the fake Anthropic server (realistic citations answers, the
 * real prompt-caching rules with a 1,024-token minimum), then grounding-checked. Narratives per minute at the
 * configured concurrency; billed tokens with prompt caching against the same run without it.
 */
const results: Record<string, unknown> = { cpus: cpus().length, node: process.version, startedAt: new Date().toISOString() };
const MODEL = 'claude-sonnet-5-5';

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

async function run(options: { concurrency: number; promptCaching: boolean }) {
  const fake = await startFakeAnthropic({ minCacheableTokens: 1024 });
  const writer = new AnthropicNarrativeWriter({ apiKey: fake.apiKey, baseUrl: fake.url, model: MODEL, maxRetries: 2, promptCaching: options.promptCaching });
  const work = briefs();
  let usage: TokenUsage = NO_USAGE;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < work.length) {
        const brief = work[next++];
        const draft = await writer.write(brief);
        assessDraft({ draft, records: brief.documents.map((d, i) => ({ ...d, id: String(i), outlet: null })) });
        usage = addUsage(usage, draft.usage);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await fake.close();
  return {
    narratives: work.length,
    seconds,
    perMinute: (work.length / seconds) * 60,
    usage,
    billedInputEquivalent: billedInputEquivalent(usage),
    costUsd: estimateCostUsd(MODEL, usage),
  };
}

it('narratives per minute and billed tokens, with and without prompt caching', async () => {
  const concurrency = 4;
  await run({ concurrency: 1, promptCaching: true }); // warm-up: compromise's lexicon and the JIT
  const cached = await run({ concurrency, promptCaching: true });
  const naive = await run({ concurrency, promptCaching: false });
  const serial = await run({ concurrency: 1, promptCaching: true });
  Object.assign(results, {
    concurrency,
    cached,
    naive,
    serial,
    cachedOverNaive: cached.billedInputEquivalent / naive.billedInputEquivalent,
    batching: 'not implemented',
  });
  console.log(
    [
      'run                  narratives  seconds  per minute  input  output  cache read  cache write  billed (input-equiv.)  est. USD',
      ...[
        ['cached, 4 at once', cached],
        ['naive, 4 at once', naive],
        ['cached, 1 at once', serial],
      ].map(([name, r]) => {
        const x = r as typeof cached;
        return `${String(name).padEnd(21)}${String(x.narratives).padStart(10)}${x.seconds.toFixed(1).padStart(9)}${x.perMinute.toFixed(0).padStart(12)}${String(x.usage.inputTokens).padStart(7)}${String(x.usage.outputTokens).padStart(8)}${String(x.usage.cacheReadTokens).padStart(12)}${String(x.usage.cacheWriteTokens).padStart(13)}${x.billedInputEquivalent.toFixed(0).padStart(23)}${x.costUsd.toFixed(3).padStart(10)}`;
      }),
      `cached / naive billed: ${((cached.billedInputEquivalent / naive.billedInputEquivalent) * 100).toFixed(1)}% (Message Batches not implemented)`,
    ].join('\n'),
  );
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'narratives.json'), `${JSON.stringify(results, null, 2)}\n`);
  expect(cached.narratives).toBe(12);
});
