import { cleanText } from '../parsing/clean-text';
import { dateFromEpochSeconds, parseFeedDate } from '../parsing/feed-date';
import { FeedParseError } from '../parsing/feed-parse-error';
import { htmlToText, MAX_TEXT, rawPayload, resolveUrl, type Engagement, type ParsedFeed, type ParsedItem, type RejectedItem } from '../parsing/feed-parser';

/** Payload formats of the platforms' JSON APIs; `feed` is any RSS/RDF/Atom/JSON Feed document. */
export type PayloadFormat = 'feed' | 'reddit' | 'hackernews' | 'bluesky' | 'mastodon';

export interface PlatformParseOptions {
  fetchedAt: Date;
  maxItems: number;
  /** Mastodon: the instance host, for authors of local accounts (`@user@host`). */
  host?: string;
}

type Json = Record<string, any>;

function json(body: string, what: string): Json {
  try {
    const value = JSON.parse(body) as unknown;
    if (!value || typeof value !== 'object') throw new Error('not an object');
    return value as Json;
  } catch (error) {
    throw new FeedParseError(`the ${what} answer is not valid JSON: ${(error as Error).message}`);
  }
}

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined);
const s = (value: unknown): string => (typeof value === 'string' ? cleanText(value) : typeof value === 'number' ? String(value) : '');

function engagement(figures: Record<string, unknown>): Engagement {
  const out: Engagement = {};
  for (const [key, value] of Object.entries(figures)) {
    const n = count(value);
    if (n !== undefined) out[key] = n;
  }
  return out;
}

interface Candidate {
  id: string;
  url: string | null;
  title?: string;
  author?: string;
  text?: string;
  html?: string;
  date: Date | null;
  engagement: Engagement;
  raw: unknown;
}

function collect(
  format: ParsedFeed['format'],
  title: string,
  list: unknown[],
  build: (entry: Json) => Candidate | string,
  options: PlatformParseOptions,
): ParsedFeed {
  const items: ParsedItem[] = [];
  const rejected: RejectedItem[] = [];
  let rejectedCount = 0;
  const kept = list.slice(0, options.maxItems);
  kept.forEach((entry, index) => {
    try {
      if (!entry || typeof entry !== 'object') throw new Error('not an object');
      const c = build(entry as Json);
      if (typeof c === 'string') throw new Error(c);
      const url = resolveUrl(c.url);
      if (!url) throw new Error('item has no http(s) link');
      if (!c.id) throw new Error('item has no id');
      const text =
        c.html !== undefined
          ? htmlToText(c.html)
          : cleanText(c.text ?? '')
              .trim()
              .slice(0, MAX_TEXT);
      const itemTitle = cleanText(c.title ?? '')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 500);
      if (!text && !itemTitle) throw new Error('item has neither title nor text');
      const date = c.date && c.date < options.fetchedAt ? c.date : options.fetchedAt;
      items.push({
        externalId: cleanText(c.id).slice(0, 500),
        url,
        discussionUrl: null,
        title: itemTitle,
        author: cleanText(c.author ?? '').slice(0, 200),
        text,
        publishedAt: date,
        dated: c.date !== null,
        engagement: c.engagement,
        rawJson: rawPayload(c.raw),
      });
    } catch (error) {
      rejectedCount++;
      if (rejected.length < 100) rejected.push({ index, reason: (error as Error).message });
    }
  });
  return { format, title, items, rejected, rejectedCount, overCap: list.length - kept.length };
}

/** Reddit's JSON listing (`/r/<sub>/new.json`): score and comment count; the record is the discussion page. */
export function parseRedditListing(body: string, options: PlatformParseOptions): ParsedFeed {
  const doc = json(body, 'Reddit');
  if (doc.kind !== 'Listing' || !Array.isArray(doc.data?.children)) throw new FeedParseError('the Reddit answer is not a listing');
  return collect(
    'json',
    '',
    doc.data.children,
    (child) => {
      const d = child.data as Json | undefined;
      if (!d) return 'listing entry without data';
      return {
        id: s(d.name) || s(d.id),
        url: d.permalink ? `https://www.reddit.com${s(d.permalink)}` : s(d.url),
        title: s(d.title),
        author: d.author ? `u/${s(d.author)}` : '',
        html: typeof d.selftext_html === 'string' ? d.selftext_html : undefined,
        text: typeof d.selftext_html === 'string' ? undefined : s(d.selftext),
        date: dateFromEpochSeconds(d.created_utc),
        engagement: engagement({ score: d.score, comments: d.num_comments, upvoteRatio: undefined }),
        raw: d,
      };
    },
    options,
  );
}

