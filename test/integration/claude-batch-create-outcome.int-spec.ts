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
 * What the answer to a Message Batch create means (issue 8: a batch is created, and billed, once for the same work).
 * A 5xx does not say nothing was created; an answer that arrives after the intent was given up must not revive it.
 * Each case starts its own app and fake.
 */
describe('the outcome of a Message Batch create', () => {
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

  it('treats a 502 to the create as "maybe created": it finds the batch later and never creates a second one', async () => {
    claude.failNextBatchCreateAfterSaving(502);
    await narratives.build(week);
    expect(creates()).toHaveLength(1);
    expect(claude.batches.size).toBe(1);
    const sent = [...claude.batches.values()][0];
    expect(await localBatches()).toEqual([{ status: 'submitting', provider_batch_id: null }]);

    clock.advance(SUBMIT_GRACE_MS + 60_000);
    await claude.endBatches();
    const collected = await narratives.build(week);
    expect(total(collected, 'written') + total(collected, 'held')).toBe(sent.requests.length);
    expect(creates()).toHaveLength(1);
    expect(await localBatches()).toEqual([{ status: 'collected', provider_batch_id: sent.id }]);
  });

  it('a create answered after another build gave the intent up leaves it given up', async () => {
    // Another build decided this intent was never created and failed it while the create was still on its way.
    const repo = t.get(NarrativesRepository);
    const writer = t.get(NarrativeWriter);
    const submit = writer.batches!.submit.bind(writer.batches);
    jest.spyOn(writer.batches!, 'submit').mockImplementation(async (items) => {
      const id = await submit(items);
      const [intent] = (await db.query(`SELECT id FROM narrative_batches WHERE status = 'submitting'`)) as Array<{ id: string }>;
      await repo.failBatch(intent.id, 'given up by another build');
      return id;
    });
    expect(total(await narratives.build(week), 'batched')).toBe(0);
    expect(creates()).toHaveLength(1);
    expect(await localBatches()).toEqual([{ status: 'failed', provider_batch_id: null }]);
  });
});
