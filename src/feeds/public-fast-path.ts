import { Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Metrics } from '../kernel/metrics/metrics';
import { securityHeaders } from '../kernel/web/security-headers';
import { type CachedResource, type Encoding, PublicCache } from './public-cache';
import { PublicSite } from './public-site';
import { chooseEncoding, notModified } from './public-site.middleware';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

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
  private readonly merged = new WeakMap<CachedResource, { ok: Record<Encoding, Record<string, string>>; notModified: Record<Encoding, Record<string, string>> }>();
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

  private headersFor(entry: CachedResource): { ok: Record<Encoding, Record<string, string>>; notModified: Record<Encoding, Record<string, string>> } {
    let headers = this.merged.get(entry);
    if (!headers) {
      const ok = {} as Record<Encoding, Record<string, string>>;
      const nm = {} as Record<Encoding, Record<string, string>>;
      for (const encoding of ['identity', 'gzip', 'br'] as const) {
        ok[encoding] = { ...this.base, ...entry.headers[encoding] };
        nm[encoding] = { ...this.base, ...entry.notModified[encoding] };
      }
      headers = { ok, notModified: nm };
      this.merged.set(entry, headers);
    }
    return headers;
  }

  /** Answers a cache hit and returns true; false (having touched nothing) for anything else. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const route = this.site.match(req.url ?? '/');
    if (!route) return false;
    const entry = this.cache.peek(route.key);
    if (!entry) return false;
    const started = this.metrics ? process.hrtime.bigint() : 0n;
    const encoding = chooseEncoding(req.headers['accept-encoding']);
    const headers = this.headersFor(entry);
    let status: number;
    if (notModified(req, entry)) {
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
