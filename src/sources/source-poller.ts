import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../kernel/clock/clock';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { FetchFailedError, FetchRefusedError, HttpFetcher } from '../kernel/http/http-fetcher.port';
import { Metrics } from '../kernel/metrics/metrics';
import { adapterFor, type Collected } from './adapters/source-adapter';
import { canonicalUrl } from './canonical-url';
import { type NewRecord, type UpsertOutcome } from './discourse-record.repository';
import { FeedParsePool } from './parsing/feed-parse-pool';
import { type ParsedFeed } from './parsing/feed-parser';
import { textSignature } from './parsing/fingerprint';
import { Platform, SourceHostBackoff, type Source } from './source.entity';
import { PollStatus } from './source-poll.entity';
import { RecordWriter } from './record-writer';
import { SourceRepository, type PollSuccess } from './source.repository';

export interface PollSummary {
  source: string;
  ok: boolean;
  seen: number;
  new: number;
  updated: number;
  duplicate: number;
  invalid: number;
  overCap: number;
  notModified: boolean;
  /** The poll did not run: the source's host asked us to wait. */
  deferred: boolean;
  error?: string;
}

const MAX_BACKOFF_SECONDS = 24 * 3600;
const LEASE_SECONDS = 10 * 60;

/** Turns any failure into one plain sentence for editors. */
export function plainError(error: unknown): string {
  const e = error as Error;
  if (e instanceof FetchRefusedError) return `refused: ${e.message}`;
  if (e?.name === 'FeedParseError') return `not a readable feed: ${e.message}`;
  if (e?.name === 'ImportPathError') return e.message;
  return e?.message ?? String(error);
}

/**
 * Polls sources: fetch → parse (worker threads) → dedupe → one batched upsert per source; keeps each source's
 * health, schedules its next poll with backoff, backs off whole hosts that answer 429/403/503 (honouring
 * Retry-After), and pauses a source that keeps failing. One source's failure never stops the others.
 */
@Injectable()
export class SourcePoller implements OnApplicationShutdown {
  private readonly logger = new Logger(SourcePoller.name);
  private stopping = false;

