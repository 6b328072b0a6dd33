import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { Beat } from './beat.entity';
import { Storyline, StorylineRecord } from './storyline.entity';
import { Narrative, NarrativeCitation, NarrativeRun, NarrativeStatus, NarrativeVersion } from './narrative.entity';
import { type TokenUsage } from '../kernel/llm/pricing';
import { type Cluster } from './storyline-clusterer';
import { BatchItemStatus, BatchStatus, NarrativeBatch, NarrativeBatchItem } from './narrative-batch.entity';

export type BeatDefinition = Pick<Beat, 'slug' | 'name' | 'description' | 'keywords'>;

/** The only place that builds queries for beats, storylines and narratives. */
@Injectable()
export class NarrativesRepository {
  constructor(private readonly dataSource: DataSource) {}

  async upsertBeats(beats: BeatDefinition[]): Promise<void> {
    if (beats.length) await this.dataSource.getRepository(Beat).upsert(beats, { conflictPaths: ['slug'] });
  }

  listBeats(): Promise<Beat[]> {
    return this.dataSource.getRepository(Beat).find({ order: { name: 'ASC' } });
  }

  /**
   * Replaces the storylines of one beat and week with a fresh clustering, in one transaction. A storyline keeps
   * its row (and so its narrative) when its key survives; vanished storylines go unless a narrative holds them.
   */
  async replaceStorylines(
    beatId: string,
    window: { start: Date; end: Date },
    clusters: Array<Cluster & { flaggedRecords?: Storyline['flaggedRecords']; previousStorylineId?: string | null }>,
  ): Promise<Storyline[]> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(Storyline);
      const existing = await repo.findBy({ beatId, windowStart: window.start });
      const byKey = new Map(existing.map((s) => [s.key, s]));
      const keep = new Set(clusters.map((c) => c.key));
      const stale = existing.filter((s) => !keep.has(s.key)).map((s) => s.id);
      if (stale.length) {
        const held = new Set((await m.getRepository(Narrative).findBy({ storylineId: In(stale) })).map((n) => n.storylineId));
        const removable = stale.filter((id) => !held.has(id));
        if (removable.length) await repo.delete({ id: In(removable) });
      }
      const saved: Storyline[] = [];
      for (const cluster of clusters) {
        const storyline =
          byKey.get(cluster.key) ??
          repo.create({ beatId, windowStart: window.start, windowEnd: window.end, key: cluster.key, lastWriteError: null, lastWriteErrorAt: null });
        Object.assign(storyline, {
          label: cluster.label,
          recordCount: cluster.recordIds.length,
          platformCount: cluster.platformCount,
          score: cluster.score,
          membershipHash: cluster.membershipHash,
          signals: cluster.signals ?? null,
          flaggedRecords: cluster.flaggedRecords ?? [],
          previousStorylineId: cluster.previousStorylineId ?? null,
        });
        const row = await repo.save(storyline);
        await m.getRepository(StorylineRecord).delete({ storylineId: row.id });
        await m.getRepository(StorylineRecord).insert(cluster.recordIds.map((recordId) => ({ storylineId: row.id, recordId })));
        saved.push(row);
      }
      return saved;
    });
  }

  /** The storylines of one beat and week with their member record ids. */
  async storylinesWithRecords(beatId: string, windowStart: Date): Promise<Array<{ key: string; recordIds: string[] }>> {
    const rows: Array<{ key: string; record_id: string }> = await this.dataSource.query(
      `SELECT s.key, sr.record_id FROM storylines s JOIN storyline_records sr ON sr.storyline_id = s.id WHERE s.beat_id = $1 AND s.window_start = $2`,
      [beatId, windowStart],
    );
    const byKey = new Map<string, string[]>();
    for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row.record_id]);
    return [...byKey].map(([key, recordIds]) => ({ key, recordIds }));
  }

  topStorylines(beatId: string, windowStart: Date, limit: number): Promise<Storyline[]> {
    return this.dataSource.getRepository(Storyline).find({ where: { beatId, windowStart }, order: { score: 'DESC', key: 'ASC' }, take: limit });
  }

  async storylineRecordIds(storylineId: string): Promise<string[]> {
    const rows = await this.dataSource.getRepository(StorylineRecord).findBy({ storylineId });
    return rows.map((r) => r.recordId);
  }

  recordWriteError(storylineId: string, error: string | null, at: Date): Promise<unknown> {
    return this.dataSource.getRepository(Storyline).update({ id: storylineId }, { lastWriteError: error, lastWriteErrorAt: error ? at : null });
  }

  narrativeForStoryline(storylineId: string): Promise<Narrative | null> {
    return this.dataSource.getRepository(Narrative).findOneBy({ storylineId });
  }

  slugTaken(slug: string): Promise<boolean> {
    return this.dataSource.getRepository(Narrative).existsBy({ slug });
  }

  /** Saves a narrative, its new version and its citations atomically: never half-saved. */
  saveNarrative(input: {
    narrative: Narrative;
    usage: TokenUsage | null;
    citations: Map<number, string>;
    costUsd: number | null;
    runId: string | null;
    editor: string | null;
    /** The batch request this answers: marked saved in the same transaction, so it is never saved twice. */
    batchItem?: { batchId: string; customId: string };
  }): Promise<Narrative> {
    return this.dataSource.transaction(async (m: EntityManager) => {
      if (input.batchItem) {
        const claimed = await m
          .getRepository(NarrativeBatchItem)
          .update(
            { batchId: input.batchItem.batchId, customId: input.batchItem.customId, status: BatchItemStatus.Pending },
            { status: BatchItemStatus.Saved, error: null },
          );
        if (!claimed.affected) return input.narrative;
      }
      const narrative = await m.getRepository(Narrative).save(input.narrative);
      const { headline, dek, paragraphs, writer, model, fidelity, version, fidelityReport, status } = narrative;
      await m.getRepository(NarrativeVersion).insert({
        narrativeId: narrative.id,
        version,
        headline,
        dek,
        paragraphs,
        writer,
        model,
        fidelity,
        usage: input.usage ? { ...input.usage } : null,
        fidelityReport,
        status,
        editor: input.editor,
        costUsd: input.costUsd,
        runId: input.runId,
      });
      await m.getRepository(NarrativeCitation).delete({ narrativeId: narrative.id });
      await m.getRepository(NarrativeCitation).insert([...input.citations].map(([number, recordId]) => ({ narrativeId: narrative.id, number, recordId })));
      return narrative;
    });
  }

  newNarrative(): Narrative {
    return this.dataSource.getRepository(Narrative).create();
  }

  published(options: { limit: number; beatId?: string; offset?: number }): Promise<Narrative[]> {
    return this.dataSource.getRepository(Narrative).find({
      where: { status: NarrativeStatus.Published, ...(options.beatId ? { beatId: options.beatId } : {}) },
      order: { publishedAt: 'DESC', slug: 'ASC' },
      take: options.limit,
      skip: options.offset ?? 0,
    });
  }

  countPublished(beatId?: string): Promise<number> {
    return this.dataSource.getRepository(Narrative).countBy({ status: NarrativeStatus.Published, ...(beatId ? { beatId } : {}) });
  }

  /** A cheap fingerprint of everything published: it moves whenever a narrative, citation or beat is written or removed. */
  async changeMarker(): Promise<string> {
    const [row] = await this.dataSource.query(
      `SELECT (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM narratives) AS n,
              (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM narrative_citations) AS c,
              (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM beats) AS b`,
    );
    return `${row.n}|${row.c}|${row.b}`;
  }

  /**
   * Published narratives matching a web-search style query (`websearch_to_tsquery`: never a syntax error, whatever
   * the input), best rank first, with the headline and a snippet of the text highlighted by `ts_headline`.
   *
   * The highlighted text comes back HTML-escaped by PostgreSQL, with U+0001/U+0002 around each match (both removed
   * from the document first, so the text cannot forge a mark): the default parser turns anything that looks like a
   * tag into a space, and escaping first keeps `<script>` in a story's text as text. The caller un-escapes the five
   * entities and splits at the marks.
   */
  async search(input: {
    query: string;
    limit: number;
    offset: number;
  }): Promise<{ total: number; hits: Array<{ id: string; rank: number; headline: string; snippet: string }> }> {
    const escaped = (sql: string) =>
      `replace(replace(replace(replace(replace(translate(${sql}, E'\\x01\\x02', ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')`;
    const body = `(SELECT string_agg((SELECT string_agg(seg->>'text', '' ORDER BY si) FROM jsonb_array_elements(para) WITH ORDINALITY AS s(seg, si)), ' ' ORDER BY pi)
      FROM jsonb_array_elements(h.paragraphs) WITH ORDINALITY AS p(para, pi))`;
    const [{ total }] = await this.dataSource.query(
      `SELECT count(*)::int AS total FROM narratives WHERE status = $2 AND search_vector @@ websearch_to_tsquery('english', $1)`,
      [input.query, NarrativeStatus.Published],
    );
    if (total === 0 || input.offset >= total) return { total, hits: [] };
    const rows: Array<{ id: string; rank: number; headline: string; snippet: string }> = await this.dataSource.query(
      `WITH q AS (SELECT websearch_to_tsquery('english', $1) AS q),
       h AS (
         SELECT n.id, n.headline, n.paragraphs, n.published_at, n.slug, ts_rank_cd(n.search_vector, q.q, 32) AS rank
         FROM narratives n, q WHERE n.status = $2 AND n.search_vector @@ q.q
         ORDER BY rank DESC, n.published_at DESC NULLS LAST, n.slug LIMIT $3 OFFSET $4)
       SELECT h.id, h.rank::float8 AS rank,
         ts_headline('english', ${escaped('h.headline')}, q.q, $5) AS headline,
         ts_headline('english', ${escaped(`coalesce(${body}, '')`)}, q.q, $6) AS snippet
       FROM h, q ORDER BY h.rank DESC, h.published_at DESC NULLS LAST, h.slug`,
      [
        input.query,
        NarrativeStatus.Published,
        input.limit,
        input.offset,
        'HighlightAll=true, StartSel=\u0001, StopSel=\u0002',
        'MaxFragments=2, MaxWords=28, MinWords=12, ShortWord=2, FragmentDelimiter=" … ", StartSel=\u0001, StopSel=\u0002',
      ],
    );
    return { total, hits: rows.map((r) => ({ ...r, rank: Number(r.rank) })) };
  }

  bySlug(slug: string): Promise<Narrative | null> {
    return this.dataSource.getRepository(Narrative).findOneBy({ slug });
  }

  byIds(ids: string[]): Promise<Narrative[]> {
    return ids.length ? this.dataSource.getRepository(Narrative).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  citations(narrativeIds: string[]): Promise<NarrativeCitation[]> {
    return narrativeIds.length
      ? this.dataSource.getRepository(NarrativeCitation).find({ where: { narrativeId: In(narrativeIds) }, order: { number: 'ASC' } })
      : Promise.resolve([]);
  }

  /** Published narratives of a week's storylines, best storylines first, per beat. */
  async publishedInWeek(windowStart: Date): Promise<Array<Narrative & { score: number }>> {
    const rows = await this.dataSource
      .getRepository(Narrative)
      .createQueryBuilder('n')
      .innerJoin(Storyline, 's', 's.id = n.storyline_id')
      .addSelect('s.score', 'score')
      .where('s.window_start = :windowStart', { windowStart })
      .andWhere('n.status = :status', { status: NarrativeStatus.Published })
      .orderBy('s.score', 'DESC')
      .addOrderBy('n.slug', 'ASC')
      .getRawAndEntities();
    return rows.entities.map((n, i) => Object.assign(n, { score: Number(rows.raw[i].score) }));
  }

  count(): Promise<number> {
    return this.dataSource.getRepository(Narrative).count();
  }

  narrativeById(id: string): Promise<Narrative | null> {
    return /^[0-9a-f-]{36}$/i.test(id) ? this.dataSource.getRepository(Narrative).findOneBy({ id }) : Promise.resolve(null);
  }

  storylineById(id: string): Promise<Storyline | null> {
    return this.dataSource.getRepository(Storyline).findOneBy({ id });
  }

  /** The storylines of the week starting at `windowStart` (the latest week when null), best first. */
  async storylinesOfWeek(windowStart: Date | null): Promise<Storyline[]> {
    const repo = this.dataSource.getRepository(Storyline);
    const start = windowStart ?? (await repo.find({ order: { windowStart: 'DESC' }, take: 1 }))[0]?.windowStart;
    return start ? repo.find({ where: { windowStart: start }, order: { score: 'DESC', key: 'ASC' } }) : [];
  }

  narrativesForStorylines(storylineIds: string[]): Promise<Narrative[]> {
    return storylineIds.length ? this.dataSource.getRepository(Narrative).findBy({ storylineId: In(storylineIds) }) : Promise.resolve([]);
  }

  held(limit: number): Promise<Narrative[]> {
    return this.dataSource.getRepository(Narrative).find({ where: { status: NarrativeStatus.Held }, order: { updatedAt: 'DESC' }, take: limit });
  }

  versions(narrativeId: string): Promise<NarrativeVersion[]> {
    if (!/^[0-9a-f-]{36}$/i.test(narrativeId)) return Promise.resolve([]);
    return this.dataSource.getRepository(NarrativeVersion).find({ where: { narrativeId }, order: { version: 'ASC' } });
  }

  /** Storylines of the beat's previous week (for continuation links). */
  async previousWeekStorylines(beatId: string, windowStart: Date): Promise<Storyline[]> {
    const rows: Array<{ window_start: Date }> = await this.dataSource.query(
      `SELECT max(window_start) AS window_start FROM storylines WHERE beat_id = $1 AND window_start < $2`,
      [beatId, windowStart],
    );
    const previous = rows[0]?.window_start;
    return previous ? this.dataSource.getRepository(Storyline).findBy({ beatId, windowStart: new Date(previous) }) : [];
  }

  /** For each storyline id, the published narrative of the storyline it continues. */
  async continuations(storylineIds: string[]): Promise<Map<string, { slug: string; headline: string }>> {
    if (!storylineIds.length) return new Map();
    const rows: Array<{ id: string; slug: string; headline: string }> = await this.dataSource.query(
      `SELECT s.id, n.slug, n.headline FROM storylines s JOIN narratives n ON n.storyline_id = s.previous_storyline_id
       WHERE s.id = ANY($1::uuid[]) AND n.status = $2`,
      [storylineIds, NarrativeStatus.Published],
    );
    return new Map(rows.map((r) => [r.id, { slug: r.slug, headline: r.headline }]));
  }

  startRun(input: { startedAt: Date; weekStart: Date | null; writer: string; model: string | null; batch: boolean }): Promise<NarrativeRun> {
    return this.dataSource.getRepository(NarrativeRun).save(this.dataSource.getRepository(NarrativeRun).create(input));
  }

  async finishRun(
    id: string,
    input: { finishedAt: Date; written: number; failed: number; usage: TokenUsage; costUsd: number; batch?: boolean },
  ): Promise<void> {
    await this.dataSource.getRepository(NarrativeRun).update(
      { id },
      {
        finishedAt: input.finishedAt,
        written: input.written,
        failed: input.failed,
        // The run's columns hold the four totals; the 1-hour share of cache writes is in its cost.
        inputTokens: input.usage.inputTokens,
        outputTokens: input.usage.outputTokens,
        cacheReadTokens: input.usage.cacheReadTokens,
        cacheWriteTokens: input.usage.cacheWriteTokens,
        costUsd: input.costUsd,
        ...(input.batch === undefined ? {} : { batch: input.batch }),
      },
    );
  }

  /** Token and cost totals per narrative, per week and per run (from the versions that were written). */
  async costs(options: { weekStart?: Date; runs?: number }) {
    const tokens = (alias: string) => `
      coalesce(sum((${alias}.usage->>'inputTokens')::bigint), 0) AS input_tokens,
      coalesce(sum((${alias}.usage->>'outputTokens')::bigint), 0) AS output_tokens,
      coalesce(sum((${alias}.usage->>'cacheReadTokens')::bigint), 0) AS cache_read_tokens,
      coalesce(sum((${alias}.usage->>'cacheWriteTokens')::bigint), 0) AS cache_write_tokens,
      coalesce(sum(${alias}.cost_usd), 0) AS cost_usd, count(DISTINCT ${alias}.narrative_id) AS narratives`;
    const totals = (r: Record<string, unknown>) => ({
      inputTokens: Number(r.input_tokens ?? 0),
      outputTokens: Number(r.output_tokens ?? 0),
      cacheReadTokens: Number(r.cache_read_tokens ?? 0),
      cacheWriteTokens: Number(r.cache_write_tokens ?? 0),
      costUsd: Number(r.cost_usd ?? 0),
      narratives: Number(r.narratives ?? 0),
    });
    const weekFilter = options.weekStart ? `AND s.window_start = $1` : '';
    const params = options.weekStart ? [options.weekStart] : [];
    const join = `FROM narrative_versions v JOIN narratives n ON n.id = v.narrative_id JOIN storylines s ON s.id = n.storyline_id WHERE v.usage IS NOT NULL ${weekFilter}`;
    const [total] = await this.dataSource.query(`SELECT ${tokens('v')} ${join}`, params);
    const byWeek = await this.dataSource.query(`SELECT s.window_start, ${tokens('v')} ${join} GROUP BY s.window_start ORDER BY s.window_start DESC`, params);
    const narratives = await this.dataSource.query(
      `SELECT n.id, n.slug, n.headline, ${tokens('v')} ${join} GROUP BY n.id, n.slug, n.headline ORDER BY cost_usd DESC, n.slug LIMIT 200`,
      params,
    );
    const runs = await this.dataSource
      .getRepository(NarrativeRun)
      .find({ where: options.weekStart ? { weekStart: options.weekStart } : {}, order: { startedAt: 'DESC' }, take: options.runs ?? 20 });
    return {
      total: totals(total ?? {}),
      byWeek: byWeek.map((r: Record<string, unknown>) => ({ weekStart: new Date(r.window_start as string), ...totals(r) })),
      narratives: narratives.map((r: Record<string, unknown>) => ({ id: String(r.id), slug: String(r.slug), headline: String(r.headline), ...totals(r) })),
      runs: runs.map((r) => ({
        id: r.id,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        weekStart: r.weekStart,
        model: r.model,
        batch: r.batch,
        failed: r.failed,
        narratives: r.written,
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        cacheReadTokens: r.cacheReadTokens,
        cacheWriteTokens: r.cacheWriteTokens,
        costUsd: r.costUsd,
      })),
    };
  }

  // --- Message Batches ----------------------------------------------------------------------------------------

  /** Writes a batch and its requests (status submitting) before anything is sent. */
  createBatch(input: {
    /** Chosen by the caller: the requests' custom_ids name it. */
    id: string;
    weekStart: Date;
    model: string | null;
    submittedAt: Date;
    items: Array<Omit<NarrativeBatchItem, 'batchId' | 'status' | 'error' | 'createdAt' | 'updatedAt'>>;
  }): Promise<NarrativeBatch> {
    return this.dataSource.transaction(async (m) => {
      const batch = await m.getRepository(NarrativeBatch).save(
        m.getRepository(NarrativeBatch).create({
          id: input.id,
          status: BatchStatus.Submitting,
          weekStart: input.weekStart,
          model: input.model,
          submittedAt: input.submittedAt,
          providerBatchId: null,
          error: null,
        }),
      );
      await m
        .getRepository(NarrativeBatchItem)
        .insert(input.items.map((item) => ({ ...item, batchId: batch.id, status: BatchItemStatus.Pending, error: null })));
      return batch;
    });
  }

  async updateBatch(
    id: string,
    changes: Partial<Pick<NarrativeBatch, 'providerBatchId' | 'status' | 'endedAt' | 'collectedAt' | 'counts' | 'error'>>,
  ): Promise<void> {
    await this.dataSource.getRepository(NarrativeBatch).update({ id }, changes);
  }

  /**
   * Records the Anthropic batch id of an intent still `submitting`, and only then: an intent another build has
   * already given up (failed, its requests sent again) stays given up. False when it was no longer submitting.
   */
  async recordSubmitted(id: string, providerBatchId: string, counts?: NarrativeBatch['counts']): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(NarrativeBatch)
      .update({ id, status: BatchStatus.Submitting }, { providerBatchId, status: BatchStatus.InProgress, ...(counts ? { counts } : {}) });
    return (result.affected ?? 0) > 0;
  }

  /** A batch the API refused or that was abandoned: its pending requests fail (and are sent again later). */
  failBatch(id: string, error: string): Promise<void> {
    return this.dataSource.transaction(async (m) => {
      await m.getRepository(NarrativeBatch).update({ id }, { status: BatchStatus.Failed, error });
      await m.getRepository(NarrativeBatchItem).update({ batchId: id, status: BatchItemStatus.Pending }, { status: BatchItemStatus.Failed, error });
    });
  }

  /** Every Anthropic batch id recorded (a batch found at Anthropic is matched among the others only). */
  async providerBatchIds(): Promise<Set<string>> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT provider_batch_id AS id FROM narrative_batches WHERE provider_batch_id IS NOT NULL`,
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Batches of a week still submitting or in progress, oldest first. */
  openBatches(weekStart: Date): Promise<NarrativeBatch[]> {
    return this.dataSource
      .getRepository(NarrativeBatch)
      .find({ where: { weekStart, status: In([BatchStatus.Submitting, BatchStatus.InProgress]) }, order: { submittedAt: 'ASC' } });
  }

  batchItems(batchId: string): Promise<NarrativeBatchItem[]> {
    return this.dataSource.getRepository(NarrativeBatchItem).find({ where: { batchId }, order: { customId: 'ASC' } });
  }

  async markBatchItem(key: { batchId: string; customId: string }, status: BatchItemStatus, error: string | null): Promise<void> {
    await this.dataSource.getRepository(NarrativeBatchItem).update({ ...key, status: BatchItemStatus.Pending }, { status, error });
  }

  /** Storylines with a request waiting in an open batch (not to be sent again meanwhile). */
  async storylinesInOpenBatches(): Promise<Set<string>> {
    const rows: Array<{ storyline_id: string }> = await this.dataSource.query(
      `SELECT DISTINCT i.storyline_id FROM narrative_batch_items i JOIN narrative_batches b ON b.id = i.batch_id
       WHERE i.status = $1 AND b.status IN ($2, $3)`,
      [BatchItemStatus.Pending, BatchStatus.Submitting, BatchStatus.InProgress],
    );
    return new Set(rows.map((r) => r.storyline_id));
  }

  /** When the newest version of a storyline's narrative was written (null without one). */
  async lastVersionAt(storylineId: string): Promise<Date | null> {
    const [row] = await this.dataSource.query(
      `SELECT max(v.created_at) AS at FROM narrative_versions v JOIN narratives n ON n.id = v.narrative_id WHERE n.storyline_id = $1`,
      [storylineId],
    );
    return row?.at ? new Date(row.at) : null;
  }
}
