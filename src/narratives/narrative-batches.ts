import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { type Week } from '../kernel/clock/week';
import { NarrativeWriter, WriterError, type NarrativeBrief } from '../kernel/llm/narrative-writer.port';
import { type Beat } from './beat.entity';
import { writerDocuments, type SourceRecord } from './draft-assessment';
import { DraftSaver, type SaveOutcome } from './draft-saver';
import { BatchItemStatus, BatchStatus, type NarrativeBatchItem } from './narrative-batch.entity';
import { NarrativesRepository } from './narratives.repository';
import { type Storyline } from './storyline.entity';

/**
 * A batch still "submitting" this long after it was written is no longer being sent by anyone (the create call gets
 * one try of at most BATCH_CREATE_TIMEOUT_MS, 5 minutes): a later build looks it up at Anthropic.
 */
export const SUBMIT_GRACE_MS = 10 * 60_000;
/** How far Anthropic's clock may be behind ours when we compare its `created_at` with our `submittedAt`. */
const CLOCK_SLACK_MS = 10 * 60_000;

export interface BatchJob {
  beat: Beat;
  storyline: Storyline;
  brief: NarrativeBrief;
  records: SourceRecord[];
}

/**
 * Narratives through Anthropic Message Batches (ANTHROPIC_BATCH=true): a build submits every storyline that needs
 * writing as one batch and returns; a later build collects the ended batch and saves each answer as `write` would.
 * A request that errored, expired or was canceled is recorded on its storyline and sent again by the next build;
 * nothing is saved twice (each request is marked saved in the transaction that saves its narrative).
 *
 * Never two batches for the same work: the intent (a local batch in state `submitting` and its requests, with
 * custom_ids that name the local batch) is committed before the create call, and the Anthropic batch id after it.
 * When the process dies in between, or the create call gets no answer, the batch stays `submitting`; a build after
 * SUBMIT_GRACE_MS asks Anthropic (`batches.find`: the list of batches, matched by request count and then by the
 * custom_ids in the results) and adopts the batch it finds; while a candidate is still processing it waits; only when
 * Anthropic has no batch of these requests are they sent again. Only an error answer to the create (nothing was
 * created) fails the batch at once.
 */
@Injectable()
export class NarrativeBatchRunner {
  private readonly logger = new Logger('NarrativeBatches');

