import { startTestApp, type TestApp } from '../support/test-app';

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

/** The whole app: how errors look to a person and to a program, and that every answer carries the security headers. */
describe('errors and security headers over HTTP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ SITE_TITLE: 'The Errata Gazette', DEMO: 'false' });
  });

  afterAll(() => t?.close());

  function expectSecurityHeaders(response: Response): void {
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(response.headers.get('x-powered-by')).toBeNull();
  }

  it("gives a browser the site's own 404 page, masthead and all, for an unknown URL", async () => {
    const response = await fetch(`${t.url}/no/such/page`, { headers: BROWSER });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(response);
    const page = await response.text();
    expect(page).toContain('<header class="masthead">');
    expect(page).toContain('The Errata Gazette');
    expect(page).toContain('We could not find that page');
  });

  it('gives a program a problem document for an unknown URL, with the same headers', async () => {
    for (const path of ['/no/such/page', '/api/v1/nothing']) {
      const response = await fetch(t.url + path, { headers: { accept: 'application/json' } });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expectSecurityHeaders(response);
      await expect(response.json()).resolves.toEqual({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'There is nothing at this address.',
        code: 'not_found',
      });
    }
  });

  it('answers malformed JSON with a 400 problem document', async () => {
    const response = await fetch(`${t.url}/api/v1/anything`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"half":' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expectSecurityHeaders(response);
    await expect(response.json()).resolves.toMatchObject({ status: 400, code: 'malformed_body' });
  });

  it('answers a too-large form from a browser with a 413 page of the site', async () => {
    const body = new URLSearchParams({ email: 'x'.repeat(300_000) }).toString();
    const response = await fetch(`${t.url}/subscribe`, { method: 'POST', headers: { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(response.status).toBe(413);
    expectSecurityHeaders(response);
    const page = await response.text();
    expect(page).toContain('<header class="masthead">');
    expect(page).toContain('The request body is too large');
  });

  it('sends the security headers with pages, feeds and /health', async () => {
    for (const path of ['/', '/feed.xml', '/health']) {
      const response = await fetch(t.url + path);
      expect(response.status).toBe(200);
      expectSecurityHeaders(response);
    }
  });
});
