import { type Request } from 'express';

/**
 * Public forms refuse cross-site posts: a browser names the page that sent a form in `Origin` (and, in
 * current browsers, `Sec-Fetch-Site`). A post is accepted when its Origin is this site (PUBLIC_URL, or the
 * Host the browser addressed), or when it carries neither header (a program, not a visitor's browser: it
 * cannot ride on anyone's cookies or IP reputation but its own, and the rate limits still apply).
 * Returns why a request is refused, or null.
 */
export function crossSiteRefusal(req: Request, publicUrl: string): string | null {
  const origin = req.get('origin');
  const fetchSite = req.get('sec-fetch-site');
  if (origin !== undefined) {
    const allowed = new Set([safeOrigin(publicUrl), safeOrigin(`${req.protocol}://${req.get('host') ?? ''}`)]);
    if (origin === 'null' || !allowed.has(safeOrigin(origin)))
      return 'This form was sent from another website, so it was refused. Please use the form on our own site.';
    return null;
  }
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return 'This form was sent from another website, so it was refused. Please use the form on our own site.';
  }
  return null;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '\u0000invalid';
  }
}
