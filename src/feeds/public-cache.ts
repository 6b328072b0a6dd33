import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { strongEtag, toHttpDate } from './conditional-get';
import { FeedsService } from './feeds.service';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Most resources kept at once; past that the oldest go first (slugs and pages are bounded by the data anyway). */
const MAX_ENTRIES = 5000;

/** What a route renders: one representation, before compression. */
export interface Resource {
  contentType: string;
  body: string | Buffer;
  lastModified: Date | null;
  cacheControl: string;
  /** Extra headers sent with 200 and 304 (Link, security headers). */
  headers?: Record<string, string>;
}

export type Encoding = 'identity' | 'gzip' | 'br';

/** A rendered resource, its validators and its precompressed bodies, with every header precomputed. */
export interface CachedResource {
  /** The strong tag of the identity body, without quotes' suffix for encodings. */
  etag: string;
  bodies: Record<Encoding, Buffer>;
  /** Full 200 headers per encoding. */
  headers: Record<Encoding, Record<string, string>>;
  /** 304 headers per encoding (validators and caching only, no body headers). */
  notModified: Record<Encoding, Record<string, string>>;
  lastModified: Date | null;
}

/** A strong tag per encoding: each representation has its own bytes (RFC 9110 §8.8.3). */
export function encodedEtag(etag: string, encoding: Encoding): string {
  return encoding === 'identity' ? etag : `${etag.slice(0, -1)}-${encoding === 'gzip' ? 'gz' : 'br'}"`;
}

/** Compresses and precomputes headers; the same resource always gives the same bytes and tags. */
export async function prepare(resource: Resource): Promise<CachedResource> {
  const identity = typeof resource.body === 'string' ? Buffer.from(resource.body, 'utf8') : resource.body;
  const [gz, br] = await Promise.all([
    gzipAsync(identity, { level: 9 }),
    brotliAsync(identity, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  ]);
  const etag = strongEtag(identity);
  const bodies: Record<Encoding, Buffer> = { identity, gzip: gz, br };
  const common = (encoding: Encoding): Record<string, string> => ({
    ETag: encodedEtag(etag, encoding),
    ...(resource.lastModified ? { 'Last-Modified': toHttpDate(resource.lastModified) } : {}),
    'Cache-Control': resource.cacheControl,
    Vary: 'Accept-Encoding',
    ...resource.headers,
  });
  const headers = {} as Record<Encoding, Record<string, string>>;
  const notModified = {} as Record<Encoding, Record<string, string>>;
  for (const encoding of ['identity', 'gzip', 'br'] as const) {
    notModified[encoding] = common(encoding);
    headers[encoding] = {
      ...common(encoding),
      'Content-Type': resource.contentType,
      'Content-Length': String(bodies[encoding].length),
      ...(encoding === 'identity' ? {} : { 'Content-Encoding': encoding }),
    };
  }
  return { etag, bodies, headers, notModified, lastModified: resource.lastModified };
}

/** `first` is true for the marker's first reading after boot (nothing changed; a baseline). */
type ChangeListener = (first: boolean) => Promise<void> | void;

/**
 * Rendered public pages and feeds, kept in memory per instance and thrown away when the database's change marker
 * moves. A request for a cached resource does no database work: the marker is read by a timer every
 * PUBLIC_CACHE_CHECK_SECONDS (one small query per instance, whatever the traffic), so a change written by any
 * instance (or by a `broadsheet run` process) reaches every instance within that interval. With 0 the marker is read
 * on every request instead (still no rendering when nothing changed).
 */
@Injectable()
export class PublicCache implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PublicCache.name);
  private entries = new Map<string, Promise<CachedResource | null>>();
  /** The same entries once rendered, for the synchronous fast path. */
  private ready = new Map<string, CachedResource>();
  private marker: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<boolean> | null = null;
  private readonly listeners: ChangeListener[] = [];
  /** How many resources were rendered (for tests and metrics): a hit does not count. */
  renders = 0;

  constructor(
    private readonly feeds: FeedsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.publicCache.checkSeconds;
    if (seconds > 0) {
      this.timer = setInterval(
        () => void this.checkForChanges().catch((error) => this.logger.warn(`change check failed: ${(error as Error).message}`)),
        seconds * 1000,
      );
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Called after the marker moved and the cache was emptied (WebSub pings hang off this). */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Before serving: with checkSeconds 0, re-reads the marker now; otherwise nothing (the timer does it). */
  async beforeRequest(): Promise<void> {
    if (this.config.publicCache.checkSeconds === 0 || this.marker === null) await this.checkForChanges();
  }

  /**
   * Reads the change marker; when it moved, empties the cache and tells the listeners. Returns true when it moved.
   * Concurrent callers share one check.
   */
  checkForChanges(): Promise<boolean> {
    this.checking ??= (async () => {
      try {
        const marker = await this.feeds.changeMarker();
        if (marker === this.marker) return false;
        const first = this.marker === null;
        this.marker = marker;
        this.entries = new Map();
        this.ready = new Map();
        for (const listener of this.listeners) await listener(first);
        return !first;
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  /** Forgets everything now (used after a write in this process; other instances follow their marker). */
  invalidate(): void {
    this.entries = new Map();
    this.ready = new Map();
  }

  /**
   * The rendered resource for `key` when it is ready and the timer keeps the marker fresh; undefined otherwise (the
   * caller then goes the asynchronous way). Never touches the database.
   */
  peek(key: string): CachedResource | undefined {
    if (this.config.publicCache.checkSeconds === 0 || this.marker === null) return undefined;
    return this.ready.get(key);
  }

  /** The cached resource for `key`, rendered once by `render` when missing (concurrent misses share one render). */
  get(key: string, render: () => Promise<Resource | null>): Promise<CachedResource | null> {
    const entries = this.entries;
    const ready = this.ready;
    const hit = entries.get(key);
    if (hit) return hit;
    this.renders++;
    const pending = render().then((resource) => (resource ? prepare(resource) : null));
    entries.set(key, pending);
    pending.then(
      (value) => {
        if (value && entries.get(key) === pending) {
          ready.set(key, value);
          if (ready.size > MAX_ENTRIES) ready.delete(ready.keys().next().value!);
        }
      },
      () => undefined,
    );
    // Missing resources are not kept (a stranger could fill memory with made-up slugs); failures are retried.
    pending.then(
      (value) => value === null && entries.get(key) === pending && entries.delete(key),
      () => entries.get(key) === pending && entries.delete(key),
    );
    if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    return pending;
  }
}
