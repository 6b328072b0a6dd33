import { type Response } from 'express';
import { type SafeHtml } from './pages/html';

/** Security headers (CSP and the rest) come from helmet for every answer: see kernel/web/security-headers.ts. */
export function sendHtml(res: Response, status: number, page: SafeHtml, options: { cache?: 'public' | 'no-store' } = {}): void {
  res
    .status(status)
    .set('Cache-Control', options.cache === 'public' && status === 200 ? 'public, max-age=60' : 'no-store')
    .type('text/html; charset=utf-8')
    .send(page.toString());
}
