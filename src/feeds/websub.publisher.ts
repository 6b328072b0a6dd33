import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { FEED_FORMATS } from './feed-builder';
import { FeedsService } from './feeds.service';
import { PublicCache } from './public-cache';
import { PublicSite } from './public-site';

/**
 * WebSub (W3C) publisher: when the change marker moves, every topic feed (page 1 of stories, issues and each beat,
 * in each format) is rendered into the cache and compared with the tag this instance last saw; each feed whose bytes
 * changed is announced to WEBSUB_HUB_URL with `hub.mode=publish&hub.url=<feed>`, retried with exponential backoff
 * and jitter on a network error or a non-2xx answer, up to WEBSUB_MAX_ATTEMPTS. Several instances may each ping the
 * same change: publish pings are idempotent for a hub (it just fetches the feed again).
 */
@Injectable()
export class WebSubPublisher implements OnModuleDestroy {
  private readonly logger = new Logger(WebSubPublisher.name);
  private readonly seen = new Map<string, string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly feeds: FeedsService,
    private readonly site: PublicSite,
    cache: PublicCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cache = cache;
    if (config.websub.hubUrl) cache.onChange(async (first) => void (await this.announceChanges(!first)));
  }

  private readonly cache: PublicCache;

  onModuleDestroy(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** Resolves when every ping started so far has succeeded or given up (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Records the current tag of every topic feed and pings the hub for those that changed since the last call
   * (none on the first call after boot, which only takes the baseline, unless `ping` says otherwise).
   */
  async announceChanges(ping = true): Promise<string[]> {
    const changed: string[] = [];
    for (const topic of await this.feeds.topics()) {
      for (const format of FEED_FORMATS) {
        const url = this.feeds.feedUrl(topic, format);
        const route = this.site.match(new URL(url).pathname);
        const entry = route && (await this.cache.get(route.key, route.render));
        if (!entry) continue;
        const before = this.seen.get(url);
        this.seen.set(url, entry.etag);
        if (before !== entry.etag) changed.push(url);
      }
    }
    if (ping) for (const url of changed) this.track(this.ping(url));
    return changed;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async ping(topicUrl: string): Promise<void> {
    const hub = this.config.websub.hubUrl!;
    const { maxAttempts, retryBaseMs } = this.config.websub;
    for (let attempt = 1; attempt <= maxAttempts && !this.closed; attempt++) {
      try {
        const response = await fetch(hub, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ 'hub.mode': 'publish', 'hub.url': topicUrl }).toString(),
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return;
        this.logger.warn(`hub answered ${response.status} to the publish ping for ${topicUrl} (attempt ${attempt}/${maxAttempts})`);
      } catch (error) {
        this.logger.warn(`publish ping for ${topicUrl} failed: ${(error as Error).message} (attempt ${attempt}/${maxAttempts})`);
      }
      if (attempt < maxAttempts) await this.wait(retryBaseMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
    }
    if (!this.closed) this.logger.error(`gave up announcing ${topicUrl} to ${hub} after ${maxAttempts} attempts`);
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.timers.add(timer);
    });
  }
}
