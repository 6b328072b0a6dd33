import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parseFeed } from 'feedsmith';
import { DataSource } from 'typeorm';
import { runDemoIfEmpty } from '../../src/bootstrap';
import { PublicCache } from '../../src/feeds/public-cache';
import { WebSubPublisher } from '../../src/feeds/websub.publisher';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { IssuesService } from '../../src/issues/issues.service';
import { checkEverywhere, type Doc } from '../support/feed-parsers';
import { startTestApp, type TestApp } from '../support/test-app';

/** A WebSub hub that records each publish ping and answers 204, or 503 to the next `n` after `failNext(n)`. */
async function startHub(): Promise<{
  server: Server;
  url: string;
  pings: Array<{ mode: string; url: string; status: number }>;
  failNext: (n: number) => void;
}> {
  const pings: Array<{ mode: string; url: string; status: number }> = [];
  let failing = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const status = failing > 0 ? 503 : 204;
      if (failing > 0) failing--;
      pings.push({ mode: form.get('hub.mode') ?? '', url: form.get('hub.url') ?? '', status });
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub`, pings, failNext: (n) => (failing = n) };
}

/** Raw HTTP answers (fetch would decompress and hide Content-Encoding). */
async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('public cache, conditional GET, compression and WebSub on the demo week', () => {
  let t: TestApp;
  let hub: Awaited<ReturnType<typeof startHub>>;
  let cache: PublicCache;

  beforeAll(async () => {
    hub = await startHub();
    // The timer never fires during the test: every check of the change marker below is explicit.
    t = await startTestApp({ PUBLIC_CACHE_CHECK_SECONDS: '3600', WEBSUB_HUB_URL: hub.url, WEBSUB_RETRY_BASE_MS: '5', WEBSUB_MAX_ATTEMPTS: '3' });
    expect(await runDemoIfEmpty(t.app, t.config)).toBe(true);
    cache = t.get(PublicCache);
    await cache.checkForChanges();
  }, 240_000);

  afterAll(async () => {
    await t?.close();
    hub?.server.close();
  });

  it('serves identical bytes as identity, gzip and brotli, each with its own strong ETag, without rendering again or reading the database', async () => {
    const plain = await get(`${t.url}/feed.xml`);
    expect(plain.status).toBe(200);
    const renders = cache.renders;
    const narratives = jest.spyOn(t.get(NarrativesService), 'latest');
    const marker = jest.spyOn(t.get(NarrativesService), 'changeMarker');
    const gz = await get(`${t.url}/feed.xml`, { 'accept-encoding': 'gzip' });
    const br = await get(`${t.url}/feed.xml`, { 'accept-encoding': 'gzip, deflate, br' });
    const again = await get(`${t.url}/feed.xml`);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(br.headers['content-encoding']).toBe('br');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(again.body.equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 4);
    expect(new Set([plain.headers.etag, gz.headers.etag, br.headers.etag]).size).toBe(3);
    expect(again.headers.etag).toBe(plain.headers.etag);
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.headers['cache-control']).toContain('stale-while-revalidate=');
    expect(cache.renders).toBe(renders);
    expect(narratives).not.toHaveBeenCalled();
    expect(marker).not.toHaveBeenCalled();
    narratives.mockRestore();
    marker.mockRestore();
  });

  it('answers 304 with no body to any representation’s tag, and to If-Modified-Since', async () => {
    const br = await get(`${t.url}/atom.xml`, { 'accept-encoding': 'br' });
    for (const encoding of ['br', 'gzip', 'identity']) {
      const res = await get(`${t.url}/atom.xml`, { 'accept-encoding': encoding, 'if-none-match': String(br.headers.etag) });
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.headers.etag).toBeTruthy();
    }
    const since = await get(`${t.url}/atom.xml`, { 'if-modified-since': String(br.headers['last-modified']) });
    expect(since.status).toBe(304);
    expect((await get(`${t.url}/atom.xml`, { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('names the hub in the Link header and the body of every feed', async () => {
    for (const path of ['/feed.xml', '/atom.xml', '/feed.json', '/issues/feed.xml', '/issues/atom.xml', '/issues/feed.json']) {
      const res = await get(`${t.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.link).toBe(`<${t.url}${path}>; rel="self", <${hub.url}>; rel="hub"`);
      expect(res.body.toString()).toContain(hub.url);
    }
  });

  it('keeps every feed of every topic valid: stories, issues and each beat in RSS, Atom and JSON Feed', async () => {
    const beats = await t.get(NarrativesService).listBeats();
    const folders = ['', '/issues', ...beats.map((b) => `/beats/${b.slug}`)];
    for (const folder of folders) {
      for (const [file, format] of [
        ['feed.xml', 'rss'],
        ['atom.xml', 'atom'],
        ['feed.json', 'json'],
      ] as const) {
        const res = await get(`${t.url}${folder}/${file}`);
        expect(res.status).toBe(200);
        const parsed = parseFeed(res.body.toString());
        expect(parsed.format).toBe(format);
      }
    }
    expect((await get(`${t.url}/feed.xml?page=2`)).status).toBe(404);
    expect((await get(`${t.url}/feed.xml?page=abc`)).status).toBe(404);
    expect((await get(`${t.url}/beats/no-such-beat/atom.xml`)).status).toBe(404);
  });

  it('parses without error in python3-feedparser, newsboat, rss-parser, feedsmith and feed-extractor, which agree on title, link, author and date', async () => {
    const [story] = await t.get(NarrativesService).latest(1);
    const docs: Doc[] = [];
    for (const [path, format] of [
      ['/feed.xml', 'rss'],
      ['/atom.xml', 'atom'],
      ['/issues/feed.xml', 'rss'],
      ['/issues/atom.xml', 'atom'],
      [`/beats/${story.beat.slug}/feed.xml`, 'rss'],
      [`/beats/${story.beat.slug}/atom.xml`, 'atom'],
    ] as const)
      docs.push({ path, format, body: (await get(`${t.url}${path}`)).body.toString() });
    const byPath = await checkEverywhere(docs);
    const entries = [...byPath.values()].flat();
    expect(new Set(entries.map((e) => e.link)).size).toBeGreaterThan(5);
    for (const e of entries) expect({ link: e.link, author: e.author }).toEqual({ link: e.link, author: expect.stringMatching(/\S/) });
  });

  it('keeps serving the cached bytes until the change marker moves, then renders once and pings the hub, retrying a failed ping', async () => {
    const before = await get(`${t.url}/feed.xml`);
    const [story] = await t.get(NarrativesService).latest(1);
    // This test's own pings: from here on, the first one fails.
    await t.get(WebSubPublisher).idle();
    const earlier = hub.pings.length;
    hub.failNext(1);
    await t.get(DataSource).query(`UPDATE narratives SET headline = $1, updated_at = now() WHERE id = $2`, ['A changed headline & more', story.id]);
    // Not seen yet: the marker has not been read again.
    expect((await get(`${t.url}/feed.xml`)).body.equals(before.body)).toBe(true);
    expect(await cache.checkForChanges()).toBe(true);
    const after = await get(`${t.url}/feed.xml`);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.body.toString()).toContain('A changed headline &amp; more');
    expect((await get(`${t.url}/feed.xml`, { 'if-none-match': String(before.headers.etag) })).status).toBe(200);
    // A second look with nothing changed leaves everything alone.
    expect(await cache.checkForChanges()).toBe(false);

    await t.get(WebSubPublisher).idle();
    const pings = hub.pings.slice(earlier);
    const urls = new Set(pings.map((p) => p.url));
    expect(pings.every((p) => p.mode === 'publish')).toBe(true);
    for (const file of ['feed.xml', 'atom.xml', 'feed.json']) {
      expect(urls).toContain(`${t.url}/${file}`);
      expect(urls).toContain(`${t.url}/beats/${story.beat.slug}/${file}`);
    }
    // The first ping got a 503 and was sent again.
    expect(pings[0].status).toBe(503);
    expect(pings.filter((p) => p.url === pings[0].url).map((p) => p.status)).toEqual([503, 204]);
    // Beats the story is not in did not change: no ping for them.
    const otherBeats = (await t.get(NarrativesService).listBeats()).filter((b) => b.slug !== story.beat.slug);
    for (const beat of otherBeats) expect(urls).not.toContain(`${t.url}/beats/${beat.slug}/feed.xml`);
  });

  it('serves the pages from the cache too, with robots.txt, sitemap.xml and a real favicon', async () => {
    const home = await get(`${t.url}/`, { 'accept-encoding': 'br' });
    expect(home.status).toBe(200);
    expect(home.headers['content-security-policy']).toContain("default-src 'none'");
    const html = brotliDecompressSync(home.body).toString();
    expect(html).toContain('class="lead"');
    for (const beat of await t.get(NarrativesService).listBeats()) expect(html).toContain(`<a href="/beats/${beat.slug}">`);
    expect(html).toContain('rel="alternate" type="application/atom+xml"');
    const robots = await get(`${t.url}/robots.txt`);
    expect(robots.body.toString()).toContain(`Sitemap: ${t.url}/sitemap.xml`);
    const sitemap = (await get(`${t.url}/sitemap.xml`)).body.toString();
    const [story] = await t.get(NarrativesService).latest(1);
    expect(sitemap).toContain(`<loc>${t.url}/stories/${story.slug}</loc>`);
    const icon = await get(`${t.url}/favicon.ico`);
    expect(icon.headers['content-type']).toBe('image/x-icon');
    expect([...icon.body.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    const page = (await get(`${t.url}/stories/${story.slug}`)).body.toString();
    expect(page).toContain('<meta property="og:type" content="article">');
    expect(page).toContain('<meta name="twitter:card" content="summary">');
    const [issue] = await t.get(IssuesService).listPublic(1);
    expect(page).toContain(`<a href="/issues/${issue.number}">issue No. ${issue.number}</a>`);
    expect((await get(`${t.url}/issues?page=2`)).status).toBe(404);
    const missing = await get(`${t.url}/stories/not-a-story`);
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('class="masthead"');
  });
});

describe('feeds of an empty site', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DEMO: 'false' });
  }, 240_000);

  afterAll(async () => {
    await t?.close();
  });

  it('has an items array in JSON Feed, no 1970 dates in RSS and Atom, and valid documents', async () => {
    const json = JSON.parse((await get(`${t.url}/feed.json`)).body.toString());
    expect(json.items).toEqual([]);
    expect(json.version).toBe('https://jsonfeed.org/version/1.1');
    for (const path of ['/feed.xml', '/atom.xml', '/issues/feed.xml', '/issues/atom.xml']) {
      const body = (await get(`${t.url}${path}`)).body.toString();
      expect(body).not.toContain('1970');
      expect(['rss', 'atom']).toContain(parseFeed(body).format);
    }
  });
});
