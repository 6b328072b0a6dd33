import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { Metrics } from '../kernel/metrics/metrics';
import { canonicalUrl } from './canonical-url';
import { DiscourseRecordRepository, type NewRecord } from './discourse-record.repository';
import { type DiscourseRecord } from './discourse-record.entity';
import { decodeFeedBytes, parseFeedDocument } from './feed-parser';
import { readImportFile } from './import-file.reader';
import { SourceRepository, type SourceDefinition } from './source.repository';
import { Platform, SourceKind, type Source } from './source.entity';

export interface PollSummary {
  source: string;
  ok: boolean;
  seen: number;
  new: number;
  duplicate: number;
  invalid: number;
  error?: string;
}

/** A record together with the beats its source may feed (what the narratives module needs). */
export interface RecordWithBeats extends DiscourseRecord {
  beatSlugs: string[];
}

@Injectable()
export class SourcesService {
  private readonly logger = new Logger(SourcesService.name);

  constructor(
    private readonly sources: SourceRepository,
    private readonly records: DiscourseRecordRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  register(definitions: SourceDefinition[]): Promise<void> {
    return this.sources.upsert(definitions);
  }

  /** Polls every enabled source; one source's failure is recorded on it and never stops the others. */
  async pollAll(): Promise<PollSummary[]> {
    const summaries: PollSummary[] = [];
    for (const source of await this.sources.listEnabled()) {
      summaries.push(await this.poll(source));
    }
    return summaries;
  }

  async poll(source: Source): Promise<PollSummary> {
    const poll = await this.sources.startPoll(source.id, this.clock.now());
    try {
      const body = await this.fetch(source);
      const feed = parseFeedDocument(decodeFeedBytes(body), { fetchedAt: poll.startedAt });
      const rows: NewRecord[] = [];
      let invalid = feed.rejected.length;
      for (const item of feed.items) {
        // A Hacker News item is the discussion, not the article it links to (which may be a record of its own).
        const url = source.platform === Platform.HackerNews && item.discussionUrl ? item.discussionUrl : item.url;
        const canonical = canonicalUrl(url);
        if (!canonical) {
          invalid++;
          continue;
        }
        rows.push({ sourceId: source.id, platform: source.platform, externalId: item.externalId, url, canonicalUrl: canonical, title: item.title, author: item.author, text: item.text, publishedAt: item.publishedAt });
      }
      const inserted = await this.records.insertNew(rows);
      this.metrics.recordsIngested(source.platform, inserted);
      Object.assign(poll, { itemsSeen: feed.items.length + feed.rejected.length, itemsNew: inserted, itemsDuplicate: rows.length - inserted, itemsInvalid: invalid });
      await this.sources.finishPoll(poll, this.clock.now(), { error: null });
      return { source: source.slug, ok: true, seen: poll.itemsSeen, new: inserted, duplicate: poll.itemsDuplicate, invalid };
    } catch (error) {
      const message = `${(error as Error).name === 'Error' ? '' : `${(error as Error).name}: `}${(error as Error).message}`;
      this.logger.warn(`poll of ${source.slug} failed: ${message}`);
      await this.sources.finishPoll(poll, this.clock.now(), { error: message });
      return { source: source.slug, ok: false, seen: 0, new: 0, duplicate: 0, invalid: 0, error: message };
    }
  }

  private async fetch(source: Source): Promise<Buffer> {
    switch (source.kind) {
      case SourceKind.File:
        return readImportFile(this.config.sources.importDir, source.location);
      default:
        throw new Error(`unsupported source kind "${source.kind as string}"`);
    }
  }

  async recordsBetween(from: Date, to: Date): Promise<RecordWithBeats[]> {
    const [records, sources] = await Promise.all([this.records.publishedBetween(from, to), this.sources.listAll()]);
    const beatsBySource = new Map(sources.map((s) => [s.id, s.beatSlugs]));
    return records.map((r) => Object.assign(r, { beatSlugs: beatsBySource.get(r.sourceId) ?? [] }));
  }

  getRecords(ids: string[]): Promise<DiscourseRecord[]> {
    return this.records.getByIds(ids);
  }

  latestRecordAt(): Promise<Date | null> {
    return this.records.latestPublishedAt();
  }

  countRecords(): Promise<number> {
    return this.records.count();
  }
}
