import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { sendHtmlRaw } from './html-response';
import { PublicCache, encodedEtag, type CachedResource, type Encoding } from './public-cache';
import { PublicSite } from './public-site';
import { messagePage } from './pages/site-pages';

/** Picks the best encoding the client accepts: brotli, then gzip, else none (q=0 refuses one). */
export function chooseEncoding(acceptEncoding: string | string[] | undefined): Encoding {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : (acceptEncoding ?? '');
  if (!header) return 'identity';
  const accepted = new Map<string, number>();
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name.trim(), q ? Number(q.slice(2)) || 0 : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}

/** If-None-Match against any representation's tag (weak comparison, RFC 9110 §13.1.2), else If-Modified-Since. */
export function notModified(req: IncomingMessage, entry: CachedResource): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && inm.trim() !== '') {
    if (inm.trim() === '*') return true;
    const own = new Set((['identity', 'gzip', 'br'] as const).map((e) => encodedEtag(entry.etag, e)));
    return inm.split(',').some((tag) => own.has(tag.trim().replace(/^W\//, '')));
  }
  const ims = req.headers['if-modified-since'];
  if (!ims || !entry.lastModified) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(entry.lastModified.getTime() / 1000) * 1000 <= since;
}

/**
 * The hot path for every public GET and HEAD (pages, feeds, robots.txt, sitemap.xml, favicon): runs before Nest's
 * router, guards and interceptors, answers from the in-memory cache with precomputed headers and precompressed
 * bodies, and passes anything it does not know to Nest.
 */
@Injectable()
export class PublicSiteMiddleware implements NestMiddleware {
  private readonly logger = new Logger('PublicSite');

  constructor(
    private readonly cache: PublicCache,
    private readonly site: PublicSite,
  ) {}

  async use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const route = this.site.match(req.url ?? '/');
    if (!route) return next();
    // Metrics label answers by route template, as express would have set it.
    (req as IncomingMessage & { route?: { path: string } }).route = { path: route.template };
    try {
      await this.cache.beforeRequest();
      const entry = await this.cache.get(route.key, route.render);
      if (!entry) {
        sendHtmlRaw(res, 404, await this.site.notFound(route.what), req.method === 'HEAD');
        return;
      }
      const encoding = chooseEncoding(req.headers['accept-encoding']);
      if (notModified(req, entry)) {
        res.writeHead(304, entry.notModified[encoding]);
        res.end();
        return;
      }
      res.writeHead(200, entry.headers[encoding]);
      res.end(req.method === 'HEAD' ? undefined : entry.bodies[encoding]);
    } catch (error) {
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      if (res.headersSent) return void res.destroy();
      sendHtmlRaw(
        res,
        500,
        messagePage(this.site.info, { title: 'Something went wrong', message: 'Something went wrong on our side. Please try again in a moment.' }),
        req.method === 'HEAD',
      );
    }
  }
}
