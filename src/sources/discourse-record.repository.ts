import { Injectable } from '@nestjs/common';
import { Between, DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { DiscourseRecord } from './discourse-record.entity';

export type NewRecord = Omit<DiscourseRecord, 'id' | 'createdAt' | 'updatedAt' | 'engagement' | 'raw' | 'textFingerprint'> & {
  engagement: Record<string, number>;
  raw: unknown;
  textFingerprint: string | null;
  /** False when the item carried no date of its own: a known record then keeps its first-seen date. */
  dated: boolean;
};

export interface UpsertOutcome {
  inserted: number;
  updated: number;
  /** Known under another source's record (same canonical URL) or the same text under another URL. */
  duplicate: number;
  /** Known and unchanged. */
  unchanged: number;
}

const COLUMNS = ['source_id', 'platform', 'external_id', 'url', 'canonical_url', 'title', 'author', 'text', 'published_at', 'engagement', 'raw', 'text_fingerprint'] as const;
const TYPES = ['uuid', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'jsonb', 'jsonb', 'text'];

@Injectable()
export class DiscourseRecordRepository {
  private readonly records: Repository<DiscourseRecord>;

  constructor(private readonly dataSource: DataSource) {
    this.records = dataSource.getRepository(DiscourseRecord);
  }

  /**
   * Upserts one poll's records in a few set-based statements (one transaction, whatever the number of items):
   * a record known by (source, provider id) is updated when its text, title or engagement changed (edited posts,
   * fresh scores); one whose canonical URL or text fingerprint another record already has is a duplicate;
   * the rest are inserted. Rows of one source only.
   */
  upsertForSource(sourceId: string, rows: NewRecord[]): Promise<UpsertOutcome> {
    if (rows.length === 0) return Promise.resolve({ inserted: 0, updated: 0, duplicate: 0, unchanged: 0 });
    return this.dataSource.transaction(async (m) => {
      // One row per provider id and per canonical URL within the batch (the first wins).
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
      const batch = [...byId.values()];
      const known: Array<{ id: string; external_id: string; title: string; text: string; author: string; engagement: Record<string, number> }> = await m.query(
        `SELECT id, external_id, title, text, author, engagement FROM discourse_records WHERE source_id = $1 AND external_id = ANY($2::text[])`,
        [sourceId, batch.map((r) => r.externalId)],
      );
      const knownById = new Map(known.map((k) => [k.external_id, k]));
      const changed: Array<NewRecord & { id: string }> = [];
      let unchanged = 0;
      const fresh: NewRecord[] = [];
      for (const row of batch) {
        const k = knownById.get(row.externalId);
        if (!k) fresh.push(row);
        else if (k.title !== row.title || k.text !== row.text || k.author !== row.author || !sameFigures(k.engagement, row.engagement)) changed.push({ ...row, id: k.id });
        else unchanged++;
      }
      const updated = await this.updateChanged(m, changed);
      if (fresh.length === 0) return { inserted: 0, updated, duplicate, unchanged };
      // Cross-source duplicates: same canonical URL, or the same (long enough) text under another URL.
      const taken: Array<{ canonical_url: string | null; text_fingerprint: string | null }> = await m.query(
        `SELECT canonical_url, NULL AS text_fingerprint FROM discourse_records WHERE canonical_url = ANY($1::text[])
         UNION ALL SELECT NULL, text_fingerprint FROM discourse_records WHERE text_fingerprint = ANY($2::text[])`,
        [fresh.map((r) => r.canonicalUrl), fresh.map((r) => r.textFingerprint).filter((f): f is string => f !== null)],
      );
      const takenUrls = new Set(taken.map((t) => t.canonical_url).filter(Boolean));
      const takenPrints = new Set(taken.map((t) => t.text_fingerprint).filter(Boolean));
      const insert: NewRecord[] = [];
      for (const row of fresh) {
        if (takenUrls.has(row.canonicalUrl) || (row.textFingerprint && takenPrints.has(row.textFingerprint))) duplicate++;
        else {
          insert.push(row);
          if (row.textFingerprint) takenPrints.add(row.textFingerprint);
        }
      }
      let inserted = 0;
      for (let i = 0; i < insert.length; i += 1000) {
        const chunk = insert.slice(i, i + 1000);
        // ON CONFLICT DO NOTHING: another instance may have inserted the same URL since the check.
        const result: unknown[] = await m.query(
          `INSERT INTO discourse_records (${COLUMNS.join(', ')})
           SELECT * FROM unnest(${COLUMNS.map((_, n) => `$${n + 1}::${TYPES[n]}[]`).join(', ')})
           ON CONFLICT DO NOTHING RETURNING id`,
          columnArrays(chunk),
        );
        inserted += result.length;
        duplicate += chunk.length - result.length;
      }
      return { inserted, updated, duplicate, unchanged };
    });
  }

  private async updateChanged(m: EntityManager, rows: Array<NewRecord & { id: string }>): Promise<number> {
    if (rows.length === 0) return 0;
    await m.query(
      `UPDATE discourse_records r SET title = u.title, text = u.text, author = u.author, engagement = u.engagement, raw = u.raw,
         text_fingerprint = u.text_fingerprint, published_at = CASE WHEN u.dated THEN u.published_at ELSE r.published_at END, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::timestamptz[], $9::boolean[])
         AS u(id, title, text, author, engagement, raw, text_fingerprint, published_at, dated)
       WHERE r.id = u.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.title),
        rows.map((r) => r.text),
        rows.map((r) => r.author),
        rows.map((r) => JSON.stringify(r.engagement)),
        rows.map((r) => (r.raw === undefined ? null : JSON.stringify(r.raw))),
        rows.map((r) => r.textFingerprint),
        rows.map((r) => r.publishedAt),
        rows.map((r) => r.dated),
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
    rows.map((r) => (r.raw === undefined ? null : JSON.stringify(r.raw))),
    rows.map((r) => r.textFingerprint),
  ];
}
