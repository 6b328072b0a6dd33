import { Inject, Injectable } from '@nestjs/common';
import { generateOpml, parseOpml } from 'feedsmith';
import { Clock } from '../kernel/clock/clock';
import { APP_CONFIG } from '../kernel/config/config.module';
import { parseDuration, type AppConfig } from '../kernel/config/config';
import { DomainError, NotFoundError, ValidationError } from '../kernel/errors/domain-error';
import { adapterFor } from './adapters/source-adapter';
import { type DiscourseRecord } from './discourse-record.entity';
import { type DiscourseRecordView, type RecordWithBeats, type SourceDetail, type SourceTestResult, type SourceView } from './source-views';
import { DiscourseRecordRepository } from './discourse-record.repository';
import { SourcePoller, plainError, toRows, type PollSummary } from './source-poller';
import { SourceKind, type Source } from './source.entity';
import { SourceRepository, type SourceDefinition } from './source.repository';

export type { PollSummary } from './source-poller';
/** The kinds and platforms, for other modules (they may not import the entity). */
export { Platform, SourceKind } from './source.entity';

export type { DiscourseRecordView, RecordWithBeats, SourceDetail, SourceStatus, SourceTestResult, SourceView } from './source-views';

export interface AddSourceInput {
  kind: string;
  target: string;
  beats?: string[];
  /** "30m", "2h", "1d", or seconds. */
  every?: string | number;
  name?: string;
}

export type EditSourceInput = Partial<Omit<AddSourceInput, 'kind'>>;

export interface OpmlImportResult {
  added: SourceView[];
  skipped: Array<{ url: string; reason: string }>;
}

/** The source could not be read (`sources test`): refused, unreachable, or not a feed. */
export class SourceUnreadableError extends DomainError {
  readonly code: string = 'source_unreadable';
  readonly status: number = 422;
}

/** A validation error naming the field, for the API's per-field `errors`. */
function invalid(field: string, message: string): ValidationError {
  return new ValidationError(message, [{ field, message }]);
}

const BEAT = /^[a-z0-9][a-z0-9-]{0,62}$/;

