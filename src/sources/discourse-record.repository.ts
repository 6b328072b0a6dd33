import { Injectable } from '@nestjs/common';
import { Between, DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { DiscourseRecord } from './discourse-record.entity';
import { NEAR_DUPLICATE_SIMILARITY, similarity } from './parsing/fingerprint';

export type NewRecord = Omit<DiscourseRecord, 'id' | 'createdAt' | 'updatedAt' | 'engagement' | 'raw' | 'textFingerprint' | 'textMinhash'> & {
  engagement: Record<string, number>;
  /** The raw payload as JSON text (serialised in the parse worker). */
  rawJson: string | null;
  textFingerprint: string | null;
  textMinhash: number[] | null;
  /** LSH band keys of `textMinhash` (empty for short texts). */
  bands: number[];
  /** False when the item carried no date of its own: a known record then keeps its first-seen date. */
  dated: boolean;
};

export interface UpsertOutcome {
  inserted: number;
  updated: number;
  /** Known under another record: same canonical URL, same text under another URL, or nearly the same text. */
  duplicate: number;
  /** Of `duplicate`: nearly the same text (small edits) as a record already kept. */
  nearDuplicate: number;
  /** Known and unchanged. */
  unchanged: number;
}

const COLUMNS = [
  'source_id',
  'platform',
  'external_id',
  'url',
  'canonical_url',
  'title',
  'author',
  'text',
  'published_at',
  'engagement',
  'raw',
  'text_fingerprint',
  'text_minhash',
] as const;
const TYPES = ['uuid', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'jsonb', 'jsonb', 'text', 'text'];
/**
 * Rows per transaction. PGlite runs in this process and has one session: while a transaction is open every other
 * query (a page's) waits for it, and each statement runs on the event loop. Pieces of this size keep each wait
 * short; on a server they are still few statements (a poll is at most SOURCES_MAX_ITEMS_PER_POLL rows).
 */
const ROWS_PER_TRANSACTION = 250;

type Known = { id: string; external_id: string; title: string; text: string; author: string; engagement: Record<string, number> };

@Injectable()
export class DiscourseRecordRepository {
  private readonly records: Repository<DiscourseRecord>;

  constructor(private readonly dataSource: DataSource) {
    this.records = dataSource.getRepository(DiscourseRecord);
  }

  /**
   * Upserts one poll's records in a few set-based statements per piece of ROWS_PER_TRANSACTION rows: a record
   * known by (source, provider id) is updated when its text, title, author or engagement changed (edited posts,
   * fresh scores); one whose canonical URL or exact text another record already has, or whose text is nearly
   * another record's (MinHash similarity at or over NEAR_DUPLICATE_SIMILARITY: a syndicated copy with small
   * edits), is a duplicate; the rest are inserted. Rows of one source only.
   */
  async upsertForSource(
    sourceId: string,
    rows: NewRecord[],
    options: { finish?: (m: EntityManager, outcome: UpsertOutcome) => Promise<void> } = {},
  ): Promise<UpsertOutcome> {
    const total: UpsertOutcome = { inserted: 0, updated: 0, duplicate: 0, nearDuplicate: 0, unchanged: 0 };
    // One row per provider id and per canonical URL within the poll (the first wins).
    const byId = new Map<string, NewRecord>();
    const urls = new Set<string>();
    for (const row of rows) {
      if (byId.has(row.externalId) || urls.has(row.canonicalUrl)) {
        total.duplicate++;
        continue;
      }
      byId.set(row.externalId, row);
      urls.add(row.canonicalUrl);
    }
    const batch = [...byId.values()];
    // `finish` (the poll's own bookkeeping) commits with the last piece: one commit for a poll of up to 250 items
    // (and a transaction of its own when there are no rows).
    for (let i = 0; i === 0 || i < batch.length; i += ROWS_PER_TRANSACTION) {
      const last = i + ROWS_PER_TRANSACTION >= batch.length;
      await this.dataSource.transaction(async (m) => {
        const piece = await this.upsertPiece(m, sourceId, batch.slice(i, i + ROWS_PER_TRANSACTION));
        for (const key of Object.keys(total) as Array<keyof UpsertOutcome>) total[key] += piece[key];
        if (last && options.finish) await options.finish(m, total);
      });
    }
    return total;
  }

  private async upsertPiece(m: EntityManager, sourceId: string, batch: NewRecord[]): Promise<UpsertOutcome> {
    if (batch.length === 0) return { inserted: 0, updated: 0, duplicate: 0, nearDuplicate: 0, unchanged: 0 };
    // Look-up and insert must not interleave with another poll's (several sources are polled at once, by several
    // instances): two near-duplicates written by overlapping transactions would not see each other's bands or URLs,
    // and both would be kept. Record writes queue on one transaction-scoped lock; fetching and parsing stay parallel.
    // (PGlite has one session, so it serialised them already.)
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('broadsheet:discourse-records'))`);
    // One round trip for every lookup: this source's records with these ids, and any other record with one of the
    // canonical URLs, exact fingerprints or LSH bands (near-duplicate candidates) of the piece.
    const ids = batch.map((r) => r.externalId);
    const found: Array<Known & { kind: 'known' | 'url' | 'print' | 'band'; key: string | null; band: number | null; text_minhash: number[] | null }> =
      await m.query(
        `SELECT 'known' AS kind, id, external_id, title, text, author, engagement, NULL::text AS key, NULL::int AS band, NULL::int[] AS text_minhash
         FROM discourse_records WHERE source_id = $1 AND external_id = ANY($2::text[])
       UNION ALL SELECT 'url', NULL, NULL, NULL, NULL, NULL, NULL, canonical_url, NULL, NULL
         FROM discourse_records WHERE canonical_url = ANY($3::text[]) AND NOT (source_id = $1 AND external_id = ANY($2::text[]))
       UNION ALL SELECT 'print', NULL, NULL, NULL, NULL, NULL, NULL, text_fingerprint, NULL, NULL
         FROM discourse_records WHERE text_fingerprint = ANY($4::text[]) AND NOT (source_id = $1 AND external_id = ANY($2::text[]))
       UNION ALL SELECT 'band', NULL, NULL, NULL, NULL, NULL, NULL, NULL, b.band, r.text_minhash
         FROM discourse_record_bands b JOIN discourse_records r ON r.id = b.record_id
         WHERE b.band = ANY($5::int[]) AND r.text_minhash IS NOT NULL AND NOT (r.source_id = $1 AND r.external_id = ANY($2::text[]))`,
        [
          sourceId,
          ids,
          batch.map((r) => r.canonicalUrl),
          batch.map((r) => r.textFingerprint).filter((f): f is string => f !== null),
          [...new Set(batch.flatMap((r) => r.bands))],
        ],
      );
    const knownById = new Map(found.filter((f) => f.kind === 'known').map((k) => [k.external_id, k]));
    const takenUrls = new Set(found.filter((f) => f.kind === 'url').map((f) => f.key));
    const takenPrints = new Set(found.filter((f) => f.kind === 'print').map((f) => f.key));
    const byBand = new Map<number, number[][]>();
    const remember = (band: number, signature: number[]) => {
      const list = byBand.get(band);
      if (list) list.push(signature);
      else byBand.set(band, [signature]);
    };
    for (const f of found) if (f.kind === 'band' && f.band !== null && f.text_minhash) remember(f.band, f.text_minhash);
    const keep = (row: NewRecord) => {
      if (row.textFingerprint) takenPrints.add(row.textFingerprint);
      if (row.textMinhash) for (const band of row.bands) remember(band, row.textMinhash);
    };
    const changed: Array<NewRecord & { id: string }> = [];
    let unchanged = 0;
    const fresh: NewRecord[] = [];
    for (const row of batch) {
      const k = knownById.get(row.externalId);
      if (!k) fresh.push(row);
      else {
        // A known record's text counts as taken for the fresh rows of the same piece.
        keep(row);
        if (k.title !== row.title || k.text !== row.text || k.author !== row.author || !sameFigures(k.engagement, row.engagement))
          changed.push({ ...row, id: k.id });
        else unchanged++;
      }
    }
    const updated = await this.updateChanged(m, changed);
    const nearlyKnown = (row: NewRecord): boolean =>
      row.textMinhash !== null &&
      row.bands.some((band) => (byBand.get(band) ?? []).some((other) => similarity(row.textMinhash as number[], other) >= NEAR_DUPLICATE_SIMILARITY));
    const insert: NewRecord[] = [];
    let duplicate = 0;
    let nearDuplicate = 0;
    for (const row of fresh) {
      if (takenUrls.has(row.canonicalUrl) || (row.textFingerprint && takenPrints.has(row.textFingerprint))) duplicate++;
      else if (nearlyKnown(row)) {
        duplicate++;
        nearDuplicate++;
      } else {
        insert.push(row);
        keep(row);
      }
    }
    if (insert.length === 0) return { inserted: 0, updated, duplicate, nearDuplicate, unchanged };
    // The records and their bands in one statement. ON CONFLICT DO NOTHING: another instance may have inserted
    // the same URL since the check.
    const bandIds: string[] = [];
    const bandKeys: number[] = [];
    for (const row of insert) {
      for (const band of new Set(row.bands)) {
        bandIds.push(row.externalId);
        bandKeys.push(band);
      }
    }
    const n = COLUMNS.length;
    const [{ inserted }]: Array<{ inserted: number }> = await m.query(
      `WITH ins AS (
         INSERT INTO discourse_records (${COLUMNS.join(', ')})
         SELECT ${COLUMNS.map((c) => (c === 'text_minhash' ? `CASE WHEN u.${c} IS NULL THEN NULL ELSE u.${c}::int[] END` : `u.${c}`)).join(', ')}
         FROM unnest(${COLUMNS.map((_, i) => `$${i + 1}::${TYPES[i]}[]`).join(', ')}) AS u(${COLUMNS.join(', ')})
         ON CONFLICT DO NOTHING RETURNING id, external_id
       ), bands AS (
         INSERT INTO discourse_record_bands (band, record_id)
         SELECT b.band, ins.id FROM unnest($${n + 1}::text[], $${n + 2}::int[]) AS b(external_id, band) JOIN ins ON ins.external_id = b.external_id
         ON CONFLICT DO NOTHING
       )
       SELECT count(*)::int AS inserted FROM ins`,
      [...columnArrays(insert), bandIds, bandKeys],
    );
    return { inserted, updated, duplicate: duplicate + insert.length - inserted, nearDuplicate, unchanged };
  }

  private async saveBands(m: EntityManager, rows: Array<{ id: string; bands: number[] }>): Promise<void> {
    const ids: string[] = [];
    const bands: number[] = [];
    for (const row of rows) {
      for (const band of new Set(row.bands)) {
        ids.push(row.id);
        bands.push(band);
      }
    }
    if (ids.length === 0) return;
    await m.query(`INSERT INTO discourse_record_bands (band, record_id) SELECT * FROM unnest($1::int[], $2::uuid[]) ON CONFLICT DO NOTHING`, [bands, ids]);
  }

  private async updateChanged(m: EntityManager, rows: Array<NewRecord & { id: string }>): Promise<number> {
    if (rows.length === 0) return 0;
    await m.query(
      `UPDATE discourse_records r SET title = u.title, text = u.text, author = u.author, engagement = u.engagement, raw = u.raw,
         text_fingerprint = u.text_fingerprint, text_minhash = CASE WHEN u.text_minhash IS NULL THEN NULL ELSE u.text_minhash::int[] END,
         published_at = CASE WHEN u.dated THEN u.published_at ELSE r.published_at END, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::timestamptz[], $9::boolean[], $10::text[])
         AS u(id, title, text, author, engagement, raw, text_fingerprint, published_at, dated, text_minhash)
       WHERE r.id = u.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.title),
        rows.map((r) => r.text),
        rows.map((r) => r.author),
        rows.map((r) => JSON.stringify(r.engagement)),
        rows.map((r) => r.rawJson),
        rows.map((r) => r.textFingerprint),
        rows.map((r) => r.publishedAt),
        rows.map((r) => r.dated),
        rows.map((r) => minhashLiteral(r.textMinhash)),
      ],
    );
    // An edited text has a new signature: its bands are replaced.
    await m.query(`DELETE FROM discourse_record_bands WHERE record_id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
    await this.saveBands(m, rows);
    return rows.length;
  }

  publishedBetween(from: Date, to: Date): Promise<DiscourseRecord[]> {
    return this.records.find({ where: { publishedAt: Between(from, new Date(to.getTime() - 1)) }, order: { publishedAt: 'ASC' } });
  }

  getByIds(ids: string[]): Promise<DiscourseRecord[]> {
    return ids.length ? this.records.findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  async latestPublishedAt(): Promise<Date | null> {
    const row = await this.records.createQueryBuilder('r').select('max(r.published_at)', 'max').getRawOne<{ max: Date | null }>();
    return row?.max ? new Date(row.max) : null;
  }

  count(): Promise<number> {
    return this.records.count();
  }

  async countBySource(): Promise<Map<string, number>> {
    const rows: Array<{ source_id: string; n: string }> = await this.records.query(`SELECT source_id, count(*) AS n FROM discourse_records GROUP BY source_id`);
    return new Map(rows.map((r) => [r.source_id, Number(r.n)]));
  }
}

function sameFigures(a: Record<string, number> | null, b: Record<string, number>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => (a as Record<string, number>)[k] === b[k]);
}

/** An int[] signature as a PostgreSQL array literal (a text element of the unnest: arrays of arrays must be rectangular). */
function minhashLiteral(minhash: number[] | null): string | null {
  return minhash ? `{${minhash.join(',')}}` : null;
}

function columnArrays(rows: NewRecord[]): unknown[] {
  return [
    rows.map((r) => r.sourceId),
    rows.map((r) => r.platform),
    rows.map((r) => r.externalId),
    rows.map((r) => r.url),
    rows.map((r) => r.canonicalUrl),
    rows.map((r) => r.title),
    rows.map((r) => r.author),
    rows.map((r) => r.text),
    rows.map((r) => r.publishedAt),
    rows.map((r) => JSON.stringify(r.engagement)),
    rows.map((r) => r.rawJson),
    rows.map((r) => r.textFingerprint),
    rows.map((r) => minhashLiteral(r.textMinhash)),
  ];
}
