// The hostile-URL table of the safe fetcher, tried through the real `broadsheet sources test` command (in-process,
// test/support/run-cli.ts) with a local DNS server standing in for a hostile one (FETCH_DNS_SERVERS) and a local
// server that holds a secret and redirects inward. Used by test/e2e/sources-hostile-urls.e2e-spec.ts (asserts)
// and bench/ingest-hostile-urls.bench.ts (writes the table to bench/results).
import { listenOnLoopback } from '../fakes/fake-http';
import { startFakeDns } from '../fakes/fake-dns';
import { cliWorkspace } from './run-cli';

export interface HostileUrlOutcome {
  url: string;
  what: string;
  exitCode: number;
  /** The command's one-line reason (stderr), or what it fetched. */
  outcome: string;
}

export interface HostileUrlRun {
  rows: HostileUrlOutcome[];
  /** Requests that reached the local server's secret: must be none. */
  secretHits: string[];
  dnsQuestions: string[];
}

export async function runHostileUrls(): Promise<HostileUrlRun> {
  const secretHits: string[] = [];
  const server = await listenOnLoopback(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/secret') {
      secretHits.push(`${req.headers.host ?? ''}${req.url ?? ''}`);
      return void res
        .writeHead(200, { 'content-type': 'application/rss+xml' })
        .end('<rss version="2.0"><channel><title>internal</title><item><title>secret</title><link>https://x.example/s</link></item></channel></rss>');
    }
    if (url.pathname === '/to') return void res.writeHead(302, { location: url.searchParams.get('u') ?? '/' }).end();
    if (url.pathname.startsWith('/loop')) return void res.writeHead(301, { location: `/loop${Number(url.pathname.slice(5) || 0) + 1}` }).end();
    res.writeHead(404).end();
  });
  const port = new URL(server.url).port;
  let rebinds = 0;
  const dns = await startFakeDns({
    // The one allowlisted name: the local redirector.
    'redirector.test': ['127.0.0.1'],
    'internal.test': ['10.0.0.5'],
    'metadata.test': ['169.254.169.254'],
    'metadata-v6.test': ['fd00:ec2::254'],
    'mixed.test': ['93.184.216.34', '192.168.0.1'],
    'v6local.test': ['::1'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'cgnat.test': ['100.64.1.1'],
    'multicast.test': ['239.255.255.250'],
    'reserved.test': ['240.0.0.1'],
    // Public first, loopback next: a rebinding server. The vetted answer is the one the socket connects to.
    'rebind.test': () => (rebinds++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']),
    // As the public wildcard services answer.
    'localtest.me': ['127.0.0.1'],
    '127.0.0.1.nip.io': ['127.0.0.1'],
    'metadata.google.internal': ['169.254.169.254'],
  });
  const workspace = await cliWorkspace({
    DEMO: 'false',
    FETCH_DNS_SERVERS: dns.server,
    FETCH_ALLOWLIST: 'redirector.test',
    FETCH_TIMEOUT_SECONDS: '5',
    FETCH_MAX_REDIRECTS: '5',
  });
  const r = `http://redirector.test:${port}`;
  const to = (u: string) => `${r}/to?u=${encodeURIComponent(u)}`;
  const cases: Array<[string, string]> = [
    [`http://127.0.0.1:${port}/secret`, 'loopback'],
    [`http://localhost:${port}/secret`, 'localhost'],
    [`http://2130706433:${port}/secret`, 'loopback, decimal'],
    [`http://0x7f000001:${port}/secret`, 'loopback, hex'],
    [`http://0177.0.0.1:${port}/secret`, 'loopback, octal'],
    [`http://127.1:${port}/secret`, 'loopback, short form'],
    [`http://0:${port}/secret`, '0.0.0.0'],
    [`http://[::1]:${port}/secret`, 'IPv6 loopback'],
    [`http://[::ffff:127.0.0.1]:${port}/secret`, 'IPv4-mapped IPv6 loopback'],
    [`http://[0:0:0:0:0:ffff:7f00:1]:${port}/secret`, 'IPv4-mapped IPv6, hex'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata (AWS, GCP, Azure)'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'AWS metadata over IPv6'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'GCP metadata name'],
    ['http://100.100.100.200/latest/meta-data/', 'Alibaba metadata (CGNAT range)'],
    ['http://168.63.129.16/metadata/instance', 'Azure wire server'],
    ['http://10.0.0.1/', 'private 10/8'],
    ['http://172.16.0.1/', 'private 172.16/12'],
    ['http://192.168.1.1/', 'private 192.168/16'],
    ['http://100.64.0.1/', 'CGNAT 100.64/10'],
    ['http://169.254.1.1/', 'link-local'],
    ['http://224.0.0.251/', 'multicast'],
    ['http://240.0.0.1/', 'reserved 240/4'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://[fe80::1]/', 'IPv6 link-local'],
    ['http://[fc00::1]/', 'IPv6 unique-local'],
    ['http://[ff02::1]/', 'IPv6 multicast'],
    ['http://[2002:7f00:1::1]/', '6to4 of 127.0.0.1'],
    ['http://[64:ff9b::7f00:1]/', 'NAT64 of 127.0.0.1'],
    [`http://internal.test:${port}/secret`, 'DNS answers 10.0.0.5'],
    ['http://metadata.test/', 'DNS answers 169.254.169.254'],
    ['http://metadata-v6.test/', 'DNS answers fd00:ec2::254'],
    ['http://mixed.test/', 'DNS answers one public and one private address'],
    [`http://v6local.test:${port}/secret`, 'DNS answers ::1'],
    [`http://mapped.test:${port}/secret`, 'DNS answers ::ffff:127.0.0.1'],
    ['http://cgnat.test/', 'DNS answers 100.64.1.1'],
    ['http://multicast.test/', 'DNS answers 239.255.255.250'],
    ['http://reserved.test/', 'DNS answers 240.0.0.1'],
    [`http://rebind.test:${port}/secret`, 'DNS rebinding (public, then loopback)'],
    [`http://localtest.me:${port}/secret`, 'public wildcard name for 127.0.0.1'],
    [`http://127.0.0.1.nip.io:${port}/secret`, 'nip.io name for 127.0.0.1'],
    ['http://unknown-name.test/', 'name that does not resolve'],
    [to(`http://127.0.0.1:${port}/secret`), 'redirect to loopback'],
    [to('http://169.254.169.254/latest/meta-data/'), 'redirect to metadata'],
    [to(`http://[::1]:${port}/secret`), 'redirect to IPv6 loopback'],
    [to(`http://internal.test:${port}/secret`), 'redirect to a name that answers a private address'],
    [to(`http://2130706433:${port}/secret`), 'redirect to decimal loopback'],
    [to('file:///etc/passwd'), 'redirect to file:'],
    [`${r}/loop`, 'endless redirect chain'],
    ['file:///etc/passwd', 'file: scheme'],
    ['gopher://127.0.0.1:6379/_INFO', 'gopher: scheme'],
    ['ftp://example.com/feed.xml', 'ftp: scheme'],
    ['javascript:alert(1)', 'javascript: scheme'],
    ['data:text/xml,<rss/>', 'data: scheme'],
    ['http://user:pass@example.com/feed', 'credentials in the URL'],
    [`http://user@127.0.0.1:${port}/secret`, 'user name and loopback'],
  ];
  const rows: HostileUrlOutcome[] = [];
  try {
    for (const [url, what] of cases) {
      const run = await workspace.run('sources', 'test', '--kind', 'rss', '--target', url, '--json');
      const fetched = run.code === 0 ? `FETCHED: ${JSON.stringify(run.json<{ items: number }>().items)} items` : null;
      rows.push({ url, what, exitCode: run.code, outcome: fetched ?? run.stderr.trim().split('\n').at(-1) ?? '' });
    }
  } finally {
    await workspace.close();
    await dns.close();
    await server.close();
  }
  return { rows, secretHits, dnsQuestions: dns.questions };
}
