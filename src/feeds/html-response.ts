import { type Response } from 'express';
import { type SafeHtml } from './pages/html';

/** Sent with every HTML page: no scripts, no external anything, no framing. */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

export function sendHtml(res: Response, status: number, page: SafeHtml, options: { cache?: 'public' | 'no-store' } = {}): void {
  res
    .status(status)
    .set(HTML_SECURITY_HEADERS)
    .set('Cache-Control', options.cache === 'public' && status === 200 ? 'public, max-age=60' : 'no-store')
    .type('text/html; charset=utf-8')
    .send(page.toString());
}

/** The same page on a bare Node response (the public hot path runs before express's helpers). */
export function sendHtmlRaw(res: import('node:http').ServerResponse, status: number, page: SafeHtml, headOnly = false): void {
  const body = Buffer.from(page.toString(), 'utf8');
  res.writeHead(status, {
    ...HTML_SECURITY_HEADERS,
    'Cache-Control': 'no-store',
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(body.length),
  });
  res.end(headOnly ? undefined : body);
}
