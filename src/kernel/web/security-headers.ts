import { randomUUID } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { runWithLogContext } from '../logging/log-context';
import { Metrics } from '../metrics/metrics';

/**
 * The content security policy every answer carries. The pages satisfy it: one inline <style>, no scripts, no
 * external assets, forms posting to this origin. A route that needs more (say, a script) sets its own header.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'none'"],
  'style-src': ["'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** helmet, configured once: pages, feeds, JSON, problem documents, 404s and /health all get the same headers. */
export function securityHeaders(): ReturnType<typeof helmet> {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    frameguard: { action: 'deny' },
    // HSTS only means something behind TLS; a reverse proxy that terminates TLS should send it.
    strictTransportSecurity: false,
  });
}

/** A caller's own request id is kept if it looks like one; otherwise each request gets a fresh UUID. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Gives each request an id (answered as `X-Request-Id`, carried by every log line written while answering it) and,
 * when the app has a Metrics service, counts it by route template and status once the answer is sent.
 */
export function requestContext(metrics?: Metrics): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    if (metrics) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const route = (req.route as { path?: unknown } | undefined)?.path;
        metrics.httpRequest({
          method: req.method,
          // A catch-all (the public site's `/{*path}` middleware) names no route: the URL matched nothing.
          route: typeof route === 'string' && !route.includes('*') ? route : 'unmatched',
          status: res.statusCode,
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
      });
    }
    runWithLogContext({ requestId }, next);
  };
}

/**
 * What every HTTP app gets before its first request (main and the tests alike). Registered before Nest's body
 * parsers (which are added at init), so even a 413 or a malformed-JSON 400 carries the headers and is counted.
 */
export function applyHttpDefaults(app: INestApplication): void {
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void };
  express.disable('x-powered-by');
  app.use(requestContext(resolveMetrics(app)));
  app.use(securityHeaders());
}

function resolveMetrics(app: INestApplication): Metrics | undefined {
  try {
    return app.get(Metrics, { strict: false });
  } catch {
    return undefined;
  }
}