  constructor(
    private readonly repo: NarrativesRepository,
    private readonly writer: NarrativeWriter,
    private readonly saver: DraftSaver,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get enabled(): boolean {
    return this.config.anthropic.batch && this.writer.batches !== null;
  }

  /** Sends the jobs as one batch; returns how many were submitted (0 when the API refused it: recorded). */
  async submit(week: Week, jobs: BatchJob[]): Promise<number> {
    if (!jobs.length || !this.writer.batches) return 0;
    const now = this.clock.now();
    const batchId = randomUUID();
    const tag = batchId.replace(/-/g, '').slice(0, 12);
    const items = jobs.map((job, i) => ({
      // custom_id: [A-Za-z0-9_-]{1,64}, unique in the batch; it names the local batch too, so that a batch found at
      // Anthropic after a crash is matched to this intent and no other (see `recover`).
      customId: `b${tag}_${i}_${job.storyline.id.replace(/-/g, '')}`,
      storylineId: job.storyline.id,
      membershipHash: job.storyline.membershipHash,
      brief: { beat: job.brief.beat, topic: job.brief.topic, previous: job.brief.previous ?? null },
      documents: job.records.map((r) => ({
        id: r.id,
        platform: r.platform,
        author: r.author,
        outlet: r.outlet ?? null,
        title: r.title,
        text: r.text,
        url: r.url,
        publishedAt: r.publishedAt.toISOString(),
      })),
    }));
    // The intent first: committed before anything is sent.
    const batch = await this.repo.createBatch({ id: batchId, weekStart: week.start, model: this.config.anthropic.model, submittedAt: now, items });
    let providerBatchId: string;
    try {
      providerBatchId = await this.writer.batches.submit(items.map((item, i) => ({ id: item.customId, brief: jobs[i].brief })));
    } catch (error) {
      if (!(error instanceof WriterError) || error.unanswered) {
        // No answer: Anthropic may have created it. It stays `submitting`, and a later build looks it up.
        this.logger.warn(`batch ${batch.id}: the create call got no answer (${(error as Error).message}); a later build looks it up at Anthropic`);
        return items.length;
      }
      const message = `batch submission failed: ${error.message}`;
      await this.repo.failBatch(batch.id, message);
      for (const job of jobs) await this.repo.recordWriteError(job.storyline.id, `${this.writer.name} writer ${message}`, now);
      this.logger.warn(message);
      return 0;
    }
    // Not inside the try: if this write fails the batch exists at Anthropic and stays `submitting` here, to be found.
    if (!(await this.repo.recordSubmitted(batch.id, providerBatchId, { processing: items.length }))) {
      // The answer came after another build had given this intent up and sent its requests again: this batch is
      // billed at Anthropic but its work is already elsewhere. Recorded nowhere, so say it loudly.
      this.logger.error(
        `batch ${batch.id}: Anthropic created ${providerBatchId} after the intent was given up; its requests were sent again, so it is not collected`,
      );
      return 0;
    }
    this.logger.log(`submitted ${items.length} narratives as batch ${providerBatchId}`);
    return items.length;
  }

  /**
   * A batch left `submitting` (the process stopped between the create call and recording its answer, or the call
   * got none): the Anthropic batch id when Anthropic has it, else null (after failing the batch when Anthropic has
   * none, so its requests are sent again; or leaving it for a later build while that is not known yet).
   */
  private async recover(batch: { id: string; submittedAt: Date }): Promise<string | null> {
    if (!this.writer.batches) return null;
    // The process that is sending it may still be waiting for the answer.
    if (this.clock.now().getTime() - batch.submittedAt.getTime() <= SUBMIT_GRACE_MS) return null;
    const items = await this.repo.batchItems(batch.id);
    let lookup;
    try {
      lookup = await this.writer.batches.find({
        ids: items.map((i) => i.customId),
        since: new Date(batch.submittedAt.getTime() - CLOCK_SLACK_MS),
        known: await this.repo.providerBatchIds(),
      });
    } catch (error) {
      this.logger.warn(`batch ${batch.id}: could not look it up at Anthropic (${(error as Error).message}); trying again next build`);
      return null;
    }
    if (lookup.status === 'found') {
      if (!(await this.repo.recordSubmitted(batch.id, lookup.batchId))) return null;
      this.logger.log(`batch ${batch.id}: found at Anthropic as ${lookup.batchId} (its create answer was never recorded)`);
      return lookup.batchId;
    }
    if (lookup.status === 'unsure') {
      this.logger.log(`batch ${batch.id}: ${lookup.batchId} at Anthropic may be it; it is still processing, so it is looked at again next build`);
      return null;
    }
    await this.failItems(batch.id, 'the batch was never created at Anthropic (the process stopped while submitting it)');
    await this.repo.failBatch(batch.id, 'never created at Anthropic: its requests are sent again');
    return null;
  }

  /**
   * Collects the week's ended batches. Returns the outcome of every request collected (by beat); a batch still
   * processing, or one the API could not be asked about, is left for the next build.
   */
  async collect(week: Week, runId: string | null, beats: Beat[]): Promise<Array<{ beatId: string } & SaveOutcome>> {
    if (!this.writer.batches) return [];
    const outcomes: Array<{ beatId: string } & SaveOutcome> = [];
    for (const batch of await this.repo.openBatches(week.start)) {
      if (batch.status === BatchStatus.Submitting || !batch.providerBatchId) {
        const found = await this.recover(batch);
        if (!found) continue;
        batch.providerBatchId = found;
      }
      let ended: boolean;
      try {
        const state = await this.writer.batches.state(batch.providerBatchId);
        await this.repo.updateBatch(batch.id, { counts: state.counts });
        ended = state.ended;
      } catch (error) {
        this.logger.warn(`batch ${batch.providerBatchId}: could not read its state (${(error as Error).message}); trying again next build`);
        continue;
      }
      if (!ended) continue;
      const items = await this.repo.batchItems(batch.id);
      const pending = items.filter((i) => i.status === BatchItemStatus.Pending);
      const briefs = new Map(pending.map((item) => [item.customId, briefOf(item)]));
      let results;
      try {
        results = await this.writer.batches.results(batch.providerBatchId, briefs);
      } catch (error) {
        this.logger.warn(`batch ${batch.providerBatchId}: could not read its results (${(error as Error).message}); trying again next build`);
        continue;
      }
      const byId = new Map(results.map((r) => [r.id, r]));
      for (const item of pending) {
        const storyline = await this.repo.storylineById(item.storylineId);
        const beat = storyline ? beats.find((b) => b.id === storyline.beatId) : undefined;
        const key = { batchId: batch.id, customId: item.customId };
        if (!storyline || !beat) {
          await this.repo.markBatchItem(key, BatchItemStatus.Failed, 'the storyline no longer exists');
          continue;
        }
        const result = byId.get(item.customId);
        const now = this.clock.now();
        if (!result || 'error' in result) {
          const reason = result && 'error' in result ? result.error : 'the batch returned no result for this request';
          await this.repo.markBatchItem(key, BatchItemStatus.Failed, reason);
          await this.repo.recordWriteError(storyline.id, `${this.writer.name} writer failed: ${reason}`, now);
          outcomes.push({ beatId: beat.id, outcome: 'failed', usage: null, costUsd: 0 });
          continue;
        }
        // An editor's regeneration after the batch was sent is newer than this answer: keep it.
        const lastVersion = await this.repo.lastVersionAt(storyline.id);
        if (lastVersion && lastVersion > batch.submittedAt) {
          await this.repo.markBatchItem(key, BatchItemStatus.Superseded, 'a newer version was written after the batch was sent');
          continue;
        }
        const records = recordsOf(item);
        const saved = await this.saver.save({ beat, storyline, records, draft: result.draft, runId, membershipHash: item.membershipHash, batchItem: key });
        outcomes.push({ beatId: beat.id, ...saved });
      }
      await this.repo.updateBatch(batch.id, { status: BatchStatus.Collected, endedAt: batch.endedAt ?? this.clock.now(), collectedAt: this.clock.now() });
    }
    return outcomes;
  }

  private async failItems(batchId: string, reason: string): Promise<void> {
    const now = this.clock.now();
    for (const item of await this.repo.batchItems(batchId)) {
      if (item.status !== BatchItemStatus.Pending) continue;
      await this.repo.recordWriteError(item.storylineId, `${this.writer.name} writer failed: ${reason}`, now);
    }
  }
}

function recordsOf(item: NarrativeBatchItem): SourceRecord[] {
  return item.documents.map((d) => ({ ...d, publishedAt: new Date(d.publishedAt) }));
}

function briefOf(item: NarrativeBatchItem): NarrativeBrief {
  return {
    beat: item.brief.beat,
    topic: item.brief.topic,
    previous: item.brief.previous,
    documents: writerDocuments(recordsOf(item)),
  };
}
