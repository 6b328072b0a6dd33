import { type AppConfig } from '../../kernel/config/config';
import { ValidationError } from '../../kernel/errors/domain-error';
import { FetchFailedError, type FetchResponse, type HttpFetcher } from '../../kernel/http/http-fetcher.port';
import { type FeedParsePool } from '../parsing/feed-parse-pool';
import { type ParsedFeed } from '../parsing/feed-parser';
import { readImportFile } from '../import-file.reader';
import { Platform, SourceKind } from '../source.entity';
import { type PayloadFormat } from './platform-parsers';

export interface AdapterContext {
  fetcher: HttpFetcher;
  parser: FeedParsePool;
  fetchedAt: Date;
  maxItems: number;
  /** Conditional-GET validators from the last successful poll (only the primary request uses them). */
  etag: string | null;
  lastModified: string | null;
  importDir: string;
  platforms: AppConfig['sources']['platforms'];
}

export interface Collected {
  notModified: boolean;
  feed: ParsedFeed | null;
  etag: string | null;
  lastModified: string | null;
  httpStatus: number | null;
  responseMs: number;
}

export interface TargetInfo {
  target: string;
  platform: Platform;
  /** A readable default name. */
  name: string;
  /** The host requests go to (per-host backoff), null for files. */
  host: string | null;
}

/** One way of reading a kind of source: checks its target, then fetches and parses what it currently shows. */
export interface SourceAdapter {
  readonly kind: SourceKind;
  /** Seconds to wait at least after a 403/429 (Reddit asks for an hour). */
  readonly minBackoffSeconds: number;
  describe(target: string, platforms: AppConfig['sources']['platforms']): TargetInfo;
  collect(target: string, ctx: AdapterContext): Promise<Collected>;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(message, [{ field, message }]);
}

function bad(message: string): never {
  throw invalid('target', message);
}

function hostOf(url: string): string {
  return new URL(url).host.toLowerCase();
}

async function fetchAndParse(
  ctx: AdapterContext,
  url: string,
  format: PayloadFormat,
  options: { conditional?: boolean; host?: string; accept?: string } = {},
): Promise<Collected> {
  const response: FetchResponse = await ctx.fetcher.fetch({
    url,
    etag: options.conditional ? ctx.etag : null,
    lastModified: options.conditional ? ctx.lastModified : null,
    headers: options.accept ? { accept: options.accept } : undefined,
  });
  const base = { etag: response.etag, lastModified: response.lastModified, httpStatus: response.status, responseMs: response.elapsedMs };
  if (response.notModified)
    return { ...base, notModified: true, feed: null, etag: response.etag ?? ctx.etag, lastModified: response.lastModified ?? ctx.lastModified };
  // The body moves to the parse worker (not copied): it is not read again here.
  const feed = await ctx.parser.parse(response.body, {
    format,
    contentType: response.contentType,
    baseUrl: response.finalUrl,
    host: options.host,
    fetchedAt: ctx.fetchedAt,
    maxItems: ctx.maxItems,
    transfer: true,
  });
  return { ...base, notModified: false, feed };
}

/** Guess the platform of a plain feed URL, so records of platform feeds are labelled as such. */
function platformOfFeed(url: URL): Platform {
  const host = url.hostname.replace(/^www\./, '');
  if (/(^|\.)reddit\.com$/.test(host)) return Platform.Reddit;
  if (host === 'news.ycombinator.com' || host === 'hnrss.org') return Platform.HackerNews;
  if (host === 'bsky.app') return Platform.Bluesky;
  if (/^\/(@[A-Za-z0-9_]+|tags\/[^/]+)\.rss$/.test(url.pathname)) return Platform.Mastodon;
  return Platform.News;
}

function httpTarget(target: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(target.trim());
  } catch {
    return bad(`${what} must be an absolute http(s) URL such as https://example.com/feed.xml; "${target.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(`${what} must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password) bad(`${what} must not contain a user name or password`);
  url.hash = '';
  return url;
}

export const rssAdapter: SourceAdapter = {
  kind: SourceKind.Rss,
  minBackoffSeconds: 0,
  describe(target) {
    const url = httpTarget(target, 'an rss target');
    return { target: url.toString(), platform: platformOfFeed(url), name: url.host + (url.pathname === '/' ? '' : url.pathname), host: url.host.toLowerCase() };
  },
  collect: (target, ctx) => fetchAndParse(ctx, target, 'feed', { conditional: true }),
};

