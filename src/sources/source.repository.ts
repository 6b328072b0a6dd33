import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { Source, SourceHostBackoff } from './source.entity';
import { PollStatus, SourcePoll } from './source-poll.entity';

export type SourceDefinition = Pick<Source, 'slug' | 'name' | 'platform' | 'kind' | 'location' | 'beatSlugs'> & { intervalSeconds?: number };

export interface PollRecord {
  status: PollStatus;
  itemsSeen: number;
  itemsNew: number;
  itemsUpdated: number;
  itemsDuplicate: number;
  itemsInvalid: number;
  itemsOverCap: number;
  httpStatus: number | null;
  responseMs: number | null;
  notModified: boolean;
  rejected: Array<{ index: number; reason: string }>;
  error: string | null;
}

/** A successful poll: its row in `source_polls` and what its source keeps of it. */
export interface PollSuccess {
  sourceId: string;
  startedAt: Date;
  finishedAt: Date;
  record: PollRecord;
  lastItems: number;
  lastResponseMs: number | null;
  etag: string | null;
  lastModified: string | null;
  nextPollAt: Date;
}

@Injectable()
export class SourceRepository {
  private readonly sources: Repository<Source>;
  private readonly polls: Repository<SourcePoll>;
  private readonly backoffs: Repository<SourceHostBackoff>;

  constructor(private readonly dataSource: DataSource) {
    this.sources = dataSource.getRepository(Source);
    this.polls = dataSource.getRepository(SourcePoll);
    this.backoffs = dataSource.getRepository(SourceHostBackoff);
  }

  /** Demo and manifest sources: created or updated by slug. */
  async upsert(definitions: SourceDefinition[]): Promise<void> {
    if (definitions.length === 0) return;
    await this.sources.upsert(
      definitions.map((d) => ({ ...d, enabled: true })),
      { conflictPaths: ['slug'], skipUpdateIfNoValuesChanged: true },
    );
  }

  async create(definition: SourceDefinition & { intervalSeconds: number }, now: Date): Promise<Source> {
    return this.sources.save(this.sources.create({ ...definition, enabled: true, nextPollAt: now, consecutiveFailures: 0 }));
  }

  /** `m`: inside a caller's transaction. */
  async update(id: string, changes: Partial<Source>, m?: EntityManager): Promise<void> {
    await (m ? m.getRepository(Source) : this.sources).update({ id }, changes);
  }

  async remove(id: string): Promise<void> {
    await this.sources.delete({ id });
  }

  getById(id: string): Promise<Source | null> {
    return this.sources.findOneBy({ id });
  }

  getBySlug(slug: string): Promise<Source | null> {
    return this.sources.findOneBy({ slug });
  }

  findByKindAndTarget(kind: string, location: string): Promise<Source | null> {
    return this.sources.findOneBy({ kind: kind as Source['kind'], location });
  }

  slugsStartingWith(prefix: string): Promise<Source[]> {
    return this.sources
      .createQueryBuilder('s')
      .where('s.slug LIKE :p', { p: `${prefix.replace(/[%_\\]/g, '\\$&')}%` })
      .getMany();
  }

  listEnabled(): Promise<Source[]> {
    return this.sources.find({ where: { enabled: true }, order: { slug: 'ASC' } });
  }

  listAll(): Promise<Source[]> {
    return this.sources.find({ order: { slug: 'ASC' } });
  }

  async countByStatus(): Promise<Array<{ status: string; count: number }>> {
    const rows: Array<{ status: string; n: string }> = await this.sources.query(
      `SELECT CASE WHEN NOT enabled THEN 'paused' WHEN consecutive_failures > 0 THEN 'failing' ELSE 'active' END AS status, count(*) AS n FROM sources GROUP BY 1`,
    );
    return ['active', 'failing', 'paused'].map((status) => ({ status, count: Number(rows.find((r) => r.status === status)?.n ?? 0) }));
  }

  failing(): Promise<Source[]> {
    return this.sources.createQueryBuilder('s').where('s.consecutive_failures > 0').orderBy('s.slug').limit(500).getMany();
  }

  getMany(ids: string[]): Promise<Source[]> {
    return ids.length ? this.sources.find({ where: { id: In(ids) }, order: { slug: 'ASC' } }) : Promise.resolve([]);
  }

