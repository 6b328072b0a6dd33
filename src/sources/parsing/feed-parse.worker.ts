import { parseBlueskyFeed, parseHackerNewsSearch, parseMastodonStatuses, parseRedditListing, type PayloadFormat } from '../adapters/platform-parsers';
import { decodeFeedBytes } from './feed-decoding';
import { parseFeedBytes, type ParsedFeed } from './feed-parser';

export interface ParseTask {
  bytes: Uint8Array;
  format: PayloadFormat;
  contentType?: string | null;
  baseUrl?: string;
  host?: string;
  fetchedAt: number;
  maxItems: number;
}

export type ParseOutcome = { ok: true; feed: ParsedFeed } | { ok: false; error: string };

const PLATFORM = { reddit: parseRedditListing, hackernews: parseHackerNewsSearch, bluesky: parseBlueskyFeed, mastodon: parseMastodonStatuses };

/** Runs in a worker thread (piscina): decoding, XML/JSON parsing and HTML-to-text never block the server. */
export default function parseInWorker(task: ParseTask): ParseOutcome {
  try {
    const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
    const fetchedAt = new Date(task.fetchedAt);
    if (task.format === 'feed') return { ok: true, feed: parseFeedBytes(bytes, { contentType: task.contentType, baseUrl: task.baseUrl, fetchedAt, maxItems: task.maxItems }) };
    const body = decodeFeedBytes(bytes, { contentType: task.contentType });
    return { ok: true, feed: PLATFORM[task.format](body, { fetchedAt, maxItems: task.maxItems, host: task.host }) };
  } catch (error) {
    const e = error as Error;
    return { ok: false, error: e.name === 'FeedParseError' ? e.message : `${e.name}: ${e.message}` };
  }
}
