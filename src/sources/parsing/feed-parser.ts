import { parseFeed } from 'feedsmith';
import { compile } from 'html-to-text';
import { cleanDeep, cleanText } from './clean-text';
import { parseFeedDate } from './feed-date';
import { decodeFeedBytes } from './feed-decoding';
import { FeedParseError } from './feed-parse-error';
import { type TextSignature } from './fingerprint';
import { stripPlatformBoilerplate } from './record-text';

export { FeedParseError } from './feed-parse-error';
export { decodeFeedBytes } from './feed-decoding';

/** Likes, replies, reposts… as the platform counts them (numbers only; absent figures are left out). */
export type Engagement = Record<string, number>;

/** One item of a feed or platform listing, normalised; everything in it is clean text. */
export interface ParsedItem {
  externalId: string;
  url: string;
  /** The item's discussion page when the feed names one apart from its link (RSS `<comments>`). */
  discussionUrl: string | null;
  title: string;
  author: string;
  text: string;
  /** The item's own date, or when it was first seen (then `dated` is false) — never later than the fetch. */
  publishedAt: Date;
  dated: boolean;
  engagement: Engagement;
  /**
   * The item as the source sent it (strings cleaned, size-capped), for audits and re-processing, as JSON text:
   * serialised once, in the parse worker, not again on the server's event loop.
   */
  rawJson: string;
  /** Dedupe signature of the text, added in the parse worker (absent when parsed elsewhere). */
  signature?: TextSignature | null;
}

/** A feed item we could not use, and why (counted on the poll, never fatal for the other items). */
export interface RejectedItem {
  index: number;
  reason: string;
}

export interface ParsedFeed {
  format: 'rss' | 'atom' | 'rdf' | 'json';
  title: string;
  items: ParsedItem[];
  /** The first rejected items with reasons (at most MAX_REJECTED listed); `rejectedCount` counts them all. */
  rejected: RejectedItem[];
  rejectedCount: number;
  /** Items left for a later poll because the document had more than `maxItems`. */
  overCap: number;
}

export interface ParseOptions {
  /** The document's URL: the base for relative links. */
  baseUrl?: string;
  /** When the document was fetched: items dated later are capped at it, undated items get it. */
  fetchedAt?: Date;
  /** At most this many items (the newest) are normalised; the rest are counted in `overCap`. */
  maxItems?: number;
}

export const MAX_TEXT = 8_000;
/** HTML is cut to this before it is converted (a 19 MB description must not be converted whole). */
const MAX_HTML = 64 * 1024;
const MAX_TITLE = 500;
const MAX_RAW_CHARS = 32 * 1024;
const MAX_REJECTED = 100;
const DEFAULT_MAX_ITEMS = 1000;

/** Compiled once (html-to-text rebuilds its selector tree on every `convert` call otherwise). */
const convertHtml = compile({
  wordwrap: false,
  // Deeply nested markup is walked recursively: beyond this depth its text is dropped instead of overflowing the stack.
  limits: { maxDepth: 64, maxInputLength: MAX_HTML, maxChildNodes: 2_000, ellipsis: '…' },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable' },
  ],
});

/** Plain text from feed HTML: cut first, links keep their text only, no images, whitespace collapsed. */
export function htmlToText(html: string): string {
  if (!html) return '';
  const text = convertHtml(html.length > MAX_HTML ? html.slice(0, MAX_HTML) : html);
  return cleanText(text)
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .slice(0, MAX_TEXT);
}

/**
 * Titles and names are text: `<Larchmont>` in an RSS title is kept as written. Only an Atom text construct
 * that declares itself HTML or XHTML is converted from markup.
 */
function plain(value: unknown): string {
  if (typeof value === 'string')
    return cleanText(value.slice(0, 4 * MAX_TITLE))
      .replace(/\s+/g, ' ')
      .trim();
  if (value && typeof value === 'object' && 'value' in value) {
    const { value: inner, type } = value as { value: unknown; type?: string };
    if ((type === 'html' || type === 'xhtml') && typeof inner === 'string')
      return htmlToText(inner.slice(0, 4 * MAX_TITLE))
        .replace(/\s+/g, ' ')
        .trim();
    return plain(inner);
  }
  return '';
}

