import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { type INestApplicationContext } from '@nestjs/common';
import { AppModule } from '../src/app.module';
import { loadConfig } from '../src/kernel/config/config';
import { HttpFetcher } from '../src/kernel/http/http-fetcher.port';
import { SafeHttpFetcher, type Resolver } from '../src/kernel/http/safe-http-fetcher.adapter';
import { SourcesService } from '../src/sources/sources.service';
import { listenOnLoopback } from '../test/fakes/fake-http';

/**
 * Hostile URLs through `sources test` (SourcesService.testTarget, what the command calls), on the app's real
 * safe fetcher with no allowlist but one host name (`redirector.test`, a local server that redirects inward) and
 * a DNS resolver that plays a hostile DNS server for the `*.test` names (everything else is real DNS).
 */
it('hostile URLs through sources test', async () => {
  const secretHits: string[] = [];
  const server = await listenOnLoopback(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/secret') {
      secretHits.push(req.url ?? '');
      return void res
        .writeHead(200)
        .end('<rss version="2.0"><channel><title>internal</title><item><title>secret</title><link>https://x.example/s</link></item></channel></rss>');
    }
    if (url.pathname === '/to') return void res.writeHead(302, { location: url.searchParams.get('u') ?? '/' }).end();
    if (url.pathname.startsWith('/loop')) return void res.writeHead(301, { location: `/loop${Number(url.pathname.slice(5) || 0) + 1}` }).end();
    res.writeHead(404).end();
  });
  const port = new URL(server.url).port;
  let rebinds = 0;
  const fakeDns: Record<string, () => string[]> = {
    'redirector.test': () => ['127.0.0.1'],
    'internal.test': () => ['10.0.0.5'],
    'metadata.test': () => ['169.254.169.254'],
    'mixed.test': () => ['93.184.216.34', '192.168.0.1'],
    'v6local.test': () => ['::1'],
    'mapped.test': () => ['::ffff:127.0.0.1'],
    'cgnat.test': () => ['100.64.1.1'],
    'rebind.test': () => (rebinds++ === 0 ? ['127.0.0.2'] : ['127.0.0.1']),
  };
  const resolver: Resolver = async (host) => {
    const fake = fakeDns[host];
    if (fake) return fake().map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    return lookup(host, { all: true, verbatim: true });
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-bench-urls-'));
  const config = loadConfig({ DATA_DIR: dataDir, DEMO: 'false', SCHEDULER_ENABLED: 'false', FETCH_TIMEOUT_SECONDS: '5' });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] })
    .overrideProvider(HttpFetcher)
    .useValue(new SafeHttpFetcher({ ...config.fetch, allowlist: ['redirector.test', '127.0.0.2'], resolver }))
    .compile();
  const app: INestApplicationContext = await moduleRef.init();
  const sources = app.get(SourcesService, { strict: false });
  const r = `http://redirector.test:${port}`;
  const to = (u: string) => `${r}/to?u=${encodeURIComponent(u)}`;
  const urls = [
    `http://127.0.0.1:${port}/secret`,
    `http://localhost:${port}/secret`,
    `http://2130706433:${port}/secret`,
    `http://0x7f000001:${port}/secret`,
    `http://0177.0.0.1:${port}/secret`,
    `http://127.1:${port}/secret`,
    `http://0:${port}/secret`,
    `http://[::1]:${port}/secret`,
    `http://[::ffff:127.0.0.1]:${port}/secret`,
    `http://[0:0:0:0:0:ffff:7f00:1]:${port}/secret`,
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://100.100.100.200/latest/meta-data/',
    'http://168.63.129.16/metadata/instance',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://224.0.0.251/',
    'http://255.255.255.255/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://[2002:7f00:1::1]/',
    'http://[64:ff9b::7f00:1]/',
    `http://internal.test:${port}/`,
    `http://metadata.test/`,
    `http://mixed.test/`,
    `http://v6local.test:${port}/secret`,
    `http://mapped.test:${port}/secret`,
    'http://cgnat.test/',
    `http://rebind.test:${port}/secret`,
    'http://localtest.me/',
    'http://127.0.0.1.nip.io/',
    to(`http://127.0.0.1:${port}/secret`),
    to('http://169.254.169.254/latest/meta-data/'),
    to(`http://[::1]:${port}/secret`),
    to('file:///etc/passwd'),
    to(`http://internal.test:${port}/secret`),
    `${r}/loop`,
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'ftp://example.com/feed.xml',
    'javascript:alert(1)',
    'http://user:pass@example.com/feed',
    'data:text/xml,<rss/>',
  ];
  const rows: Array<{ url: string; outcome: string }> = [];
  try {
    for (const url of urls) {
      try {
        const result = await sources.testTarget({ kind: 'rss', target: url });
        rows.push({ url, outcome: `FETCHED: ${result.items} items` });
      } catch (error) {
        rows.push({ url, outcome: `${(error as { code?: string }).code ?? (error as Error).name}: ${(error as Error).message}` });
      }
    }
  } finally {
    await app.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(rows.map((x) => `${x.url} | ${x.outcome}`).join('\n'));
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'ingest-hostile-urls.json'),
    `${JSON.stringify({ cpus: cpus().length, node: process.version, internalRequestsReached: secretHits.length, urls: rows }, null, 2)}\n`,
  );
  expect(secretHits).toEqual([]);
  expect(rows.filter((x) => x.outcome.startsWith('FETCHED'))).toEqual([]);
});
