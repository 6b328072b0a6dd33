import { parseBlueskyFeed, parseHackerNewsSearch, parseMastodonStatuses, parseRedditListing, type PayloadFormat } from '../adapters/platform-parsers';
import { decodeFeedBytes } from './feed-decoding';
import { parseFeedBytes, type ParsedFeed } from './feed-parser';
import { textSignature } from './fingerprint';

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
    const feed =
      task.format === 'feed'
        ? parseFeedBytes(bytes, { contentType: task.contentType, baseUrl: task.baseUrl, fetchedAt, maxItems: task.maxItems })
        : PLATFORM[task.format](decodeFeedBytes(bytes, { contentType: task.contentType }), { fetchedAt, maxItems: task.maxItems, host: task.host });
    // Dedupe signatures here too, off the server's event loop.
    for (const item of feed.items) item.signature = textSignature(item.text);
    return { ok: true, feed };
  } catch (error) {
    const e = error as Error;
    return { ok: false, error: e.name === 'FeedParseError' ? e.message : `${e.name}: ${e.message}` };
  }
}
