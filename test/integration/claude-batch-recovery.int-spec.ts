import Anthropic from '@anthropic-ai/sdk';
import { type DataSource } from 'typeorm';
import { type Week } from '../../src/kernel/clock/week';
import { NarrativeWriter } from '../../src/kernel/llm/narrative-writer.port';
import { SUBMIT_GRACE_MS } from '../../src/narratives/narrative-batches';
import { NarrativesRepository } from '../../src/narratives/narratives.repository';
import { type NarrativesService } from '../../src/narratives/narratives.service';
import { type FakeClock } from '../fakes/fake-clock';
import { type FakeAnthropic } from '../fakes/fake-anthropic';
import { batchCreates, buildTotal as total, localBatches as localRows, startBatchCase, type BatchCase } from '../support/batch-week';
import { type TestApp } from '../support/test-app';

/**
 * A Message Batch is created at most once for the same work (issue 8): a crash between Anthropic's answer to the
 * create call and our record of it leaves the batch `submitting`; a later build finds it at Anthropic and collects
 * it instead of sending the requests again. Faults are injected into the real repository and writer.
 */
describe('Message Batches after a crash while submitting', () => {
  // Each case has its own fake Anthropic, clock and app (database): neither leans on what the other left behind.
  let claude: FakeAnthropic;
  let t: TestApp;
  let db: DataSource;
  let narratives: NarrativesService;
  let week: Week;
  let clock: FakeClock;
  const creates = () => batchCreates(claude);
  const localBatches = () => localRows(db);

  let world: BatchCase | undefined;

  beforeEach(async () => {
    world = await startBatchCase();
    ({ clock, claude, t, db, narratives, week } = world);
  }, 120_000);

  afterEach(async () => {
    jest.restoreAllMocks();
    await world?.close();
    world = undefined;
  });

  it('finds the batch Anthropic accepted but we never recorded, waits while it processes, ignores a look-alike, and never creates it twice', async () => {
    // The crash: Anthropic accepts the batch, then the process dies as it writes the batch's id: that write and
    // every write after it never happen.
    const repo = t.get(NarrativesRepository);
    let dead = false;
    const faults = [
      jest.spyOn(repo, 'recordSubmitted').mockImplementation(async () => {
        dead = true;
        throw new Error('the process stopped here');
      }),
      ...(['updateBatch', 'failBatch', 'recordWriteError', 'markBatchItem'] as const).map((name) => {
        const real = (repo[name] as (...args: unknown[]) => Promise<void>).bind(repo);
        return jest.spyOn(repo, name).mockImplementation(async (...args: unknown[]) => {
          if (dead) throw new Error('the process stopped here');
          return real(...args);
        });
      }),
    ];
    await expect(narratives.build(week)).rejects.toThrow('the process stopped here');
    for (const fault of faults) fault.mockRestore();
    expect(creates()).toHaveLength(1);
    const sent = claude.batches.size === 1 ? [...claude.batches.values()][0] : null;
    expect(sent).not.toBeNull();
    const submitted = sent!.requests.length;
    expect(submitted).toBeGreaterThanOrEqual(4);
    expect(await localBatches()).toEqual([{ status: 'submitting', provider_batch_id: null }]);

    // A build soon after sends nothing: the requests are in a batch that may be on its way.
    expect(total(await narratives.build(week), 'batched')).toBe(0);
    expect(creates()).toHaveLength(1);

    // After the grace period a build asks Anthropic. Our batch is still processing (its custom_ids can't be read
    // yet): it waits, and sends nothing.
    clock.advance(SUBMIT_GRACE_MS + 60_000);
    const waiting = await narratives.build(week);
    expect(total(waiting, 'batched') + total(waiting, 'written') + total(waiting, 'held') + total(waiting, 'failed')).toBe(0);
    expect(creates()).toHaveLength(1);
    expect(claude.requests.some((r) => r.method === 'GET' && r.path === '/v1/messages/batches')).toBe(true);
    expect((await localBatches())[0].status).toBe('submitting');

    // Another program on the same key creates a newer batch with as many requests: it must not be taken for ours.
    const other = new Anthropic({ apiKey: claude.apiKey, baseURL: claude.url, maxRetries: 0 });
    const lookAlike = await other.messages.batches.create({
      requests: Array.from({ length: submitted }, (_, i) => ({
        custom_id: `someone_else_${i}`,
        params: { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: `Say ${i}.` }] },
      })),
    });

    // Both end. The next build finds ours by its custom_ids, records it and collects it: every storyline written once.
    await claude.endBatches();
    const collected = await narratives.build(week);
    expect(total(collected, 'written') + total(collected, 'held')).toBe(submitted);
    expect(total(collected, 'batched')).toBe(0);
    expect(creates()).toHaveLength(2); // ours, once, and the look-alike
    expect(await localBatches()).toEqual([{ status: 'collected', provider_batch_id: sent!.id }]);
    expect((await localBatches()).some((b) => b.provider_batch_id === lookAlike.id)).toBe(false);
    expect(Number((await db.query(`SELECT count(*) AS n FROM narrative_versions`))[0].n)).toBe(submitted);

    // Nothing left to send.
    const again = await narratives.build(week);
    expect(total(again, 'batched')).toBe(0);
    expect(total(again, 'unchanged')).toBe(submitted);
    expect(creates()).toHaveLength(2);
  });

  it('sends the requests again, once, when the process stopped before the create call reached Anthropic', async () => {
    // This case's own week: a batch sent, ended and collected, every narrative written.
    expect(total(await narratives.build(week), 'batched')).toBeGreaterThanOrEqual(4);
    await claude.endBatches();
    const written = await narratives.build(week);
    expect(total(written, 'written') + total(written, 'held')).toBeGreaterThanOrEqual(4);
    expect((await localBatches()).map((b) => b.status)).toEqual(['collected']);

    // New work: one storyline's records changed since its narrative was written, so it needs writing again.
    const [storyline] = await db.query(`SELECT storyline_id AS id FROM narratives ORDER BY storyline_id LIMIT 1`);
    await db.query(`UPDATE narratives SET membership_hash = 'changed' WHERE storyline_id = $1`, [storyline.id]);
    const createsBefore = creates().length;
    const writer = t.get(NarrativeWriter);
    const stop = jest.spyOn(writer.batches!, 'submit').mockRejectedValueOnce(new Error('the process stopped before sending'));
    await narratives.build(week);
    stop.mockRestore();
    expect(creates()).toHaveLength(createsBefore);
    expect((await localBatches()).map((b) => b.status)).toEqual(['collected', 'submitting']);

    // After the grace period Anthropic has no such batch: the build fails the intent and sends the requests once.
    clock.advance(SUBMIT_GRACE_MS + 60_000);
    const resent = await narratives.build(week);
    expect(total(resent, 'batched')).toBe(1);
    expect(creates()).toHaveLength(createsBefore + 1);
    expect((await localBatches()).map((b) => b.status)).toEqual(['collected', 'failed', 'in_progress']);
  });
});
