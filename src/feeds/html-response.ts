import { type Response } from 'express';
import { type SafeHtml } from '../kernel/web/html';

/** Security headers (CSP and the rest) come from helmet for every answer: see kernel/web/security-headers.ts. */
export function sendHtml(res: Response, status: number, page: SafeHtml, options: { cache?: 'public' | 'no-store' } = {}): void {
  res
    .status(status)
    .set('Cache-Control', options.cache === 'public' && status === 200 ? 'public, max-age=60' : 'no-store')
    .type('text/html; charset=utf-8')
    .send(page.toString());
}

/** The same page on a bare Node response (the public hot path runs before express's helpers). */
export function sendHtmlRaw(res: import('node:http').ServerResponse, status: number, page: SafeHtml, headOnly = false): void {
  const body = Buffer.from(page.toString(), 'utf8');
  res.writeHead(status, {
    'Cache-Control': 'no-store',
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(body.length),
  });
  res.end(headOnly ? undefined : body);
}
