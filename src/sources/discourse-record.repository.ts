import { Injectable } from '@nestjs/common';
import { Between, DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { DiscourseRecord } from './discourse-record.entity';
import { LSH_BANDS, NEAR_DUPLICATE_SIMILARITY, similarity } from './parsing/fingerprint';

export type NewRecord = Omit<DiscourseRecord, 'id' | 'createdAt' | 'updatedAt' | 'engagement' | 'raw' | 'textFingerprint' | 'textMinhash' | 'textBands'> & {
  engagement: Record<string, number>;
  /** The raw payload as JSON text (serialised in the parse worker). */
  rawJson: string | null;
  textFingerprint: string | null;
  textMinhash: number[] | null;
  /** LSH band keys of `textMinhash`, in band order (empty for short texts). */
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
  'text_bands',
] as const;
/** The columns' types, for json_to_recordset. */
const TYPES: Record<(typeof COLUMNS)[number], string> = {
  source_id: 'uuid',
  platform: 'text',
  external_id: 'text',
  url: 'text',
  canonical_url: 'text',
  title: 'text',
  author: 'text',
  text: 'text',
  published_at: 'timestamptz',
  engagement: 'jsonb',
  raw: 'jsonb',
  text_fingerprint: 'text',
  text_minhash: 'int[]',
  text_bands: 'int[]',
};
/**
 * Rows per transaction. PGlite has one session: while a transaction is open every other query (a page's) waits
 * for it. Pieces of this size keep each wait short; on a server they are still few statements (a poll is at most SOURCES_MAX_ITEMS_PER_POLL rows).
 */
export const ROWS_PER_TRANSACTION = 250;

/** One source's rows, written with other sources' pieces in one transaction (`upsertPieces`). */
export interface RecordPiece {
  sourceId: string;
  /** Unique by provider id and by canonical URL (`uniqueRows`). */
  rows: NewRecord[];
}

export const emptyOutcome = (): UpsertOutcome => ({ inserted: 0, updated: 0, duplicate: 0, nearDuplicate: 0, unchanged: 0 });

/** Adds `b` into `a`. */
export function addOutcome(a: UpsertOutcome, b: UpsertOutcome): UpsertOutcome {
  for (const key of Object.keys(a) as Array<keyof UpsertOutcome>) a[key] += b[key];
  return a;
}

/** One row per provider id and per canonical URL within a poll (the first wins); `duplicate` counts the rest. */
export function uniqueRows(rows: NewRecord[]): { rows: NewRecord[]; duplicate: number } {
  const byId = new Map<string, NewRecord>();
  const urls = new Set<string>();
  let duplicate = 0;
  for (const row of rows) {
    if (byId.has(row.externalId) || urls.has(row.canonicalUrl)) {
      duplicate++;
      continue;
    }
    byId.set(row.externalId, row);
    urls.add(row.canonicalUrl);
  }
  return { rows: [...byId.values()], duplicate };
}

type Known = { id: string; source_id: string; external_id: string; title: string; text: string; author: string; engagement: Record<string, number> };
type Found = Known & { kind: 'known' | 'url' | 'print' | 'band'; key: string | null; text_bands: number[] | null; text_minhash: number[] | null };
/** What the records already stored (and those written earlier in the transaction) hold, by key, with the record's id. */
type Taken<K> = Map<K, string[]>;
/** Rows written earlier in the same transaction: no stored record of any piece is theirs. */
const IN_TRANSACTION = '';
const pairKey = (sourceId: string, externalId: string) => `${sourceId}\u0000${externalId}`;

function take<K>(map: Taken<K>, key: K, id: string): void {
  const list = map.get(key);
  if (list) list.push(id);
  else map.set(key, [id]);
}

/** Whether `key` is held by a record other than `own` (the piece's known records). */
function takenByOther<K>(map: Taken<K>, key: K, own: ReadonlySet<string>): boolean {
  return (map.get(key) ?? []).some((id) => !own.has(id));
}

@Injectable()
export class DiscourseRecordRepository {
  private readonly records: Repository<DiscourseRecord>;

  constructor(private readonly dataSource: DataSource) {
    this.records = dataSource.getRepository(DiscourseRecord);
  }

  /**
   * Upserts the pieces of several sources (in order) in a few set-based statements inside the caller's
   * transaction `m`, whatever the number of pieces: one lookup, one insert (with the band keys), one update of
   * changed records. A record known by (source, provider id) is updated when its text, title, author or
   * engagement changed (edited posts, fresh scores); one whose canonical URL or exact text another record already
   * has, or whose text is nearly another record's (MinHash similarity at or over NEAR_DUPLICATE_SIMILARITY: a
   * syndicated copy with small edits), is a duplicate — of a stored record, or of one an earlier piece (or row)
   * of the same call writes; the rest are inserted. One outcome per piece.
   */
  async upsertPieces(m: EntityManager, pieces: RecordPiece[]): Promise<UpsertOutcome[]> {
    const outcomes = pieces.map(emptyOutcome);
    const all = pieces.flatMap((p) => p.rows);
    if (all.length === 0) return outcomes;
    // Look-up and insert must not interleave with another writer's (several instances may poll at once): two
    // near-duplicates written by overlapping transactions would not see each other's bands or URLs, and both would
    // be kept. Record writes queue on one transaction-scoped lock. (PGlite has one session, so it serialised them
    // already; in one instance the RecordWriter writes one transaction at a time anyway.)
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('broadsheet:discourse-records'))`);
    // One round trip for every lookup: the records with these (source, provider id) pairs, and any record with one
    // of the canonical URLs, exact fingerprints or LSH bands (near-duplicate candidates: band k of a row against the
    // index of band k) of the rows. A piece does not count its own known records as duplicates of themselves: each
    // hit carries its record's id.
    const banded = all.filter((r) => r.textMinhash !== null && r.bands.length === LSH_BANDS);
    const bandTests = Array.from({ length: LSH_BANDS }, (_, k) => `text_bands[${k + 1}] = ANY($${k + 5}::int[])`).join(' OR ');
    const found: Found[] = await m.query(
      `WITH p AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS p(source_id, external_id))
       SELECT 'known' AS kind, r.id, r.source_id, r.external_id, r.title, r.text, r.author, r.engagement, NULL::text AS key, NULL::int[] AS text_bands, NULL::int[] AS text_minhash
         FROM discourse_records r JOIN p ON r.source_id = p.source_id AND r.external_id = p.external_id
       UNION ALL SELECT 'url', id, NULL, NULL, NULL, NULL, NULL, NULL, canonical_url, NULL, NULL
         FROM discourse_records WHERE canonical_url = ANY($3::text[])
       UNION ALL SELECT 'print', id, NULL, NULL, NULL, NULL, NULL, NULL, text_fingerprint, NULL, NULL
         FROM discourse_records WHERE text_fingerprint = ANY($4::text[])
       UNION ALL SELECT 'band', id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, text_bands, text_minhash
         FROM discourse_records WHERE text_bands IS NOT NULL AND text_minhash IS NOT NULL AND (${banded.length ? bandTests : 'false'})`,
      [
        all.map((r) => r.sourceId),
        all.map((r) => r.externalId),
        all.map((r) => r.canonicalUrl),
        all.map((r) => r.textFingerprint).filter((f): f is string => f !== null),
        ...(banded.length ? Array.from({ length: LSH_BANDS }, (_, k) => [...new Set(banded.map((r) => r.bands[k]))]) : []),
      ],
    );
    const known = new Map<string, Known>();
    const urls: Taken<string> = new Map();
    const prints: Taken<string> = new Map();
    const byBand = new Map<number, Array<{ id: string; minhash: number[] }>>();
    const remember = (band: number, id: string, minhash: number[]) => {
      const list = byBand.get(band);
      if (list) list.push({ id, minhash });
      else byBand.set(band, [{ id, minhash }]);
    };
    for (const f of found) {
      if (f.kind === 'known') known.set(pairKey(f.source_id, f.external_id), f);
      else if (f.kind === 'url' && f.key !== null) take(urls, f.key, f.id);
      else if (f.kind === 'print' && f.key !== null) take(prints, f.key, f.id);
      else if (f.kind === 'band' && f.text_bands && f.text_minhash) for (const band of f.text_bands) remember(band, f.id, f.text_minhash);
    }
    const keepText = (row: NewRecord) => {
      if (row.textFingerprint) take(prints, row.textFingerprint, IN_TRANSACTION);
      if (row.textMinhash) for (const band of row.bands) remember(band, IN_TRANSACTION, row.textMinhash);
    };
    const changed: Array<NewRecord & { id: string }> = [];
    const changedPiece: number[] = [];
    const insert: NewRecord[] = [];
    const insertedBy = new Map<string, number>();
    pieces.forEach((piece, p) => {
      const outcome = outcomes[p];
      const mine = piece.rows.map((row) => known.get(pairKey(row.sourceId, row.externalId)));
      const own = new Set(mine.filter((k): k is Known => k !== undefined).map((k) => k.id));
      const fresh: NewRecord[] = [];
      piece.rows.forEach((row, i) => {
        const k = mine[i];
        if (!k) return void fresh.push(row);
        // A known record's text counts as taken for the fresh rows of this piece and the pieces after it.
        keepText(row);
        if (k.title !== row.title || k.text !== row.text || k.author !== row.author || !sameFigures(k.engagement, row.engagement)) {
          changed.push({ ...row, id: k.id });
          changedPiece.push(p);
        } else outcome.unchanged++;
      });
      const nearlyKnown = (row: NewRecord): boolean =>
        row.textMinhash !== null &&
        row.bands.some((band) =>
          (byBand.get(band) ?? []).some((other) => !own.has(other.id) && similarity(row.textMinhash as number[], other.minhash) >= NEAR_DUPLICATE_SIMILARITY),
        );
      for (const row of fresh) {
        if (takenByOther(urls, row.canonicalUrl, own) || (row.textFingerprint && takenByOther(prints, row.textFingerprint, own))) outcome.duplicate++;
        else if (nearlyKnown(row)) {
          outcome.duplicate++;
          outcome.nearDuplicate++;
        } else {
          insert.push(row);
          const key = pairKey(row.sourceId, row.externalId);
          if (!insertedBy.has(key)) insertedBy.set(key, p);
          take(urls, row.canonicalUrl, IN_TRANSACTION);
          keepText(row);
        }
      }
    });
    const updated = await this.updateChanged(m, changed);
    if (updated) for (const p of changedPiece) outcomes[p].updated++;
    if (insert.length === 0) return outcomes;
    // ON CONFLICT DO NOTHING: another instance may have inserted the same URL since the check (then the row counts
    // as a duplicate).
    const written: Array<{ source_id: string; external_id: string }> = await m.query(
      `INSERT INTO discourse_records (${COLUMNS.join(', ')})
       SELECT ${COLUMNS.map((c) => `u.${c}`).join(', ')}
       FROM json_to_recordset($1::json) AS u(${COLUMNS.map((c) => `${c} ${TYPES[c]}`).join(', ')})
       ON CONFLICT DO NOTHING RETURNING source_id, external_id`,
      [
        rowsJson(insert, (r) => ({
          source_id: r.sourceId,
          platform: r.platform,
          external_id: r.externalId,
          url: r.url,
          canonical_url: r.canonicalUrl,
          title: r.title,
          author: r.author,
          text: r.text,
          published_at: r.publishedAt,
          engagement: r.engagement,
          text_fingerprint: r.textFingerprint,
          text_minhash: r.textMinhash,
          text_bands: bandsOf(r),
        })),
      ],
    );
    const planned = pieces.map(() => 0);
    for (const row of insert) planned[insertedBy.get(pairKey(row.sourceId, row.externalId)) as number]++;
    for (const w of written) outcomes[insertedBy.get(pairKey(w.source_id, w.external_id)) as number].inserted++;
    planned.forEach((count, p) => (outcomes[p].duplicate += count - outcomes[p].inserted));
    return outcomes;
  }

  private async updateChanged(m: EntityManager, rows: Array<NewRecord & { id: string }>): Promise<number> {
    if (rows.length === 0) return 0;
    await m.query(
      `UPDATE discourse_records r SET title = u.title, text = u.text, author = u.author, engagement = u.engagement, raw = u.raw,
         text_fingerprint = u.text_fingerprint, text_minhash = u.text_minhash, text_bands = u.text_bands,
         published_at = CASE WHEN u.dated THEN u.published_at ELSE r.published_at END, updated_at = now()
       FROM json_to_recordset($1::json)
         AS u(id uuid, title text, text text, author text, engagement jsonb, raw jsonb, text_fingerprint text, published_at timestamptz, dated boolean,
              text_minhash int[], text_bands int[])
       WHERE r.id = u.id`,
      [
        rowsJson(rows, (r) => ({
          id: r.id,
          title: r.title,
          text: r.text,
          author: r.author,
          engagement: r.engagement,
          text_fingerprint: r.textFingerprint,
          published_at: r.publishedAt,
          dated: r.dated,
          text_minhash: r.textMinhash,
          text_bands: bandsOf(r),
        })),
      ],
    );
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

/** A row's band keys for `text_bands` (null without a signature: nothing to find it by). */
function bandsOf(row: NewRecord): number[] | null {
  return row.textMinhash && row.bands.length === LSH_BANDS ? row.bands : null;
}

/**
 * A lone UTF-16 surrogate as JSON.stringify writes it (`\udXXX`, lowercase; a valid pair is written as is),
 * after an even number of backslashes (an odd one would make it the text `\udXXX` of an escaped backslash).
 */
const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/**
 * Rows as one JSON array for json_to_recordset: one text parameter that JSON.stringify builds natively, instead of
 * a text array per column that `pg` escapes element by element on the event loop (about a tenth of the main
 * thread's time during an ingest). Each row's raw payload, already JSON, is spliced in as is (not re-escaped).
 * PostgreSQL refuses a JSON escape of a lone surrogate (which string slicing can leave, e.g. in a cut raw
 * payload); it becomes U+FFFD, as `pg`'s UTF-8 encoding of such a string did.
 */
function rowsJson<R extends NewRecord>(rows: R[], fields: (row: R) => Record<string, unknown>): string {
  const parts = rows.map((row) => `${JSON.stringify(fields(row)).slice(0, -1)},"raw":${row.rawJson ?? 'null'}}`);
  return `[${parts.join(',')}]`.replace(LONE_SURROGATE_ESCAPE, '$1\\ufffd');
}
