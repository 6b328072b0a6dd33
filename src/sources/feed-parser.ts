import { parseFeed } from 'feedsmith';
import { convert } from 'html-to-text';
import iconv from 'iconv-lite';
import { stripPlatformBoilerplate } from './record-text';

/** One item of a feed, normalised across RSS 0.9x/1.0/2.0, Atom 1.0 and JSON Feed 1.0/1.1. */
export interface ParsedItem {
  externalId: string;
  url: string;
  /** The item's discussion page when the feed names one apart from its link (RSS `<comments>`). */
  discussionUrl: string | null;
  title: string;
  author: string;
  text: string;
  publishedAt: Date;
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
  rejected: RejectedItem[];
}

export class FeedParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedParseError';
  }
}

const MAX_TEXT = 8_000;

/** Plain text from feed HTML: links keep their text only, no images, whitespace collapsed. */
export function htmlToText(html: string): string {
  if (!html) return '';
  const text = convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
    ],
  });
  return text.replace(/[ \t]+/g, ' ').replace(/\n{3,}/g, '\n\n').trim().slice(0, MAX_TEXT);
}

/**
 * Titles and names are text: `<Larchmont>` in an RSS title is kept as written. Only an Atom text construct
 * that declares itself HTML or XHTML is converted from markup.
 */
function plain(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\s+/g, ' ').trim();
  if (value && typeof value === 'object' && 'value' in value) {
    const { value: inner, type } = value as { value: unknown; type?: string };
    if ((type === 'html' || type === 'xhtml') && typeof inner === 'string') return htmlToText(inner).replace(/\s+/g, ' ').trim();
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

function parseDate(...candidates: unknown[]): Date | null {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || !candidate.trim()) continue;
    const date = new Date(candidate.trim());
    if (!Number.isNaN(date.getTime())) return date;
  }
  return null;
}

interface Draft {
  id?: string;
  url?: string;
  comments?: string;
  title?: unknown;
  author?: string;
  html?: string;
  date: Date | null;
}

/**
 * Decodes a feed's bytes: a BOM wins, then the XML declaration's encoding (feeds in ISO-8859-1 or
 * windows-1252 still exist), then UTF-8.
 */
export function decodeFeedBytes(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return new TextDecoder(bytes[0] === 0xff ? 'utf-16le' : 'utf-16be').decode(bytes);
  }
  const head = bytes.subarray(0, 200).toString('latin1');
  const declared = /^\s*<\?xml[^>]*\bencoding=["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  if (declared && !/^utf-?8$/i.test(declared)) {
    // iconv-lite, not TextDecoder: Node 20's TextDecoder decodes windows-1252's 0x80–0x9F (curly quotes, dashes,
    // €) as control characters. Like browsers, treat ISO-8859-1 as windows-1252.
    const label = /^(iso-?8859-1|latin-?1|us-ascii|ascii)$/i.test(declared) ? 'windows-1252' : declared;
    if (!iconv.encodingExists(label)) throw new FeedParseError(`unsupported character encoding "${declared}"`);
    return iconv.decode(bytes, label);
  }
  return bytes.toString('utf8');
}

/**
 * Parses a feed document (XML text or JSON text) with feedsmith and normalises its items. Throws
 * FeedParseError with a clear message for a document that is not a feed or is malformed.
 */