@Injectable()
export class SourcesService {
  constructor(
    private readonly sources: SourceRepository,
    private readonly records: DiscourseRecordRepository,
    private readonly poller: SourcePoller,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Demo manifest sources (by slug). */
  register(definitions: SourceDefinition[]): Promise<void> {
    return this.sources.upsert(definitions);
  }

  async add(input: AddSourceInput): Promise<SourceView> {
    const adapter = adapterFor(input.kind);
    if (typeof input.target !== 'string' || !input.target.trim()) throw invalid('target', 'a target is required (see `sources add --help` for each kind)');
    const info = adapter.describe(input.target, this.config.sources.platforms);
    if (await this.sources.findByKindAndTarget(adapter.kind, info.target))
      throw invalid('target', `a ${adapter.kind} source for ${info.target} already exists`);
    const name = this.name(input.name) ?? info.name;
    const source = await this.sources.create(
      {
        slug: await this.freeSlug(name),
        name,
        platform: info.platform,
        kind: adapter.kind,
        location: info.target,
        beatSlugs: this.beats(input.beats),
        intervalSeconds: this.interval(input.every),
      },
      this.clock.now(),
    );
    return this.view(source, 0);
  }

  async edit(idOrSlug: string, input: EditSourceInput): Promise<SourceView> {
    const source = await this.find(idOrSlug);
    const changes: Partial<Source> = {};
    if (input.target !== undefined) {
      const info = adapterFor(source.kind).describe(input.target, this.config.sources.platforms);
      if (info.target !== source.location)
        Object.assign(changes, { location: info.target, platform: info.platform, etag: null, lastModified: null, nextPollAt: this.clock.now() });
    }
    if (input.name !== undefined) changes.name = this.name(input.name) ?? source.name;
    if (input.beats !== undefined) changes.beatSlugs = this.beats(input.beats);
    if (input.every !== undefined) changes.intervalSeconds = this.interval(input.every);
    await this.sources.update(source.id, changes);
    return this.show(source.id);
  }

  async pause(idOrSlug: string, reason = 'paused by an editor'): Promise<SourceView> {
    const source = await this.find(idOrSlug);
    await this.sources.update(source.id, { enabled: false, pausedReason: reason.slice(0, 500) });
    return this.show(source.id);
  }

  /** Resumes a paused source: its failure count starts again and it is due at once. */
  async resume(idOrSlug: string): Promise<SourceView> {
    const source = await this.find(idOrSlug);
    await this.sources.update(source.id, { enabled: true, pausedReason: null, consecutiveFailures: 0, nextPollAt: this.clock.now(), leaseUntil: null });
    return this.show(source.id);
  }

  /** Removes a source and its records. */
  async remove(idOrSlug: string): Promise<SourceView> {
    const source = await this.find(idOrSlug);
    const view = await this.show(source.id);
    await this.sources.remove(source.id);
    return view;
  }

  async list(): Promise<SourceView[]> {
    const [all, counts] = await Promise.all([this.sources.listAll(), this.records.countBySource()]);
    return all.map((s) => this.view(s, counts.get(s.id) ?? 0));
  }

  async show(idOrSlug: string): Promise<SourceDetail> {
    const source = await this.find(idOrSlug);
    const [counts, polls] = await Promise.all([this.records.countBySource(), this.sources.recentPolls(source.id, 10)]);
    return {
      ...this.view(source, counts.get(source.id) ?? 0),
      recentPolls: polls.map((p) => ({
        startedAt: p.startedAt.toISOString(),
        status: p.status,
        seen: p.itemsSeen,
        new: p.itemsNew,
        updated: p.itemsUpdated,
        duplicate: p.itemsDuplicate,
        invalid: p.itemsInvalid,
        overCap: p.itemsOverCap,
        notModified: p.notModified,
        httpStatus: p.httpStatus,
        responseMs: p.responseMs,
        error: p.error,
        rejected: p.rejected,
      })),
    };
  }

  /** Fetches a stored source now and shows what would be imported, importing nothing. */
  async test(idOrSlug: string): Promise<SourceTestResult> {
    const source = await this.find(idOrSlug);
    return this.testTarget({ kind: source.kind, target: source.location });
  }

  /** Fetches any kind/target now and shows what would be imported (throws SourceUnreadableError with the reason). */
  async testTarget(input: { kind: string; target: string }): Promise<SourceTestResult> {
    const adapter = adapterFor(input.kind);
    const info = adapter.describe(input.target, this.config.sources.platforms);
    let collected;
    try {
      collected = await this.poller.preview(adapter.kind, info.target);
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      throw new SourceUnreadableError(plainError(error), { kind: adapter.kind, target: info.target });
    }
    const feed = collected.feed;
    const rows = feed ? toRows({ id: '00000000-0000-0000-0000-000000000000', platform: info.platform }, feed).rows : [];
    return {
      kind: adapter.kind,
      target: info.target,
      platform: info.platform,
      httpStatus: collected.httpStatus,
      responseMs: collected.responseMs,
      notModified: collected.notModified,
      items: rows.length,
      rejected: feed?.rejectedCount ?? 0,
      overCap: feed?.overCap ?? 0,
      rejectedReasons: feed?.rejected.slice(0, 20) ?? [],
      preview: rows.slice(0, 10).map((r) => ({
        title: r.title,
        author: r.author,
        url: r.url,
        publishedAt: r.publishedAt.toISOString(),
        engagement: r.engagement,
        text: r.text.slice(0, 280),
      })),
    };
  }

  /** OPML (1.0/2.0): every outline with an http(s) `xmlUrl` becomes an rss source; the rest are reported, not fatal. */
  async importOpml(xml: string, options: { beats?: string[]; every?: string | number } = {}): Promise<OpmlImportResult> {
    let doc: ReturnType<typeof parseOpml>;
    try {
      doc = parseOpml(xml);
    } catch (error) {
      throw invalid('file', `not an OPML document: ${(error as Error).message}`);
    }
    type Outline = { text?: string; title?: string; xmlUrl?: string; outlines?: Outline[] };
    const flat: Outline[] = [];
    const walk = (list: Outline[] | undefined, depth: number) => {
      for (const o of list ?? []) {
        if (o.xmlUrl) flat.push(o);
        if (depth < 10) walk(o.outlines, depth + 1);
      }
    };
    walk((doc.body?.outlines ?? []) as Outline[], 0);
    if (flat.length > 5000) throw invalid('file', `the OPML file lists ${flat.length} feeds; at most 5000 at once`);
    const added: SourceView[] = [];
    const skipped: OpmlImportResult['skipped'] = [];
    for (const o of flat) {
      try {
        added.push(await this.add({ kind: SourceKind.Rss, target: o.xmlUrl as string, name: o.title ?? o.text, beats: options.beats, every: options.every }));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        skipped.push({ url: String(o.xmlUrl).slice(0, 500), reason: error.message });
      }
    }
    return { added, skipped };
  }

  /** OPML 2.0 of every feed-like source (rss and mastodon, whose RSS form is exported). */
  async exportOpml(): Promise<string> {
    const all = await this.sources.listAll();
    const outlines = all
      .filter((s) => s.kind === SourceKind.Rss || s.kind === SourceKind.Mastodon)
      .map((s) => ({ text: s.name, title: s.name, type: 'rss', xmlUrl: s.kind === SourceKind.Mastodon ? `${s.location}.rss` : s.location }));
    return generateOpml({ head: { title: `${this.config.site.title} sources`, dateCreated: this.clock.now() }, body: { outlines } } as never) as string;
  }

  pollAll(): Promise<PollSummary[]> {
    return this.poller.pollAll();
  }

  pollDue(): Promise<PollSummary[]> {
    return this.poller.pollDue();
  }

  async recordsBetween(from: Date, to: Date): Promise<RecordWithBeats[]> {
    const [records, beats] = await Promise.all([this.records.publishedBetween(from, to), this.beatsBySource()]);
    return records.map((r) => recordView(r, beats));
  }

  /** Source id → the source's display name (for naming outlets in narratives). */
  async sourceNames(): Promise<Map<string, string>> {
    return new Map((await this.sources.listAll()).map((s) => [s.id, s.name]));
  }

  async getRecords(ids: string[]): Promise<DiscourseRecordView[]> {
    const [records, beats] = await Promise.all([this.records.getByIds(ids), this.beatsBySource()]);
    return records.map((r) => recordView(r, beats));
  }

  private async beatsBySource(): Promise<Map<string, string[]>> {
    return new Map((await this.sources.listAll()).map((s) => [s.id, s.beatSlugs]));
  }

  /** Records by id as plain views (what the narratives module reads). */
  recordViews(ids: string[]): Promise<DiscourseRecordView[]> {
    return this.getRecords(ids);
  }

  /** The records published in [from, to) as plain views, each with the beats its source may feed. */
  recordViewsBetween(from: Date, to: Date): Promise<RecordWithBeats[]> {
    return this.recordsBetween(from, to);
  }

  latestRecordAt(): Promise<Date | null> {
    return this.records.latestPublishedAt();
  }

  countRecords(): Promise<number> {
    return this.records.count();
  }

  private async find(idOrSlug: string): Promise<Source> {
    const key = String(idOrSlug ?? '').trim();
    const source = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(key)
      ? await this.sources.getById(key)
      : await this.sources.getBySlug(key);
    if (!source) throw new NotFoundError(`no source "${key.slice(0, 100)}" (use an id or slug from \`sources list\`)`);
    return source;
  }

  private interval(every: string | number | undefined): number {
    if (every === undefined || every === '') return this.config.sources.defaultIntervalSeconds;
    const seconds = typeof every === 'number' ? every : /^\d+$/.test(every.trim()) ? Number(every) : parseDuration(every);
    if (seconds === null || !Number.isInteger(seconds) || seconds < 60 || seconds > 7 * 86400) {
      throw invalid('every', `--every must be a duration from 1m to 7d such as 30m, 2h or 1d; got "${String(every).slice(0, 40)}"`);
    }
    return seconds;
  }

  private beats(beats: string[] | undefined): string[] {
    const list = [...new Set((beats ?? []).map((b) => String(b).trim().toLowerCase()).filter(Boolean))];
    const bad = list.find((b) => !BEAT.test(b));
    if (bad !== undefined) throw invalid('beats', `"${bad.slice(0, 64)}" is not a beat slug (lowercase letters, digits and dashes)`);
    return list;
  }

  private name(name: string | undefined): string | undefined {
    const clean = name
      ?.replace(/[\u0000-\u001f\u007f]/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (clean && clean.length > 200) throw invalid('name', 'a source name is at most 200 characters');
    return clean || undefined;
  }

  private async freeSlug(name: string): Promise<string> {
    const base =
      name
        .toLowerCase()
        .normalize('NFKD')
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 60) || 'source';
    const taken = new Set((await this.sources.slugsStartingWith(base)).map((s) => s.slug));
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  }

  private view(s: Source, records: number): SourceView {
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    return {
      id: s.id,
      slug: s.slug,
      name: s.name,
      kind: s.kind,
      target: s.location,
      platform: s.platform,
      beats: s.beatSlugs,
      everySeconds: s.intervalSeconds,
      status: !s.enabled ? 'paused' : s.consecutiveFailures > 0 ? 'failing' : 'active',
      pausedReason: s.pausedReason,
      records,
      lastPolledAt: iso(s.lastPolledAt),
      lastSuccessAt: iso(s.lastSuccessAt),
      lastError: s.lastError,
      lastErrorAt: iso(s.lastErrorAt),
      consecutiveFailures: s.consecutiveFailures,
      itemsLastPoll: s.lastItems,
      responseMsLastPoll: s.lastResponseMs,
      nextPollAt: s.enabled ? iso(s.nextPollAt) : null,
    };
  }
}

/** A record as other modules see it: plain data, no entity (engagement keeps only finite numbers). */
function recordView(r: DiscourseRecord, beatsBySource: Map<string, string[]>): DiscourseRecordView {
  const engagement: Record<string, number> = {};
  for (const [key, value] of Object.entries(r.engagement ?? {})) if (typeof value === 'number' && Number.isFinite(value)) engagement[key] = value;
  return {
    id: r.id,
    sourceId: r.sourceId,
    platform: r.platform,
    providerId: r.externalId,
    url: r.url,
    canonicalUrl: r.canonicalUrl,
    author: r.author,
    title: r.title,
    text: r.text,
    publishedAt: r.publishedAt,
    engagement,
    beatSlugs: [...(beatsBySource.get(r.sourceId) ?? [])],
    firstSeenAt: r.createdAt,
    updatedAt: r.updatedAt,
    externalId: r.externalId,
    createdAt: r.createdAt,
  };
}