/** Who wrote an item, from its URL when the feed doesn't say: Mastodon `/@user/…` and Bluesky `/profile/handle/…`. */
function authorFromUrl(url: string): string {
  const mastodon = /^https?:\/\/([^/]+)\/@([A-Za-z0-9_]+)\//.exec(url);
  if (mastodon) return `@${mastodon[2]}@${mastodon[1]}`;
  const bluesky = /^https:\/\/bsky\.app\/profile\/([^/]+)\/post\//.exec(url);
  if (bluesky && !bluesky[1].startsWith('did:')) return `@${bluesky[1]}`;
  return '';
}

function firstDate(...candidates: unknown[]): Date | null {
  for (const candidate of candidates) {
    const date = parseFeedDate(candidate);
    if (date) return date;
  }
  return null;
}

interface Draft {
  id?: unknown;
  url?: string | null;
  comments?: string | null;
  title?: unknown;
  author?: unknown;
  html?: unknown;
  date: Date | null;
  raw: unknown;
}

/** `<r:rss xmlns:r="…">`: RSS with a prefixed root is still RSS; drop the prefix so the parser recognises it. */
function unprefixRssRoot(xml: string): string {
  const root = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<([A-Za-z_][\w.-]*):(rss|RDF)\b/.exec(xml.slice(0, 4096));
  if (!root || root[2] !== 'rss') return xml;
  const prefix = root[1].replace(/[.-]/g, '\\$&');
  return xml.replace(new RegExp(`<(/?)${prefix}:`, 'g'), '<$1');
}

/** More attributes than any feed needs: parsing them would cost far more memory than the document's size. */
const MAX_ATTRIBUTES = 200_000;

/**
 * Bounded pieces: a document with far more items than one poll takes is cut after the first `limit` items and
 * closed again, so a 286,000-item file costs what a 2,000-item one does. Feeds list their newest items first.
 * Returns the document unchanged when it is within the limit or its root is not recognised.
 */
export function boundItems(xml: string, limit: number): { xml: string; skipped: number } {
  const close = /<\/(?:[\w.-]+:)?(?:item|entry)\s*>/g;
  let count = 0;
  let cut = -1;
  for (let m = close.exec(xml); m; m = close.exec(xml)) {
    if (++count === limit) {
      cut = m.index + m[0].length;
      break;
    }
  }
  if (cut < 0) return { xml, skipped: 0 };
  let skipped = 0;
  while (close.exec(xml)) skipped++;
  if (skipped === 0) return { xml, skipped: 0 };
  const root = /<((?:[\w.-]+:)?)(rss|RDF|feed)\b/.exec(xml.slice(0, 16_384));
  if (!root) return { xml, skipped: 0 };
  const [, prefix, name] = root;
  const tail = name === 'rss' ? `</channel></${prefix}rss>` : `</${prefix}${name}>`;
  return { xml: xml.slice(0, cut) + tail, skipped };
}

function countAttributes(xml: string): number {
  let n = 0;
  const attr = /\s[\w:.-]+\s*=\s*["']/g;
  while (attr.exec(xml) && n <= MAX_ATTRIBUTES) n++;
  return n;
}

function parseDocument(body: string, maxItems: number): ReturnType<typeof parseFeed> & { skipped: number } {
  const trimmed = cleanText(body.replace(/^\uFEFF/, '')).trim();
  if (!trimmed) throw new FeedParseError('the document is empty');
  let input: string | object = trimmed;
  let skipped = 0;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      input = JSON.parse(trimmed) as object;
    } catch (error) {
      throw new FeedParseError(`not valid JSON: ${(error as Error).message}`);
    }
  } else {
    const bounded = boundItems(unprefixRssRoot(trimmed), Math.max(2 * maxItems, 100));
    if (countAttributes(bounded.xml) > MAX_ATTRIBUTES)
      throw new FeedParseError(`the document has more than ${MAX_ATTRIBUTES} attributes, far more than a feed needs`);
    try {
      return { ...parseFeed(bounded.xml), skipped: bounded.skipped };
    } catch {
      // The cut landed somewhere odd (an "</item>" inside CDATA?): read the whole document instead.
      input = bounded.skipped ? unprefixRssRoot(trimmed) : bounded.xml;
      skipped = 0;
    }
  }
  try {
    return { ...parseFeed(input), skipped };
  } catch (error) {
    if (error instanceof RangeError) throw new FeedParseError('the document is nested too deeply to read');
    const name = (error as Error).name;
    throw new FeedParseError(
      name === 'DetectError' || /invalid feed format/i.test((error as Error).message) ? 'not an RSS, Atom, RDF or JSON feed' : (error as Error).message,
    );
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);

