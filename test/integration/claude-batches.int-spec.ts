import { type DataSource } from 'typeorm';
import { type Week } from '../../src/kernel/clock/week';
import { estimateCostUsd } from '../../src/kernel/llm/pricing';
import { type NarrativesService } from '../../src/narratives/narratives.service';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic';
import { buildTotal, startBatchWeek } from '../support/batch-week';
import { type TestApp } from '../support/test-app';

/**
 * ANTHROPIC_BATCH=true: a build sends its narratives as one Message Batch through the real SDK to the fake's
 * batches endpoints; later builds poll it and save the answers; failed requests are recorded and sent again.
 */
describe('narratives through Message Batches', () => {
  let claude: FakeAnthropic;
  let t: TestApp;
  let db: DataSource;
  let narratives: NarrativesService;
  let week: Week;
  const total = buildTotal;
  const batchCalls = () => claude.requests.filter((r) => r.path.startsWith('/v1/messages/batches'));

  beforeAll(async () => {
    claude = await startFakeAnthropic({ batchPollsBeforeEnd: 1 });
    ({ t, db, narratives, week } = await startBatchWeek(claude));
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await claude?.close();
  });

  // One story, one test: each build acts on the batch the build before it left (refused, submitted, processing,
  // ended, collected again after a crash, retried), so the steps cannot run apart. Each step is commented.
  it('writes a week through Message Batches: refused, submitted, still processing, collected with failures resent, collected again safely, finished', async () => {
    // Step 1: refuses nothing silently: a batch the API refuses is recorded on every storyline and nothing is saved.
    // Every storyline the refused build tried to send is one the later builds must write: `submitted` of them.
    claude.failNext(1, { status: 400, type: 'invalid_request_error', message: 'requests: too many' });
    const refused = await narratives.build(week);
    expect(total(refused, 'batched')).toBe(0);
    const submitted = total(refused, 'failed');
    {
      expect(submitted).toBeGreaterThanOrEqual(4);
      const errors: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM storylines WHERE last_write_error LIKE '%batch submission failed%'`);
      expect(Number(errors[0].n)).toBe(submitted);
      expect(await narratives.count()).toBe(0);
      const [batch] = await db.query(`SELECT status, error FROM narrative_batches`);
      expect(batch).toMatchObject({ status: 'failed', error: expect.stringMatching(/400/) });
    }

    // Step 2: sends every storyline to write as one batch, in a shape a batch accepts, and saves nothing yet.
    {
      const summaries = await narratives.build(week);
      expect(total(summaries, 'batched')).toBe(submitted);
      expect(await narratives.count()).toBe(0);
      expect(claude.batches.size).toBe(1);
      const [batch] = [...claude.batches.values()];
      expect(batch.requests).toHaveLength(submitted);
      for (const request of batch.requests) {
        expect(request.custom_id).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
        const params = request.params as {
          system: Array<{ cache_control?: unknown }>;
          tools?: unknown;
          tool_choice?: unknown;
          output_config?: unknown;
          messages: Array<{ content: Array<{ type: string; citations?: unknown }> }>;
        };
        // Citations on the records, the style guide cached, and neither a forced tool nor a structured output.
        expect(params.system[0].cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
        expect(params.messages[0].content.find((b) => b.type === 'document')?.citations).toEqual({ enabled: true });
        expect([params.tools, params.tool_choice, params.output_config]).toEqual([undefined, undefined, undefined]);
      }
      const runs: Array<{ batch: boolean }> = await db.query(`SELECT batch FROM narrative_runs ORDER BY started_at DESC LIMIT 1`);
      expect(runs[0].batch).toBe(true);
    }

    // Step 3: leaves a batch that is still processing alone and sends nothing twice.
    {
      const before = batchCalls().length;
      const summaries = await narratives.build(week);
      expect(total(summaries, 'batched') + total(summaries, 'written') + total(summaries, 'held')).toBe(0);
      expect(claude.batches.size).toBe(1);
      const calls = batchCalls().slice(before);
      expect(calls.map((c) => `${c.method} ${c.path.replace(/msgbatch_\w+/, 'ID')}`)).toEqual(['GET /v1/messages/batches/ID']);
      expect(calls[0].responseBody).toMatchObject({ processing_status: 'in_progress', request_counts: { processing: submitted } });
    }

    // Step 4: collects the ended batch: saves each answer once at half price, records the errored and expired requests, and sends those again.
    {
      claude.failNextBatchRequests(1, { type: 'errored', status: 529, errorType: 'overloaded_error' });
      claude.failNextBatchRequests(1, { type: 'expired' });
      const summaries = await narratives.build(week);
      expect(total(summaries, 'written') + total(summaries, 'held')).toBe(submitted - 2);
      expect(total(summaries, 'failed')).toBe(2);
      // The two failures went straight into a new batch.
      expect(total(summaries, 'batched')).toBe(2);
      expect(claude.batches.size).toBe(2);
      const errors: Array<{ last_write_error: string }> = await db.query(
        `SELECT last_write_error FROM storylines WHERE last_write_error IS NOT NULL ORDER BY last_write_error`,
      );
      expect(errors.map((e) => e.last_write_error)).toEqual([
        'claude writer failed: batch request errored: overloaded_error: Overloaded',
        'claude writer failed: batch request expired',
      ]);
      const versions: Array<{ model: string; usage: Record<string, number>; cost_usd: number; run_id: string | null }> = await db.query(
        `SELECT model, usage, cost_usd, run_id FROM narrative_versions`,
      );
      expect(versions).toHaveLength(submitted - 2);
      for (const v of versions) {
        expect(v.run_id).not.toBeNull();
        const usage = {
          inputTokens: v.usage.inputTokens,
          outputTokens: v.usage.outputTokens,
          cacheReadTokens: v.usage.cacheReadTokens,
          cacheWriteTokens: v.usage.cacheWriteTokens,
          // Batch requests write the 1-hour cache (2x, not 1.25x, the input price).
          cacheWrite1hTokens: v.usage.cacheWrite1hTokens ?? 0,
        };
        expect(v.cost_usd).toBeCloseTo(estimateCostUsd(v.model, usage, { batch: true }), 10);
      }
      // Every request after the first read the style guide from the cache.
      expect(versions.filter((v) => v.usage.cacheReadTokens > 0).length).toBeGreaterThanOrEqual(versions.length - 1);
      const stories = await narratives.latest(20);
      expect(stories.length).toBeGreaterThan(0);
      for (const story of stories) {
        expect(story.headline.length).toBeGreaterThan(5);
        expect(story.dek.length).toBeGreaterThan(5);
        expect(story.citations.length).toBeGreaterThan(0);
      }
    }

    // Step 5: collecting the same results again (a crash before the batch was marked collected) saves nothing twice.
    {
      await db.query(`UPDATE narrative_batches SET status = 'in_progress', collected_at = NULL WHERE status = 'collected'`);
      const versionsBefore = Number((await db.query(`SELECT count(*) AS n FROM narrative_versions`))[0].n);
      // The second batch is polled once (in progress), the first is read again.
      await narratives.build(week);
      expect(Number((await db.query(`SELECT count(*) AS n FROM narrative_versions`))[0].n)).toBe(versionsBefore);
      const statuses: Array<{ status: string; n: string }> = await db.query(
        `SELECT status, count(*) AS n FROM narrative_batches GROUP BY status ORDER BY status`,
      );
      expect(statuses.map((s) => [s.status, Number(s.n)])).toEqual([
        ['collected', 1],
        ['failed', 1],
        ['in_progress', 1],
      ]);
    }

    // Step 6: the retried requests are written by a later build, and every storyline ends with exactly one version.
    {
      const summaries = await narratives.build(week);
      expect(total(summaries, 'written') + total(summaries, 'held')).toBe(2);
      expect(await narratives.count()).toBe(submitted);
      const rows: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM narrative_versions`);
      expect(Number(rows[0].n)).toBe(submitted);
      expect((await db.query(`SELECT count(*) AS n FROM storylines WHERE last_write_error IS NOT NULL`))[0].n).toBe('0');
      // Nothing left to send.
      const again = await narratives.build(week);
      expect(total(again, 'batched')).toBe(0);
      expect(total(again, 'unchanged')).toBe(submitted);
    }
  });
});