/** Algolia's Hacker News search (`/api/v1/search` and `search_by_date`): points and comments; the record is the discussion. */
export function parseHackerNewsSearch(body: string, options: PlatformParseOptions): ParsedFeed {
  const doc = json(body, 'Hacker News (Algolia)');
  if (!Array.isArray(doc.hits)) throw new FeedParseError('the Hacker News answer has no "hits"');
  return collect(
    'json',
    '',
    doc.hits,
    (hit) => {
      const id = s(hit.objectID) || s(hit.story_id);
      if (!/^\d+$/.test(id)) return 'hit without a numeric objectID';
      return {
        id,
        url: `https://news.ycombinator.com/item?id=${id}`,
        title: s(hit.title) || s(hit.story_title),
        author: s(hit.author),
        html: typeof hit.story_text === 'string' && hit.story_text ? hit.story_text : typeof hit.comment_text === 'string' ? hit.comment_text : undefined,
        text: hit.url ? s(hit.url) : '',
        date: dateFromEpochSeconds(hit.created_at_i) ?? parseFeedDate(hit.created_at),
        engagement: engagement({ points: hit.points, comments: hit.num_comments }),
        raw: hit,
      };
    },
    options,
  );
}

/** Bluesky AppView `getAuthorFeed` (`feed[].post`) and `searchPosts` (`posts[]`): likes, reposts, replies, quotes. */
export function parseBlueskyFeed(body: string, options: PlatformParseOptions): ParsedFeed {
  const doc = json(body, 'Bluesky');
  const entries: unknown[] | null = Array.isArray(doc.feed)
    ? doc.feed.filter((f: Json) => !f?.reason).map((f: Json) => f.post)
    : Array.isArray(doc.posts)
      ? doc.posts
      : null;
  if (!entries) throw new FeedParseError('the Bluesky answer has neither "feed" nor "posts"');
  return collect(
    'json',
    '',
    entries,
    (post) => {
      const uri = s(post.uri);
      const rkey = /^at:\/\/[^/]+\/app\.bsky\.feed\.post\/([A-Za-z0-9._~:-]+)$/.exec(uri)?.[1];
      const handle = s(post.author?.handle);
      if (!rkey || !handle) return 'post without an at:// URI or author handle';
      return {
        id: uri,
        url: `https://bsky.app/profile/${encodeURIComponent(handle)}/post/${rkey}`,
        author: `@${handle}`,
        text: s(post.record?.text),
        date: parseFeedDate(post.record?.createdAt) ?? parseFeedDate(post.indexedAt),
        engagement: engagement({ likes: post.likeCount, reposts: post.repostCount, replies: post.replyCount, quotes: post.quoteCount }),
        raw: post,
      };
    },
    options,
  );
}

/** Mastodon statuses (`/api/v1/timelines/tag/:tag`, `/api/v1/accounts/:id/statuses`): favourites, boosts, replies. */
export function parseMastodonStatuses(body: string, options: PlatformParseOptions): ParsedFeed {
  let list: unknown;
  try {
    list = JSON.parse(body) as unknown;
  } catch (error) {
    throw new FeedParseError(`the Mastodon answer is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(list)) throw new FeedParseError('the Mastodon answer is not a list of statuses');
  return collect(
    'json',
    '',
    list,
    (status) => {
      const st = (status.reblog as Json | null) ?? status;
      const acct = s(st.account?.acct);
      return {
        id: s(st.uri) || s(st.id),
        url: s(st.url) || s(st.uri),
        author: acct ? `@${acct.includes('@') ? acct : `${acct}@${options.host ?? ''}`}`.replace(/@$/, '') : '',
        html: [st.spoiler_text ? `<p>${s(st.spoiler_text).replace(/</g, '&lt;')}</p>` : '', s(st.content)].join(''),
        date: parseFeedDate(st.created_at),
        engagement: engagement({ favourites: st.favourites_count, boosts: st.reblogs_count, replies: st.replies_count }),
        raw: st,
      };
    },
    options,
  );
}