  constructor(
    private readonly sources: SourceRepository,
    private readonly writer: RecordWriter,
    private readonly fetcher: HttpFetcher,
    private readonly parser: FeedParsePool,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  onApplicationShutdown(): Promise<void> {
    // SIGTERM: no new source is started; the parse workers are stopped.
    this.stopping = true;
    return this.parser.close();
  }

  /** Sources whose time has come, claimed so that other instances skip them. */
  async pollDue(): Promise<PollSummary[]> {
    const out: PollSummary[] = [];
    while (!this.stopping) {
      const claimed = await this.sources.claimDue({ now: this.clock.now(), limit: this.config.sources.pollConcurrency * 4, leaseSeconds: LEASE_SECONDS });
      if (claimed.length === 0) break;
      out.push(...(await this.pollConcurrently(claimed)));
    }
    return out;
  }

  /** Every enabled source now, whatever its schedule (host backoff still holds); `run poll`. */
  async pollAll(): Promise<PollSummary[]> {
    const enabled = await this.sources.listEnabled();
    const claimed = await this.sources.claimDue({
      now: this.clock.now(),
      limit: Math.max(1, enabled.length),
      leaseSeconds: LEASE_SECONDS,
      onlyIds: enabled.map((s) => s.id),
    });
    return this.pollConcurrently(claimed);
  }

  private async pollConcurrently(sources: Source[]): Promise<PollSummary[]> {
    const results: Array<Promise<PollSummary>> = [];
    // Host backoffs read once for the batch (one query, not one per source); a backoff set during it is added.
    const backoffs = await this.sources.activeHostBackoffs(this.clock.now());
    let next = 0;
    // A poller is free for the next source once this one's records are handed to the writer (write-behind): fetching
    // and parsing go on while the writer coalesces the pieces of several polls into one transaction. It waits
    // while the writer's queue is full.
    const worker = async () => {
      while (next < sources.length && !this.stopping) {
        const i = next++;
        const producing = this.writer.producing();
        await new Promise<void>((resolve) => {
          const handedOver = () => {
            producing();
            resolve();
          };
          const poll = this.poll(sources[i], backoffs, handedOver);
          poll.then(handedOver, handedOver);
          results[i] = poll;
        });
        await this.writer.room();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.sources.pollConcurrency, sources.length) }, worker));
    return Promise.all(results.filter(Boolean));
  }

  /** Fetches and parses a source without importing anything (`sources test`). Throws with the reason. */
  async preview(kind: string, target: string): Promise<Collected> {
    const adapter = adapterFor(kind);
    const info = adapter.describe(target, this.config.sources.platforms);
    return adapter.collect(info.target, this.context(null));
  }

  private context(source: Source | null) {
    return {
      fetcher: this.fetcher,
      parser: this.parser,
      fetchedAt: this.clock.now(),
      maxItems: this.config.sources.maxItemsPerPoll,
      etag: source?.etag ?? null,
      lastModified: source?.lastModified ?? null,
      importDir: this.config.sources.importDir,
      platforms: this.config.sources.platforms,
    };
  }

  /** `handedOver`: called once the poll has fetched and parsed and its records wait for the writer. */
  async poll(source: Source, backoffs?: Map<string, SourceHostBackoff>, handedOver?: () => void): Promise<PollSummary> {
    const startedAt = this.clock.now();
    const empty = { source: source.slug, seen: 0, new: 0, updated: 0, duplicate: 0, invalid: 0, overCap: 0, notModified: false, deferred: false };
    const adapter = adapterFor(source.kind);
    let host: string | null = null;
    try {
      host = adapter.describe(source.location, this.config.sources.platforms).host;
      const known = host && backoffs ? backoffs.get(host) : undefined;
      const wait = !host ? null : backoffs ? (known && known.until > startedAt ? known : null) : await this.sources.hostBackoff(host, startedAt);
      if (wait) {
        await this.sources.update(source.id, { nextPollAt: wait.until, leaseUntil: null });
        return { ...empty, ok: true, deferred: true, error: `waiting until ${wait.until.toISOString()}: ${wait.reason}` };
      }
      const collected = await adapter.collect(source.location, this.context(source));
      const summary = await this.store(source, collected, startedAt, handedOver);
      return { ...summary, ok: true };
    } catch (error) {
      const message = plainError(error);
      const finishedAt = this.clock.now();
      const failures = source.consecutiveFailures + 1;
      const fetchError = error instanceof FetchFailedError ? error : null;
      const status = fetchError?.httpStatus ?? null;
      // Backoff: doubling from the interval, at least what the server asked, at least an hour for Reddit after 403/429.
      let wait = Math.min(MAX_BACKOFF_SECONDS, source.intervalSeconds * 2 ** Math.min(failures - 1, 10));
      if (fetchError?.retryAfterSeconds) wait = Math.max(wait, Math.min(fetchError.retryAfterSeconds, 7 * 86400));
      if (status === 429 || status === 403) wait = Math.max(wait, adapter.minBackoffSeconds);
      if (host && (status === 429 || status === 503 || (status === 403 && adapter.minBackoffSeconds > 0))) {
        const hostWait = Math.max(fetchError?.retryAfterSeconds ?? 60, status === 503 ? 60 : 300, adapter.minBackoffSeconds);
        const until = new Date(finishedAt.getTime() + hostWait * 1000);
        await this.sources.backOffHost(host, until, `${host} answered ${status}`);
        const previous = backoffs?.get(host);
        if (backoffs && (!previous || previous.until < until))
          backoffs.set(host, Object.assign(new SourceHostBackoff(), { host, until, reason: `${host} answered ${status}` }));
      }
      const pause = error instanceof FetchRefusedError || (error as Error).name === 'ValidationError' || failures >= this.config.sources.maxFailures;
      this.logger.warn(`poll of ${source.slug} failed (${failures} in a row): ${message}`);
      await this.sources.savePoll(source.id, startedAt, finishedAt, {
        status: PollStatus.Failed,
        itemsSeen: 0,
        itemsNew: 0,
        itemsUpdated: 0,
        itemsDuplicate: 0,
        itemsInvalid: 0,
        itemsOverCap: 0,
        httpStatus: status,
        responseMs: null,
        notModified: false,
        rejected: [],
        error: message,
      });
      await this.sources.update(source.id, {
        lastPolledAt: finishedAt,
        lastError: message,
        lastErrorAt: finishedAt,
        consecutiveFailures: failures,
        leaseUntil: null,
        nextPollAt: new Date(finishedAt.getTime() + wait * 1000),
        ...(pause
          ? { enabled: false, pausedReason: error instanceof FetchRefusedError ? message : `paused after ${failures} failed polls in a row; last: ${message}` }
          : {}),
      });
      return { ...empty, ok: false, error: message };
    }
  }

  /** Stores what a poll collected, with the poll's bookkeeping in the same transaction as (the last of) its records. */
  private async store(source: Source, collected: Collected, startedAt: Date, queued?: () => void): Promise<Omit<PollSummary, 'ok'>> {
    const feed: ParsedFeed | null = collected.feed;
    const rows = feed ? toRows(source, feed) : { rows: [], invalid: 0 };
    const summaryOf = (outcome: UpsertOutcome): Omit<PollSummary, 'ok'> => ({
      source: source.slug,
      seen: feed ? feed.items.length + feed.rejectedCount : 0,
      new: outcome.inserted,
      updated: outcome.updated,
      duplicate: outcome.duplicate + outcome.unchanged,
      invalid: feed ? feed.rejectedCount + rows.invalid : 0,
      overCap: feed?.overCap ?? 0,
      notModified: !feed,
      deferred: false,
    });
    const outcome = await this.writer.write(
      source.id,
      rows.rows,
      (total): PollSuccess => {
        const summary = summaryOf(total);
        const finishedAt = this.clock.now();
        return {
          sourceId: source.id,
          startedAt,
          finishedAt,
          record: {
            status: PollStatus.Succeeded,
            itemsSeen: summary.seen,
            itemsNew: summary.new,
            itemsUpdated: summary.updated,
            itemsDuplicate: summary.duplicate,
            itemsInvalid: summary.invalid,
            itemsOverCap: summary.overCap,
            httpStatus: collected.httpStatus,
            responseMs: collected.responseMs,
            notModified: collected.notModified,
            rejected: feed?.rejected ?? [],
            error: null,
          },
          lastItems: summary.seen,
          lastResponseMs: collected.responseMs,
          etag: collected.etag,
          lastModified: collected.lastModified,
          // A document with more items than one poll takes is read again soon, so the backlog drains.
          nextPollAt: new Date(finishedAt.getTime() + (summary.overCap > 0 ? Math.min(300, source.intervalSeconds) : source.intervalSeconds) * 1000),
        };
      },
      { queued },
    );
    if (feed) this.metrics.recordsIngested(source.platform, outcome.inserted);
    return summaryOf(outcome);
  }
}

export function toRows(source: Pick<Source, 'id' | 'platform'>, feed: ParsedFeed): { rows: NewRecord[]; invalid: number } {
  const rows: NewRecord[] = [];
  let invalid = 0;
  for (const item of feed.items) {
    // A Hacker News item is the discussion, not the article it links to (which may be a record of its own).
    const url = source.platform === Platform.HackerNews && item.discussionUrl ? item.discussionUrl : item.url;
    const canonical = canonicalUrl(url);
    if (!canonical) {
      invalid++;
      continue;
    }
    const signature = item.signature === undefined ? textSignature(item.text) : item.signature;
    rows.push({
      sourceId: source.id,
      platform: source.platform,
      externalId: item.externalId,
      url,
      canonicalUrl: canonical,
      title: item.title,
      author: item.author,
      text: item.text,
      publishedAt: item.publishedAt,
      dated: item.dated,
      engagement: item.engagement,
      rawJson: item.rawJson,
      textFingerprint: signature?.fingerprint ?? null,
      textMinhash: signature?.minhash ?? null,
      bands: signature?.bands ?? [],
    });
  }
  return { rows, invalid };
}
