import { Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Metrics } from '../kernel/metrics/metrics';
import { securityHeaders } from '../kernel/web/security-headers';
import { type CachedResource, type Encoding, PublicCache } from './public-cache';
import { PublicSite } from './public-site';
import { chooseEncoding, notModified } from './public-site.middleware';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

interface Prepared {
  ok: Record<Encoding, Record<string, string>>;
  notModified: Record<Encoding, Record<string, string>>;
  /** The entry's three strong tags (identity, gzip, br), for If-None-Match without building them per request. */
  tags: Set<string>;
}

/** Most request URLs and Accept-Encoding values remembered (bounded: strangers choose both). */
const MEMO_LIMIT = 4096;

/** Adds to a bounded memo, dropping the oldest entry past the limit. */
function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  memo.set(key, value);
  if (memo.size > MEMO_LIMIT) memo.delete(memo.keys().next().value!);
  return value;
}

/** The headers helmet sets on every answer, collected once by running it against a recording response. */
function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number | string[]) => void (headers[name] = Array.isArray(value) ? value.join(', ') : String(value)),
    removeHeader: (name: string) => void delete headers[name],
    getHeader: (name: string) => headers[name],
  };
  securityHeaders()({ headers: {} } as never, res as never, () => undefined);
  return headers;
}

/**
 * The nginx-like path: a cache hit on a public GET or HEAD (a feed, a page, robots.txt, …) is answered straight from
 * the Node HTTP server's `request` event, synchronously, with precomputed headers (helmet's included) and
 * precompressed bytes, before express, its router or any middleware runs. Everything else (a miss, a form, the API,
 * `PUBLIC_CACHE_CHECK_SECONDS=0`) goes on to express exactly as before, where PublicSiteMiddleware renders and fills
 * the cache. Answers are still counted in /metrics by route template; they carry no X-Request-Id (nothing is logged
 * for them).
 */
@Injectable()
export class PublicFastPath implements OnApplicationBootstrap {
  private readonly logger = new Logger(PublicFastPath.name);
  private readonly merged = new WeakMap<CachedResource, Prepared>();
  /** Request URL → its cache key and route template (a pure function of the URL), for URLs that are public routes. */
  private readonly routes = new Map<string, { key: string; template: string }>();
  private readonly encodings = new Map<string, Encoding>();
  private base: Record<string, string> = {};

  constructor(
    private readonly cache: PublicCache,
    private readonly site: PublicSite,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as import('node:http').Server | undefined;
    if (!server || typeof server.listeners !== 'function') return; // no HTTP server (the CLI)
    this.base = helmetHeaders();
    const next = server.listeners('request') as Listener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.serve(req, res)) return;
      for (const listener of next) listener.call(server, req, res);
    });
    this.logger.debug('public fast path in front of express');
  }

  private headersFor(entry: CachedResource): Prepared {
    let headers = this.merged.get(entry);
    if (!headers) {
      const ok = {} as Record<Encoding, Record<string, string>>;
      const nm = {} as Record<Encoding, Record<string, string>>;
      for (const encoding of ['identity', 'gzip', 'br'] as const) {
        ok[encoding] = { ...this.base, ...entry.headers[encoding] };
        nm[encoding] = { ...this.base, ...entry.notModified[encoding] };
      }
      headers = { ok, notModified: nm, tags: new Set((['identity', 'gzip', 'br'] as const).map((e) => entry.headers[e].ETag)) };
      this.merged.set(entry, headers);
    }
    return headers;
  }

  /** Answers a cache hit and returns true; false (having touched nothing) for anything else. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    let route = this.routes.get(url);
    if (!route) {
      const matched = this.site.match(url);
      if (!matched) return false;
      route = remember(this.routes, url, { key: matched.key, template: matched.template });
    }
    const entry = this.cache.peek(route.key);
    if (!entry) return false;
    const started = this.metrics ? process.hrtime.bigint() : 0n;
    const accept = req.headers['accept-encoding'];
    const encoding = accept === undefined ? 'identity' : (this.encodings.get(accept) ?? remember(this.encodings, accept, chooseEncoding(accept)));
    const headers = this.headersFor(entry);
    const inm = req.headers['if-none-match'];
    let status: number;
    // The common revalidation sends back exactly one of our tags; anything else takes the general comparison.
    if ((inm !== undefined && headers.tags.has(inm)) || notModified(req, entry)) {
      status = 304;
      res.writeHead(304, headers.notModified[encoding]);
      res.end();
    } else {
      status = 200;
      res.writeHead(200, headers.ok[encoding]);
      res.end(req.method === 'HEAD' ? undefined : entry.bodies[encoding]);
    }
    // Drain any request body so the connection stays usable.
    req.resume();
    this.metrics?.httpRequest({ method: req.method, route: route.template, status, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    return true;
  }
}
