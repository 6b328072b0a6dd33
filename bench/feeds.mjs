// `npm run bench:feeds`: requests per second and p99 latency of the public hot path, next to nginx serving the
// same bytes as static files in the same run. The server runs the demo week (built as `npm start` builds it) with
// its default public cache; nginx (Debian's package, one worker, like Node's one thread) serves the exact /feed.xml,
// home page and story page bytes fetched from it, with gzip_static for the gzip variant. wrk: 2 threads, 32
// connections, loopback. Writes bench/results/feeds.json (requests/s, seconds, bytes).
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { freePort, report, root, start, waitForHealth } from './lib/server.mjs';

const DURATION = process.env.BENCH_SECONDS ?? '5';
const THREADS = '2';
const CONNECTIONS = '32';

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

/** Runs wrk and returns { rps, p99 (seconds) }. */
function wrk(url, headers = {}) {
  const args = ['-t', THREADS, '-c', CONNECTIONS, '-d', `${DURATION}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const out = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const p99m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = Number(p99m[1]) / { us: 1e6, ms: 1e3, s: 1 }[p99m[2]];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = /Socket errors: (.*)/.exec(out);
  if (errors) throw new Error(`wrk socket errors on ${url}: ${errors[1]}`);
  return { rps, p99, non2xx3xx: non2xx ? Number(non2xx[1]) : 0 };
}

async function fetchBytes(url, headers = {}) {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return { body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

const work = mkdtempSync(join(tmpdir(), 'broadsheet-bench-feeds-'));
const dataDir = join(work, 'data');
const www = join(work, 'www');
mkdirSync(join(www, 'stories'), { recursive: true });
let app;
let nginx;
try {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  app = start('node', ['dist/src/main.js'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    SCHEDULER_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    PUBLIC_URL: url,
  });
  await waitForHealth(`${url}/health`, app);
  // The demo runs before the server listens: the feed has its stories now.
  const feed = await fetchBytes(`${url}/feed.xml`);
  const slug = /\/stories\/([a-z0-9-]+)/.exec(feed.body.toString())[1];
  const home = await fetchBytes(`${url}/`);
  const story = await fetchBytes(`${url}/stories/${slug}`);
  const feedGzip = await fetch(`${url}/feed.xml`, { headers: { 'accept-encoding': 'gzip' } });
  const etag = feed.headers.get('etag');

  // nginx: the same bytes, gzip_static beside them.
  writeFileSync(join(www, 'feed.xml'), feed.body);
  writeFileSync(join(www, 'feed.xml.gz'), gzipSync(feed.body, { level: 9 }));
  writeFileSync(join(www, 'index.html'), home.body);
  writeFileSync(join(www, 'stories', `${slug}.html`), story.body);
  const nginxPort = await freePort();
  const conf = join(work, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${join(work, 'nginx.pid')};
error_log ${join(work, 'nginx-error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${work}/tmp-body; proxy_temp_path ${work}/tmp-proxy; fastcgi_temp_path ${work}/tmp-fcgi; uwsgi_temp_path ${work}/tmp-uwsgi; scgi_temp_path ${work}/tmp-scgi;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { application/rss+xml xml; text/html html; }
  server {
    listen 127.0.0.1:${nginxPort};
    root ${www};
    gzip_static on;
    location = / { try_files /index.html =404; }
    location /stories/ { try_files $uri.html =404; }
  }
}
`,
  );
  // nginx's worker (user nobody when started as root) must read the files.
  for (const dir of [work, www, join(www, 'stories')]) chmodSync(dir, 0o755);
  nginx = start('nginx', ['-c', conf, '-p', work], {});
  try {
    await waitForHealth(`http://127.0.0.1:${nginxPort}/feed.xml`, nginx, 10_000);
  } catch (error) {
    let log = '';
    try {
      log = readFileSync(join(work, 'nginx-error.log'), 'utf8');
    } catch {}
    throw new Error(`${error.message}\nnginx error log:\n${log}`);
  }
  const nginxEtag = (await fetch(`http://127.0.0.1:${nginxPort}/feed.xml`)).headers.get('etag');
  const ng = `http://127.0.0.1:${nginxPort}`;

  const gzip = { 'Accept-Encoding': 'gzip' };
  const scenarios = [
    ['feed.xml 200', `${url}/feed.xml`, {}, `${ng}/feed.xml`, {}],
    ['feed.xml 200 gzip', `${url}/feed.xml`, gzip, `${ng}/feed.xml`, gzip],
    ['feed.xml 304', `${url}/feed.xml`, { 'If-None-Match': etag }, `${ng}/feed.xml`, { 'If-None-Match': nginxEtag }],
    ['feed.xml 304 gzip', `${url}/feed.xml`, { ...gzip, 'If-None-Match': etag }, `${ng}/feed.xml`, { ...gzip, 'If-None-Match': nginxEtag }],
    ['home 200', `${url}/`, {}, `${ng}/`, {}],
    ['story 200', `${url}/stories/${slug}`, {}, `${ng}/stories/${slug}`, {}],
  ];
  const rows = [];
  for (const [name, appUrl, appHeaders, nginxUrl, nginxHeaders] of scenarios) {
    // Warm both (JIT, caches) before measuring.
    execFileSync('wrk', ['-t1', '-c4', '-d1s', appUrl]);
    execFileSync('wrk', ['-t1', '-c4', '-d1s', nginxUrl]);
    const broadsheet = wrk(appUrl, appHeaders);
    const static_ = wrk(nginxUrl, nginxHeaders);
    rows.push({
      scenario: name,
      'broadsheet req/s': broadsheet.rps,
      'broadsheet p99 s': broadsheet.p99,
      'nginx req/s': static_.rps,
      'nginx p99 s': static_.p99,
      ratio: Number((broadsheet.rps / static_.rps).toFixed(3)),
      'broadsheet non-2xx/3xx': broadsheet.non2xx3xx,
      'nginx non-2xx/3xx': static_.non2xx3xx,
    });
  }
  console.table(rows);
  // report() prints the summary below.
  report('feeds', {
    tool: `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s, loopback; nginx worker_processes 1; broadsheet one Node process, embedded database`,
    feedBytes: feed.body.length,
    feedGzipBytes: Number(feedGzip.headers.get('content-length')),
    homeBytes: home.body.length,
    storyBytes: story.body.length,
    scenarios: rows,
  });
} finally {
  await nginx?.stop();
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
}
