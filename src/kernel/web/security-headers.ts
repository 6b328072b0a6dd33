import { type INestApplication } from '@nestjs/common';
import helmet from 'helmet';

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

/**
 * What every HTTP app gets before its first request (main and the tests alike). Registered before Nest's body
 * parsers (which are added at init), so even a 413 or a malformed-JSON 400 carries the headers.
 */
export function applyHttpDefaults(app: INestApplication): void {
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void; set(setting: string, value: unknown): void };
  express.disable('x-powered-by');
  app.use(securityHeaders());
}