function rssDrafts(feed: Record<string, any>): Array<Draft & { base?: string }> {
  return ((feed.items ?? []) as Array<Record<string, any>>).map((item) => ({
    id: item.guid?.value ?? item.rdf?.about ?? item.link,
    url: item.link ?? (item.guid?.isPermaLink !== false ? item.guid?.value : undefined),
    comments: item.comments,
    title: item.title,
    author: item.dc?.creators?.[0] ?? item.dc?.creator ?? item.authors?.[0]?.name ?? item.authors?.[0]?.email ?? item.authors?.[0] ?? item.author,
    html: item.content?.encoded ?? item.description ?? item.media?.group?.description ?? item.media?.description,
    date: firstDate(item.pubDate, item.dc?.dates?.[0], item.dc?.date, item.atom?.updated, item.dcterms?.created),
    raw: item,
    base: item.xml?.base,
  }));
}

/**
 * Parses a feed document (XML or JSON text) with feedsmith and normalises its items. Throws FeedParseError
 * with a clear message for a document that is not a feed or is malformed; one bad item is rejected with its
 * reason and never fails the others.
 */
export function parseFeedDocument(body: string, options: ParseOptions = {}): ParsedFeed {
  const result = parseDocument(body, options.maxItems ?? DEFAULT_MAX_ITEMS);
  const feed = result.feed as Record<string, any>;
  const title = plain(feed.title);
  // xml:base nests: the document's URL, then the feed's base, then the item's.
  const docBase = options.baseUrl ?? (typeof feed.link === 'string' ? (resolveUrl(feed.link) ?? undefined) : undefined);
  const feedBase = resolveBase(feed.xml?.base, docBase);
  let drafts: Array<Draft & { base?: string }>;
  switch (result.format) {
    case 'rss':
    case 'rdf':
      drafts = rssDrafts(feed);
      break;
    case 'atom':
      drafts = ((feed.entries ?? []) as Array<Record<string, any>>).map((entry) => {
        const links = (entry.links ?? []) as Array<{ href?: string; rel?: string }>;
        // Only the alternate link is the entry's own page: never "replies", "edit", "self", "enclosure", "related".
        const link = links.find((l) => !l.rel || l.rel === 'alternate');
        const id = str(entry.id);
        return {
          id,
          url: link?.href ?? (id && /^https?:\/\//i.test(id) ? id : undefined),
          comments: links.find((l) => l.rel === 'replies')?.href,
          title: entry.title,
          author: entry.authors?.[0]?.name ?? feed.authors?.[0]?.name,
          html: entry.content?.value ?? entry.content ?? entry.summary?.value ?? entry.summary,
          date: firstDate(entry.published, entry.updated),
          raw: entry,
          base: entry.xml?.base,
        };
      });
      break;
    case 'json': {
      const feedAuthor = feed.authors?.[0]?.name ?? feed.author?.name;
      drafts = ((feed.items ?? []) as Array<Record<string, any>>).map((item) => ({
        id: item.id,
        url: item.url ?? item.external_url,
        title: item.title,
        author: item.authors?.[0]?.name ?? item.author?.name ?? feedAuthor,
        html: item.content_html ?? (typeof item.content_text === 'string' ? escapeText(item.content_text) : undefined) ?? item.summary,
        date: firstDate(item.date_published, item.date_modified),
        raw: item,
      }));
      break;
    }
    default:
      throw new FeedParseError('unsupported feed format');
  }
  const parsed = normalise({ format: result.format as ParsedFeed['format'], title, drafts, feedBase, options });
  return { ...parsed, overCap: parsed.overCap + result.skipped };
}

function normalise(input: {
  format: ParsedFeed['format'];
  title: string;
  drafts: Array<Draft & { base?: string }>;
  feedBase?: string;
  options: ParseOptions;
}): ParsedFeed {
  const { format, title, drafts, feedBase, options } = input;
  const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
  // The newest items first (undated ones count as new); the remainder waits for the next poll.
  const order = drafts.map((_, i) => i);
  if (drafts.length > maxItems) order.sort((a, b) => (drafts[b].date?.getTime() ?? Infinity) - (drafts[a].date?.getTime() ?? Infinity) || a - b);
  const kept = order.slice(0, maxItems).sort((a, b) => a - b);
  const items: ParsedItem[] = [];
  const rejected: RejectedItem[] = [];
  let rejectedCount = 0;
  const reject = (index: number, reason: string) => {
    rejectedCount++;
    if (rejected.length < MAX_REJECTED) rejected.push({ index, reason });
  };
  for (const index of kept) {
    try {
      const item = normaliseItem(drafts[index], { format, feedTitle: title, base: resolveBase(drafts[index].base, feedBase), fetchedAt: options.fetchedAt });
      if (typeof item === 'string') reject(index, item);
      else items.push(item);
    } catch (error) {
      reject(index, `item could not be read: ${(error as Error).message}`);
    }
  }
  return { format, title, items, rejected, rejectedCount, overCap: drafts.length - kept.length };
}

function normaliseItem(draft: Draft, ctx: { format: ParsedFeed['format']; feedTitle: string; base?: string; fetchedAt?: Date }): ParsedItem | string {
  const url = resolveUrl(str(draft.url), ctx.base);
  if (!url) return 'item has no http(s) link';
  // Undated items (RSS 0.91, some hand-made feeds) are dated when first seen; nothing is dated in the future.
  const seen = ctx.fetchedAt ?? new Date();
  const date = draft.date && draft.date < seen ? draft.date : seen;
  const html = typeof draft.html === 'string' ? draft.html : plainValue(draft.html);
  const text = stripPlatformBoilerplate(htmlToText(html));
  const itemTitle = plain(draft.title);
  if (!text && !itemTitle) return 'item has neither title nor text';
  const externalId = cleanText((str(draft.id) ?? url).trim()).slice(0, 500) || url.slice(0, 500);
  const author = plain(draft.author) || authorFromUrl(url) || (ctx.format === 'rss' && /^@\S+ - /.test(ctx.feedTitle) ? ctx.feedTitle.split(' - ')[0] : '');
  return {
    externalId,
    url,
    discussionUrl: resolveUrl(str(draft.comments), ctx.base),
    title: itemTitle.slice(0, MAX_TITLE),
    author: author.slice(0, 200),
    text,
    publishedAt: date,
    dated: draft.date !== null,
    engagement: {},
    rawJson: rawPayload(draft.raw),
  };
}

function plainValue(value: unknown): string {
  if (value && typeof value === 'object' && 'value' in value) return str((value as { value: unknown }).value) ?? '';
  return '';
}

/** The raw item for the record, as JSON: strings cleaned; an item too big to keep whole keeps its first 32 KB of JSON as text. */
export function rawPayload(raw: unknown): string {
  const json = JSON.stringify(cleanDeep(raw)) ?? 'null';
  return json.length <= MAX_RAW_CHARS ? json : JSON.stringify({ truncated: true, json: json.slice(0, MAX_RAW_CHARS) });
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br>');
}

function resolveBase(base: unknown, parent?: string): string | undefined {
  if (typeof base !== 'string' || !base) return parent;
  try {
    return new URL(base.trim(), parent).toString();
  } catch {
    return parent;
  }
}

export function resolveUrl(href: string | undefined | null, base?: string): string | null {
  if (!href || typeof href !== 'string') return null;
  try {
    const url = new URL(cleanText(href).trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

/** Decodes and parses fetched bytes in one step (what the parse worker runs). */
export function parseFeedBytes(bytes: Buffer, options: ParseOptions & { contentType?: string | null } = {}): ParsedFeed {
  return parseFeedDocument(decodeFeedBytes(bytes, { contentType: options.contentType }), options);
}