  /**
   * Claims up to `limit` enabled sources that are due, for `leaseSeconds`: `FOR UPDATE SKIP LOCKED` so that
   * instances polling at the same moment take different sources, and a lease so a crashed poller's sources
   * come back once it expires.
   */
  async claimDue(input: { now: Date; limit: number; leaseSeconds: number; onlyIds?: string[] }): Promise<Source[]> {
    return this.dataSource.transaction(async (m) => {
      const params: unknown[] = [input.now, input.limit];
      let extra = `AND next_poll_at <= $1`;
      if (input.onlyIds) {
        params.push(input.onlyIds);
        extra = `AND id = ANY($3::uuid[])`;
      }
      const rows: Array<{ id: string }> = await m.query(
        `SELECT id FROM sources WHERE enabled ${extra} AND (lease_until IS NULL OR lease_until < $1)
         ORDER BY next_poll_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        params,
      );
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.id);
      await m.query(`UPDATE sources SET lease_until = $1 WHERE id = ANY($2::uuid[])`, [new Date(input.now.getTime() + input.leaseSeconds * 1000), ids]);
      return m.getRepository(Source).find({ where: { id: In(ids) }, order: { nextPollAt: 'ASC' } });
    });
  }

  /** `m`: inside a caller's transaction. */
  async savePoll(sourceId: string, startedAt: Date, finishedAt: Date, record: PollRecord, m?: EntityManager): Promise<void> {
    await (m ? m.getRepository(SourcePoll) : this.polls).insert({ sourceId, startedAt, finishedAt, ...record });
  }

  /**
   * Successful polls of several sources in one statement, inside the caller's transaction (with their records):
   * their `source_polls` rows, and each source's health (failures reset, lease released, next poll scheduled).
   */
  async saveSuccesses(m: EntityManager, polls: PollSuccess[]): Promise<void> {
    if (polls.length === 0) return;
    const r = polls.map((p) => p.record);
    await m.query(
      `WITH health AS (
         UPDATE sources s SET last_polled_at = u.finished_at, last_success_at = u.finished_at, last_error = NULL, consecutive_failures = 0,
           last_items = u.last_items, last_response_ms = u.last_response_ms, etag = u.etag, last_modified = u.last_modified, lease_until = NULL,
           next_poll_at = u.next_poll_at, updated_at = now()
         FROM unnest($1::uuid[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::timestamptz[])
           AS u(id, finished_at, last_items, last_response_ms, etag, last_modified, next_poll_at)
         WHERE s.id = u.id
       )
       INSERT INTO source_polls (source_id, started_at, finished_at, status, items_seen, items_new, items_updated, items_duplicate, items_invalid,
         items_over_cap, http_status, response_ms, not_modified, rejected, error)
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $9::text[], $10::int[], $11::int[], $12::int[], $13::int[], $14::int[],
         $15::int[], $16::int[], $17::int[], $18::boolean[], $19::jsonb[], $20::text[])`,
      [
        polls.map((p) => p.sourceId),
        polls.map((p) => p.startedAt),
        polls.map((p) => p.finishedAt),
        polls.map((p) => p.lastItems),
        polls.map((p) => p.lastResponseMs),
        polls.map((p) => p.etag),
        polls.map((p) => p.lastModified),
        polls.map((p) => p.nextPollAt),
        r.map((x) => x.status),
        r.map((x) => x.itemsSeen),
        r.map((x) => x.itemsNew),
        r.map((x) => x.itemsUpdated),
        r.map((x) => x.itemsDuplicate),
        r.map((x) => x.itemsInvalid),
        r.map((x) => x.itemsOverCap),
        r.map((x) => x.httpStatus),
        r.map((x) => x.responseMs),
        r.map((x) => x.notModified),
        r.map((x) => JSON.stringify(x.rejected)),
        r.map((x) => x.error),
      ],
    );
  }

  recentPolls(sourceId: string, limit: number): Promise<SourcePoll[]> {
    return this.polls.find({ where: { sourceId }, order: { startedAt: 'DESC' }, take: limit });
  }

  async hostBackoff(host: string, now: Date): Promise<SourceHostBackoff | null> {
    const row = await this.backoffs.findOneBy({ host });
    return row && row.until > now ? row : null;
  }

  /** Every host backoff still running at `now`, by host. */
  async activeHostBackoffs(now: Date): Promise<Map<string, SourceHostBackoff>> {
    const rows = await this.backoffs.createQueryBuilder('b').where('b.until > :now', { now }).getMany();
    return new Map(rows.map((r) => [r.host, r]));
  }

  /** Extends (never shortens) a host's backoff. */
  async backOffHost(host: string, until: Date, reason: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO source_host_backoffs (host, until, reason) VALUES ($1, $2, $3)
       ON CONFLICT (host) DO UPDATE SET until = GREATEST(source_host_backoffs.until, EXCLUDED.until), reason = EXCLUDED.reason, updated_at = now()`,
      [host, until, reason],
    );
  }
}
