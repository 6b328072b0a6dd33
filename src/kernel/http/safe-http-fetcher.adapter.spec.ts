import { gzipSync } from 'node:zlib';
import { type LookupAddress } from 'node:dns';
import { listenOnLoopback, type ListeningServer } from '../../../test/fakes/fake-http';
import { FetchFailedError, FetchRefusedError } from './http-fetcher.port';
import { SafeHttpFetcher, type Resolver } from './safe-http-fetcher.adapter';

const FEED = '<rss version="2.0"><channel><title>t</title></channel></rss>';
// 8 MB of zeros in about 8 KB: compressed once, not per request.
const BOMB = gzipSync(Buffer.alloc(8 * 1024 * 1024));

describe('SafeHttpFetcher', () => {
  let server: ListeningServer;
  let port: number;
  const hits: string[] = [];
  const seen: Array<Record<string, string | string[] | undefined>> = [];

  beforeAll(async () => {
    server = await listenOnLoopback(async (req, res) => {
      hits.push(req.url ?? '');
      seen.push(req.headers);
      const path = req.url ?? '/';
      if (path === '/feed') {
        if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304).end();
        res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag: '"v1"', 'last-modified': 'Thu, 19 Nov 2026 10:00:00 GMT' }).end(FEED);
      } else if (path.startsWith('/redirect-to?')) {
        res.writeHead(302, { location: decodeURIComponent(path.slice('/redirect-to?'.length)) }).end();
      } else if (path.startsWith('/loop')) {
        res.writeHead(301, { location: `/loop${Number(path.slice(5) || 0) + 1}` }).end();
      } else if (path === '/big') {
        res.writeHead(200, { 'content-type': 'text/xml' }).end(Buffer.alloc(64 * 1024, 'a'));
      } else if (path === '/bomb') {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-encoding': 'gzip' }).end(BOMB);
      } else if (path === '/gzip') {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-encoding': 'gzip' }).end(gzipSync(FEED));
      } else if (path === '/slow') {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.write('<rss>'); // and never finish
      } else if (path === '/limited') {
        res.writeHead(429, { 'retry-after': '3600' }).end('slow down');
      } else if (path === '/secret') {
        res.writeHead(200).end('internal secret');
      } else res.writeHead(404).end();
    });
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    hits.length = 0;
    seen.length = 0;
  });

  const make = (options: { allowlist?: string[]; resolver?: Resolver; maxBytes?: number; timeoutMs?: number; maxRedirects?: number } = {}) =>
    new SafeHttpFetcher({
      allowlist: options.allowlist ?? [],
      maxBytes: options.maxBytes ?? 1024 * 1024,
      timeoutMs: options.timeoutMs ?? 5000,
      maxRedirects: options.maxRedirects ?? 3,
      userAgent: 'Broadsheet-test/1 (+https://broadsheet.example)',
      resolver: options.resolver,
    });
  const dns =
    (answers: Record<string, string[] | (() => string[])>): Resolver =>
    async (host) => {
      const entry = answers[host];
      if (!entry) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return (typeof entry === 'function' ? entry() : entry).map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
    };

  it.each([
    ['http://127.0.0.1:PORT/secret', /loopback/],
    ['http://2130706433:PORT/secret', /loopback/],
    ['http://0x7f.0.0.1:PORT/secret', /loopback/],
    ['http://0177.0.0.1:PORT/secret', /loopback/],
    ['http://127.1:PORT/secret', /loopback/],
    ['http://[::1]:PORT/secret', /loopback/],
    ['http://[::ffff:127.0.0.1]:PORT/secret', /loopback/],
    ['http://[::ffff:7f00:1]:PORT/secret', /loopback/],
    ['http://localhost:PORT/secret', /this machine/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /AWS metadata/],
    ['http://100.100.100.200/latest/meta-data/', /Alibaba/],
    ['http://10.0.0.1/', /private/],
    ['http://192.168.1.1/', /private/],
    ['http://172.16.5.4/', /private/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://224.0.0.1/', /multicast/],
    ['http://0.0.0.0:PORT/', /unspecified/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[2002:7f00:1::]/', /6to4/],
    ['file:///etc/passwd', /only http and https/],
    ['gopher://127.0.0.1:PORT/', /only http and https/],
    ['http://user:pw@example.com/', /user name or password/],
  ])('refuses %s without connecting', async (raw, reason) => {
    await expect(make().fetch({ url: raw.replace('PORT', String(port)) })).rejects.toThrow(reason);
    expect(hits).toEqual([]);
  });

  it('refuses a host whose DNS answers a private address, and never connects', async () => {
    const fetcher = make({ resolver: dns({ 'evil.test': ['93.184.216.34', '127.0.0.1'] }) });
    await expect(fetcher.fetch({ url: `http://evil.test:${port}/secret` })).rejects.toThrow(
      new FetchRefusedError('evil.test resolves to a refused address: 127.0.0.1 is a loopback address'),
    );
    expect(hits).toEqual([]);
  });

  it('connects to the vetted address itself: a rebinding DNS answer given after the check is never used', async () => {
    let calls = 0;
    // First answer an allowed address (where nothing listens), every later answer the loopback server.
    const fetcher = make({ allowlist: ['127.0.0.2/32'], resolver: dns({ 'rebind.test': () => (calls++ === 0 ? ['127.0.0.2'] : ['127.0.0.1']) }) });
    await expect(fetcher.fetch({ url: `http://rebind.test:${port}/secret` })).rejects.toThrow(FetchFailedError);
    expect(calls).toBe(1);
    expect(hits).toEqual([]);
  });

  it('fetches through FETCH_ALLOWLIST with conditional GET and a descriptive User-Agent', async () => {
    const fetcher = make({ allowlist: ['127.0.0.1'], resolver: dns({ 'feed.test': ['127.0.0.1'] }) });
    const first = await fetcher.fetch({ url: `http://feed.test:${port}/feed` });
    expect(first).toMatchObject({
      status: 200,
      notModified: false,
      etag: '"v1"',
      lastModified: 'Thu, 19 Nov 2026 10:00:00 GMT',
      contentType: 'application/rss+xml; charset=utf-8',
    });
    expect(first.body.toString()).toBe(FEED);
    const second = await fetcher.fetch({ url: `http://feed.test:${port}/feed`, etag: first.etag, lastModified: first.lastModified });
    expect(second).toMatchObject({ status: 304, notModified: true });
    expect(seen[0]['user-agent']).toBe('Broadsheet-test/1 (+https://broadsheet.example)');
    expect(seen[1]['if-modified-since']).toBe('Thu, 19 Nov 2026 10:00:00 GMT');
  });

  it('re-checks every redirect and refuses one that points inside', async () => {
    const fetcher = make({ allowlist: ['feed.test'], resolver: dns({ 'feed.test': ['127.0.0.1'] }) });
    for (const target of [`http://127.0.0.1:${port}/secret`, 'http://169.254.169.254/latest/meta-data/', `http://[::1]:${port}/secret`, 'file:///etc/passwd']) {
      await expect(fetcher.fetch({ url: `http://feed.test:${port}/redirect-to?${encodeURIComponent(target)}` })).rejects.toThrow(
        /redirected to a refused address/,
      );
    }
    expect(hits.filter((h) => h === '/secret')).toEqual([]);
  });

  it('follows an allowed redirect, reports where it ended, and caps the chain', async () => {
    const fetcher = make({ allowlist: ['127.0.0.1'] });
    const moved = await fetcher.fetch({ url: `http://127.0.0.1:${port}/redirect-to?${encodeURIComponent('/feed')}` });
    expect(moved).toMatchObject({ status: 200, redirects: 1, finalUrl: `http://127.0.0.1:${port}/feed` });
    await expect(fetcher.fetch({ url: `http://127.0.0.1:${port}/loop` })).rejects.toThrow('more than 3 redirects');
  });

  it('caps the size, after decompression too', async () => {
    const fetcher = make({ allowlist: ['127.0.0.1'], maxBytes: 16 * 1024, timeoutMs: 30_000 });
    await expect(fetcher.fetch({ url: `http://127.0.0.1:${port}/big` })).rejects.toThrow('over the 16384-byte limit');
    await expect(fetcher.fetch({ url: `http://127.0.0.1:${port}/bomb` })).rejects.toThrow('over the 16384-byte limit once decompressed');
    expect((await fetcher.fetch({ url: `http://127.0.0.1:${port}/gzip` })).body.toString()).toBe(FEED);
  });

  it('caps the time of a response that never ends', async () => {
    await expect(make({ allowlist: ['127.0.0.1'], timeoutMs: 300 }).fetch({ url: `http://127.0.0.1:${port}/slow` })).rejects.toThrow(
      /within 0 s|within 1 s|took too long/,
    );
  });

  it('reports 429 with its Retry-After', async () => {
    const error = await make({ allowlist: ['127.0.0.1'] })
      .fetch({ url: `http://127.0.0.1:${port}/limited` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchFailedError);
    expect(error).toMatchObject({ httpStatus: 429, retryAfterSeconds: 3600, message: 'the server answered 429 (too many requests)' });
  });
});