const SUBREDDIT = /^\/?r\/([A-Za-z0-9][A-Za-z0-9_]{1,20})\/?$/;

export const redditAdapter: SourceAdapter = {
  kind: SourceKind.Reddit,
  minBackoffSeconds: 3600,
  describe(target, platforms) {
    const sub = SUBREDDIT.exec(target.trim())?.[1];
    if (!sub) bad(`a reddit target is r/<subreddit> (letters, digits and _, 2–21 characters), e.g. r/LocalLLaMA; got "${target.slice(0, 100)}"`);
    return { target: `r/${sub}`, platform: Platform.Reddit, name: `r/${sub}`, host: hostOf(platforms.redditBaseUrl) };
  },
  async collect(target, ctx) {
    const base = ctx.platforms.redditBaseUrl;
    // The JSON listing has scores and comment counts; it is often refused to servers, so the Atom feed is the fallback.
    try {
      return await fetchAndParse(ctx, `${base}/${target}/new.json?limit=100&raw_json=1`, 'reddit', { accept: 'application/json' });
    } catch (error) {
      if (error instanceof FetchFailedError && error.httpStatus === 429) throw error;
      return fetchAndParse(ctx, `${base}/${target}/new/.rss`, 'feed', { conditional: true });
    }
  },
};

export const hackerNewsAdapter: SourceAdapter = {
  kind: SourceKind.HackerNews,
  minBackoffSeconds: 0,
  describe(target, platforms) {
    const t = target.trim();
    const host = hostOf(platforms.hackernewsAlgoliaUrl);
    if (t === 'front') return { target: 'front', platform: Platform.HackerNews, name: 'Hacker News front page', host };
    const query = /^search:(.+)$/s.exec(t)?.[1]?.trim();
    if (!query || query.length > 200) bad(`a hackernews target is "front" or "search:<query>" (query up to 200 characters); got "${target.slice(0, 100)}"`);
    return { target: `search:${query}`, platform: Platform.HackerNews, name: `Hacker News: ${query}`, host };
  },
  collect(target, ctx) {
    const base = ctx.platforms.hackernewsAlgoliaUrl;
    const url =
      target === 'front'
        ? `${base}/api/v1/search?tags=front_page&hitsPerPage=100`
        : `${base}/api/v1/search_by_date?tags=story&hitsPerPage=100&query=${encodeURIComponent(target.slice('search:'.length))}`;
    return fetchAndParse(ctx, url, 'hackernews', { accept: 'application/json' });
  },
};

const HANDLE = /^@?((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}|did:plc:[a-z2-7]{24})$/;

export const blueskyAdapter: SourceAdapter = {
  kind: SourceKind.Bluesky,
  minBackoffSeconds: 0,
  describe(target, platforms) {
    const t = target.trim();
    const host = hostOf(platforms.blueskyAppviewUrl);
    const query = /^search:(.+)$/s.exec(t)?.[1]?.trim();
    if (query) {
      if (query.length > 200) bad('a Bluesky search query is at most 200 characters');
      return { target: `search:${query}`, platform: Platform.Bluesky, name: `Bluesky: ${query}`, host };
    }
    const handle = HANDLE.exec(t)?.[1];
    if (!handle) bad(`a bluesky target is a handle such as alice.bsky.social, or "search:<query>"; got "${target.slice(0, 100)}"`);
    return { target: handle.toLowerCase(), platform: Platform.Bluesky, name: `@${handle.toLowerCase()}`, host };
  },
  async collect(target, ctx) {
    const base = ctx.platforms.blueskyAppviewUrl;
    if (target.startsWith('search:')) {
      try {
        return await fetchAndParse(ctx, `${base}/xrpc/app.bsky.feed.searchPosts?limit=100&sort=latest&q=${encodeURIComponent(target.slice(7))}`, 'bluesky', {
          accept: 'application/json',
        });
      } catch (error) {
        if (error instanceof FetchFailedError && (error.httpStatus === 403 || error.httpStatus === 401 || error.httpStatus === 501)) {
          throw new FetchFailedError(`this Bluesky server does not allow search without an account (${error.message})`, error.httpStatus);
        }
        throw error;
      }
    }
    return fetchAndParse(ctx, `${base}/xrpc/app.bsky.feed.getAuthorFeed?limit=100&filter=posts_no_replies&actor=${encodeURIComponent(target)}`, 'bluesky', {
      accept: 'application/json',
    });
  },
};

