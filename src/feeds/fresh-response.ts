import { type IncomingMessage, type ServerResponse } from 'node:http';
import { strongEtag } from './conditional-get';

/** The validator part of If-None-Match handling for answers rendered per request (not kept in PublicCache). */
function matches(req: IncomingMessage, etag: string): boolean {
  const inm = req.headers['if-none-match'];
  if (inm === undefined || inm.trim() === '') return false;
  if (inm.trim() === '*') return true;
  return inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * Sends a body rendered for this request with a strong ETag (a hash of the bytes) and answers 304 with no body when
 * the client already has them: search results and the like, cacheable by browsers and CDNs without filling the
 * in-memory cache with made-up queries.
 */
export function sendFresh(
  req: IncomingMessage,
  res: ServerResponse,
  input: { status: number; contentType: string; body: string; cacheControl: string; headers?: Record<string, string> },
): void {
  const body = Buffer.from(input.body, 'utf8');
  const etag = strongEtag(body);
  const common = { ETag: etag, 'Cache-Control': input.status === 200 ? input.cacheControl : 'no-store', ...input.headers };
  if (input.status === 200 && matches(req, etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(input.status, { ...common, 'Content-Type': input.contentType, 'Content-Length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
