// A local stand-in for Reddit, Algolia (Hacker News), the Bluesky AppView, a Mastodon instance and any feed host:
// it serves recorded payloads (test/fixtures) at the platforms' real paths, with ETag/304, and can be told to
// answer an error (403, 429 with Retry-After, 500…) on any path.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listenOnLoopback, type ListeningServer } from './fake-http';

const FIXTURES = join(__dirname, '..', 'fixtures');

export interface FakeRoute {
  status?: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export interface FakePlatforms extends ListeningServer {
  /** Every request as `METHOD path?query`, with its headers. */
  requests: Array<{ path: string; headers: Record<string, string | string[] | undefined> }>;
  /** Sets (or replaces) what a path answers; the query string is ignored when matching. */
  route(path: string, route: FakeRoute): void;
  fixture(name: string): Buffer;
  /** Puts every path back to its recorded payload (dropping paths a test added) and forgets the requests. */
  reset(): void;
}

const json = (file: string): FakeRoute => ({ body: readFileSync(join(FIXTURES, file)), headers: { 'content-type': 'application/json; charset=utf-8' } });
const xml = (file: string, type = 'application/rss+xml'): FakeRoute => ({
  body: readFileSync(join(FIXTURES, file)),
  headers: { 'content-type': `${type}; charset=utf-8` },
});

export async function startFakePlatforms(): Promise<FakePlatforms> {
  const routes = new Map<string, FakeRoute>([
    ['/r/LocalLLaMA/new.json', json('platforms/reddit-new.json')],
    ['/r/LocalLLaMA/new/.rss', xml('feeds/reddit.atom.xml', 'application/atom+xml')],
    ['/api/v1/search', json('platforms/hn-front.json')],
    ['/api/v1/search_by_date', json('platforms/hn-search.json')],
    ['/xrpc/app.bsky.feed.getAuthorFeed', json('platforms/bsky-author-feed.json')],
    ['/xrpc/app.bsky.feed.searchPosts', json('platforms/bsky-search.json')],
    ['/api/v1/timelines/tag/coralreefs', json('platforms/mastodon-tag.json')],
    ['/api/v1/accounts/lookup', json('platforms/mastodon-account-lookup.json')],
    ['/api/v1/accounts/109001/statuses', json('platforms/mastodon-account-statuses.json')],
    ['/tags/coralreefs.rss', xml('feeds/mastodon-tag.rss.xml')],
    ['/feeds/rss2.xml', xml('feeds/rss2-basic.xml')],
    ['/feeds/atom.xml', xml('feeds/atom-xhtml.xml', 'application/atom+xml')],
    ['/feeds/json11.json', json('feeds/jsonfeed-1.1.json')],
    ['/feeds/rdf.xml', xml('feeds/rdf-rss1.xml', 'application/rdf+xml')],
    ['/feeds/rss091.xml', { body: readFileSync(join(FIXTURES, 'feeds/rss091.xml')), headers: { 'content-type': 'text/xml' } }],
    ['/feeds/hnrss.xml', xml('feeds/hnrss.xml')],
  ]);
  const defaults = new Map(routes);
  const requests: FakePlatforms['requests'] = [];
  const server = await listenOnLoopback(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push({ path: `${url.pathname}${url.search}`, headers: req.headers });
    const route = routes.get(url.pathname);
    if (!route) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    const status = route.status ?? 200;
    const body = route.body ?? '';
    const etag = `"${Buffer.byteLength(body)}-${status}"`;
    if (status === 200 && req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(status, { ...(status === 200 ? { etag, 'last-modified': 'Wed, 18 Nov 2026 12:00:00 GMT' } : {}), ...route.headers });
    res.end(body);
  });
  return {
    ...server,
    requests,
    route: (path, route) => void routes.set(path, route),
    fixture: (name) => readFileSync(join(FIXTURES, name)),
    reset: () => {
      routes.clear();
      for (const [path, route] of defaults) routes.set(path, route);
      requests.length = 0;
    },
  };
}