const MASTODON = /^\/(?:tags\/([\p{L}\p{N}_]{1,100})|@([A-Za-z0-9_]{1,30}))\/?$/u;

export const mastodonAdapter: SourceAdapter = {
  kind: SourceKind.Mastodon,
  minBackoffSeconds: 0,
  describe(target) {
    const url = httpTarget(target, 'a mastodon target');
    const m = MASTODON.exec(url.pathname);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') bad('a mastodon target is an https URL');
    if (!m || url.search) bad(`a mastodon target is https://<instance>/tags/<tag> or https://<instance>/@<user>; got "${target.slice(0, 100)}"`);
    const clean = `${url.origin}${m[1] ? `/tags/${m[1]}` : `/@${m[2]}`}`;
    return { target: clean, platform: Platform.Mastodon, name: m[1] ? `#${m[1]} on ${url.host}` : `@${m[2]}@${url.host}`, host: url.host.toLowerCase() };
  },
  async collect(target, ctx) {
    const url = new URL(target);
    const [, tag, user] = MASTODON.exec(url.pathname) as RegExpExecArray;
    const host = url.host;
    // The API first (counts, edits); servers that close their API to anonymous readers still serve RSS.
    try {
      if (tag)
        return await fetchAndParse(ctx, `${url.origin}/api/v1/timelines/tag/${encodeURIComponent(tag)}?limit=40`, 'mastodon', {
          host,
          accept: 'application/json',
        });
      const lookup = await ctx.fetcher.fetch({
        url: `${url.origin}/api/v1/accounts/lookup?acct=${encodeURIComponent(user)}`,
        headers: { accept: 'application/json' },
        maxBytes: 256 * 1024,
      });
      const id = (JSON.parse(lookup.body.toString('utf8')) as { id?: unknown }).id;
      if (typeof id !== 'string' || !/^\d+$/.test(id)) throw new FetchFailedError('the account lookup gave no id');
      return await fetchAndParse(ctx, `${url.origin}/api/v1/accounts/${id}/statuses?limit=40&exclude_replies=true&exclude_reblogs=true`, 'mastodon', {
        host,
        accept: 'application/json',
      });
    } catch (error) {
      if (error instanceof FetchFailedError && error.httpStatus === 429) throw error;
      if (!(error instanceof FetchFailedError) && !(error instanceof SyntaxError) && (error as Error).name !== 'FeedParseError') throw error;
      return fetchAndParse(ctx, tag ? `${url.origin}/tags/${encodeURIComponent(tag)}.rss` : `${url.origin}/@${user}.rss`, 'feed', { conditional: true });
    }
  },
};

export const fileAdapter: SourceAdapter = {
  kind: SourceKind.File,
  minBackoffSeconds: 0,
  describe(target) {
    const t = target.trim();
    if (!t || t.includes('\0')) bad('a file target is a path inside SOURCES_IMPORT_DIR');
    return { target: t, platform: Platform.News, name: t, host: null };
  },
  async collect(target, ctx) {
    const started = Date.now();
    const bytes = await readImportFile(ctx.importDir, target);
    const feed = await ctx.parser.parse(bytes, { format: 'feed', fetchedAt: ctx.fetchedAt, maxItems: ctx.maxItems });
    return { notModified: false, feed, etag: null, lastModified: null, httpStatus: null, responseMs: Date.now() - started };
  },
};

export const ADAPTERS: Record<SourceKind, SourceAdapter> = {
  [SourceKind.Rss]: rssAdapter,
  [SourceKind.Reddit]: redditAdapter,
  [SourceKind.HackerNews]: hackerNewsAdapter,
  [SourceKind.Bluesky]: blueskyAdapter,
  [SourceKind.Mastodon]: mastodonAdapter,
  [SourceKind.File]: fileAdapter,
};

export function adapterFor(kind: string): SourceAdapter {
  const adapter = ADAPTERS[kind as SourceKind];
  if (!adapter) bad(`unknown source kind "${kind}": use one of ${Object.keys(ADAPTERS).join(', ')}`);
  return adapter;
}
