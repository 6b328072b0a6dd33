import { DataSource } from 'typeorm';
import { TokensService } from '../../src/admin/auth/tokens.service';
import { CLI_SOURCE } from '../../src/admin/auth/actor';
import { readOutbox } from '../support/outbox';
import { createEditor, form, signIn } from '../support/admin-client';
import { startTestApp, type TestApp } from '../support/test-app';

/** Accounts, sessions, CSRF, roles, tokens, lockout and password reset, through HTTP on a real database. */
describe('editor sign-in and access', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DEMO: 'false' });
  });
  afterAll(() => t?.close());

  it('refuses anonymous callers on pages (401 with the sign-in form) and the API (401 problem)', async () => {
    const page = await fetch(`${t.url}/admin/issues`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('action="/admin/login"');
    const api = await fetch(`${t.url}/api/v1/issues`);
    expect(api.status).toBe(401);
    // Express matches paths case-insensitively: the guard must too.
    expect((await fetch(`${t.url}/API/V1/issues`)).status).toBe(401);
    expect((await fetch(`${t.url}/admin/login`)).status).toBe(200);
  });

  it('signs in with a session cookie that is httpOnly and SameSite=Lax, signs out, and the cookie stops working', async () => {
    const password = await createEditor(t, 'ed@example.com', 'editor');
    const res = await fetch(`${t.url}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      ...form({ email: 'ED@example.com', password, next: '/admin/issues' }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/issues');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // http PUBLIC_URL
    const cookie = /bs_session=[^;]+/.exec(setCookie)![0];
    expect((await fetch(`${t.url}/admin/issues`, { headers: { cookie } })).status).toBe(200);
    const me = (await (await fetch(`${t.url}/api/v1/me`, { headers: { cookie } })).json()) as { csrfToken: string; role: string };
    expect(me.role).toBe('editor');
    // Stored hashed: the cookie value is nowhere in the table.
    const rows = await t.get(DataSource).query(`SELECT token_hash FROM admin_sessions`);
    expect(JSON.stringify(rows)).not.toContain(cookie.split('=')[1]);
    expect(
      (
        await fetch(`${t.url}/admin/logout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: '_csrf=wrong',
        })
      ).status,
    ).toBe(403);
    const out = await fetch(`${t.url}/admin/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: me.csrfToken }),
    });
    expect(out.status).toBe(303);
    expect((await fetch(`${t.url}/api/v1/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('never redirects off the workspace after sign-in', async () => {
    const password = await createEditor(t, 'next@example.com', 'viewer');
    for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example', '/stories']) {
      const res = await fetch(`${t.url}/admin/login`, { method: 'POST', redirect: 'manual', ...form({ email: 'next@example.com', password, next }) });
      expect(res.headers.get('location')).toBe('/admin');
    }
  });

  it('checks CSRF on cookie-authenticated changes, not on Bearer calls', async () => {
    const s = await signIn(t, 'csrf.editor@example.com', await createEditor(t, 'csrf.editor@example.com', 'editor'));
    const body = JSON.stringify({ narrativeIds: [] });
    const headers = { cookie: s.cookie, 'content-type': 'application/json' };
    expect((await fetch(`${t.url}/api/v1/issues/1/stories`, { method: 'PUT', headers, body })).status).toBe(403);
    const forged = await fetch(`${t.url}/api/v1/issues/1/stories`, { method: 'PUT', headers: { ...headers, 'x-csrf-token': 'forged' }, body });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('content-type')).toContain('application/problem+json');
    expect(((await forged.json()) as { code: string }).code).toBe('csrf_failed');
    // With the right token the request passes the guard and reaches the service (no issue 1 here: 404).
    expect((await fetch(`${t.url}/api/v1/issues/1/stories`, { method: 'PUT', headers: { ...headers, 'x-csrf-token': s.csrf }, body })).status).toBe(404);
    const { secret } = await t.get(TokensService).create({ name: 'ci', role: 'editor' }, CLI_SOURCE);
    expect(
      (
        await fetch(`${t.url}/api/v1/issues/1/stories`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body,
        })
      ).status,
    ).toBe(404);
  });

  it('gives roles what they may: a viewer reads but cannot change, only owners see tokens and the audit log', async () => {
    const viewer = await signIn(t, 'roles.viewer@example.com', await createEditor(t, 'roles.viewer@example.com', 'viewer'));
    expect((await fetch(`${t.url}/api/v1/issues`, { headers: { cookie: viewer.cookie } })).status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/issues/1/approve`, { method: 'POST', headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf } })).status).toBe(
      403,
    );
    expect((await fetch(`${t.url}/admin/audit`, { headers: { cookie: viewer.cookie } })).status).toBe(403);
    expect((await fetch(`${t.url}/api/v1/tokens`, { headers: { cookie: viewer.cookie } })).status).toBe(403);
    const ownerPassword = await createEditor(t, 'boss@example.com', 'owner');
    const owner = await signIn(t, 'boss@example.com', ownerPassword);
    const audit = await fetch(`${t.url}/admin/audit`, { headers: { cookie: owner.cookie } });
    expect(audit.status).toBe(200);
    const text = await audit.text();
    expect(text).toContain('auth.sign_in');
    expect(text).toContain('boss@example.com');
  });

  it('API tokens: shown once, stored hashed, last use recorded, revoked tokens get 401', async () => {
    const owner = await signIn(t, 'tokens.owner@example.com', await createEditor(t, 'tokens.owner@example.com', 'owner'));
    const created = await fetch(`${t.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'reader bot', role: 'viewer' }),
    });
    expect(created.status).toBe(201);
    const token = (await created.json()) as { id: string; token: string };
    expect(token.token).toMatch(/^bs_/);
    const stored = await t.get(DataSource).query(`SELECT token_hash, last_used_at FROM api_tokens WHERE id = $1`, [token.id]);
    expect(stored[0].token_hash).not.toContain(token.token);
    expect(stored[0].last_used_at).toBeNull();
    const auth = { authorization: `Bearer ${token.token}` };
    expect((await fetch(`${t.url}/api/v1/issues`, { headers: auth })).status).toBe(200);
    const listed = (await (await fetch(`${t.url}/api/v1/tokens`, { headers: { cookie: owner.cookie } })).json()) as Array<{
      id: string;
      lastUsedAt: string | null;
      token?: string;
    }>;
    const mine = listed.find((l) => l.id === token.id)!;
    expect(mine.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(token.token);
    expect(
      (await fetch(`${t.url}/api/v1/tokens/${token.id}`, { method: 'DELETE', headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrf } })).status,
    ).toBe(200);
    expect((await fetch(`${t.url}/api/v1/issues`, { headers: auth })).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/issues`, { headers: { authorization: 'Bearer bs_madeup' } })).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/issues`, { headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });

  // One scenario: the reset must lift a lock, so the same account is first locked and then reset.
  it('locks an account after 30 wrong passwords in a row, even against the right password; a reset by email (the link works once) lifts the lock', async () => {
    const password = await createEditor(t, 'target@example.com', 'editor');
    const statuses: number[] = [];
    // The lock starts at the 30th wrong password, somewhere between these two readings of the clock.
    const beforeLock = Date.now();
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${t.url}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        ...form({ email: 'target@example.com', password: `wrong-password-${i}` }),
      });
      statuses.push(res.status);
    }
    expect(statuses.every((s) => s === 401)).toBe(true);
    const afterLock = Date.now();
    const right = await fetch(`${t.url}/admin/login`, { method: 'POST', redirect: 'manual', ...form({ email: 'target@example.com', password }) });
    expect(right.status).toBe(401);
    expect(await right.text()).toContain('locked');
    const [row] = await t.get(DataSource).query(`SELECT locked_until FROM admin_users WHERE email = 'target@example.com'`);
    // Fifteen minutes from then, however long the attempts took on a loaded machine.
    const lockedUntil = new Date(row.locked_until).getTime();
    expect(lockedUntil).toBeGreaterThanOrEqual(beforeLock + 15 * 60_000);
    expect(lockedUntil).toBeLessThanOrEqual(afterLock + 15 * 60_000);

    // A reset by email lifts that lock: the link works once, and the new password signs in.
    const res = await fetch(`${t.url}/admin/password-reset`, { method: 'POST', ...form({ email: 'target@example.com' }) });
    expect(res.status).toBe(200);
    const unknown = await fetch(`${t.url}/admin/password-reset`, { method: 'POST', ...form({ email: 'nobody@example.com' }) });
    expect(await unknown.text()).toContain('If that address has an account');
    const mails = (await readOutbox(t.config.email.outboxDir)).filter(
      (m) => m.mail.subject?.includes('Reset your') && m.mail.to !== undefined && JSON.stringify(m.mail.to).includes('target@example.com'),
    );
    const link = /(http\S+\/admin\/password-reset\/\S+)/.exec(mails[mails.length - 1].mail.text!)![1];
    const newPassword = 'a brand new passphrase';
    const reset = await fetch(link, { method: 'POST', redirect: 'manual', ...form({ password: newPassword }) });
    expect(reset.status).toBe(303);
    expect((await fetch(link, { method: 'POST', redirect: 'manual', ...form({ password: 'another passphrase!' }) })).status).toBe(404);
    await expect(signIn(t, 'target@example.com', newPassword)).resolves.toHaveProperty('csrf');
  });

  it('refuses cross-site sign-in posts', async () => {
    const res = await fetch(`${t.url}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'email=a@b.c&password=x',
    });
    expect(res.status).toBe(403);
  });
});