export function parseFeedDocument(body: string, options: { baseUrl?: string; fetchedAt?: Date } = {}): ParsedFeed {
  const { baseUrl } = options;
  const trimmed = body.replace(/^\uFEFF/, '').trim();
  if (!trimmed) throw new FeedParseError('the document is empty');
  let input: string | object = trimmed;
  if (trimmed.startsWith('{')) {
    try {
      input = JSON.parse(trimmed) as object;
    } catch (error) {
      throw new FeedParseError(`not valid JSON: ${(error as Error).message}`);
    }
  }
  let result: ReturnType<typeof parseFeed>;
  try {
    result = parseFeed(input);
  } catch (error) {
    const name = (error as Error).name;
    const reason = name === 'DetectError' ? 'not an RSS, Atom, RDF or JSON feed' : (error as Error).message;
    throw new FeedParseError(`${reason}`);
  }

  let drafts: Draft[];
  let title: string;
  switch (result.format) {
    case 'rss':
    case 'rdf': {
      const feed = result.feed as { title?: unknown; items?: Array<Record<string, any>> };
      title = plain(feed.title);
      drafts = (feed.items ?? []).map((item) => ({
        id: item.guid?.value ?? item.rdf?.about ?? item.link,
        url: item.link ?? (item.guid?.isPermaLink !== false ? item.guid?.value : undefined),
        comments: item.comments,
        title: item.title,
        author: item.dc?.creators?.[0] ?? item.dc?.creator ?? item.authors?.[0]?.name ?? item.authors?.[0]?.email ?? item.author,
        html: item.content?.encoded ?? item.description,
        date: parseDate(item.pubDate, item.dc?.dates?.[0], item.dc?.date, item.atom?.updated),
      }));
      break;
    }
    case 'atom': {
      const feed = result.feed as { title?: unknown; xml?: { base?: string }; authors?: Array<{ name?: string }>; entries?: Array<Record<string, any>> };
      title = plain(feed.title);
      // xml:base nests: document URL, then the feed's base, then the entry's.
      const feedBase = resolveBase(feed.xml?.base, baseUrl);
      drafts = (feed.entries ?? []).map((entry) => {
        const links = (entry.links ?? []) as Array<{ href?: string; rel?: string }>;
        const link = links.find((l) => !l.rel || l.rel === 'alternate') ?? links[0];
        const base = resolveBase(entry.xml?.base, feedBase);
        return {
          id: entry.id,
          url: link?.href ? (resolveUrl(link.href, base) ?? undefined) : undefined,
          title: entry.title,
          author: entry.authors?.[0]?.name ?? feed.authors?.[0]?.name,
          html: entry.content?.value ?? entry.content ?? entry.summary?.value ?? entry.summary,
          date: parseDate(entry.published, entry.updated),
        };
      });
      break;
    }
    case 'json': {
      const feed = result.feed as { title?: unknown; author?: { name?: string }; authors?: Array<{ name?: string }>; items?: Array<Record<string, any>> };
      title = plain(feed.title);
      const feedAuthor = feed.authors?.[0]?.name ?? feed.author?.name;
      drafts = (feed.items ?? []).map((item) => ({
        id: item.id !== undefined ? String(item.id) : undefined,
        url: item.url ?? item.external_url,
        title: item.title,
        author: item.authors?.[0]?.name ?? item.author?.name ?? feedAuthor,
        html: item.content_html ?? (item.content_text ? escapeText(item.content_text) : undefined) ?? item.summary,
        date: parseDate(item.date_published, item.date_modified),
      }));
      break;
    }
    default:
      throw new FeedParseError('unsupported feed format');
  }

  const items: ParsedItem[] = [];
  const rejected: RejectedItem[] = [];
  drafts.forEach((draft, index) => {
    const url = resolveUrl(draft.url, baseUrl);
    if (!url) return rejected.push({ index, reason: 'item has no http(s) link' });
    // Undated items (RSS 0.91, some hand-made feeds) are dated when first seen; nothing is dated in the future.
    const fetchedAt = options.fetchedAt;
    const date = draft.date && fetchedAt && draft.date > fetchedAt ? fetchedAt : (draft.date ?? fetchedAt ?? null);
    if (!date) return rejected.push({ index, reason: 'item has no valid date' });
    const text = stripPlatformBoilerplate(htmlToText(draft.html ?? ''));
    const itemTitle = plain(draft.title);
    if (!text && !itemTitle) return rejected.push({ index, reason: 'item has neither title nor text' });
    items.push({
      externalId: (draft.id ?? url).trim().slice(0, 500),
      url,
      discussionUrl: resolveUrl(draft.comments, baseUrl),
      title: itemTitle.slice(0, 500),
      author: (plain(draft.author) || authorFromUrl(url) || (result.format === 'rss' && /^@\S+ - /.test(title) ? title.split(' - ')[0] : '')).slice(0, 200),
      text,
      publishedAt: date,
    });
  });
  return { format: result.format as ParsedFeed['format'], title, items, rejected };
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br>');
}

function resolveBase(base: string | undefined, parent?: string): string | undefined {
  if (!base) return parent;
  try {
    return new URL(base, parent).toString();
  } catch {
    return parent;
  }
}

function resolveUrl(href: string | undefined, base?: string): string | null {
  if (!href || typeof href !== 'string') return null;
  try {
    const url = new URL(href.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}
