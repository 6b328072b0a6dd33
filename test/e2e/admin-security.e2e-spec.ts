import { ModulesContainer } from '@nestjs/core';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { CLI_SOURCE } from '../../src/admin/auth/actor';
import { ADMIN_PUBLIC, ADMIN_ROLE } from '../../src/admin/auth/auth.decorators';
import { isProtectedPath } from '../../src/admin/auth/admin-auth.guard';
import { Role, roleAtLeast } from '../../src/admin/auth/role';
import { TokensService } from '../../src/admin/auth/tokens.service';
import { createEditor, signIn, type EditorSession } from '../support/admin-client';
import { startTestApp, type TestApp } from '../support/test-app';

jest.setTimeout(300_000);

interface Route {
  method: string;
  path: string;
  /** The weakest role the route allows, or null for the few public ones. */
  role: Role | null;
}

/** Every route of the Express router under /admin and /api/v1 (but /api/v1/public). */
function routerRoutes(t: TestApp): Array<{ method: string; path: string }> {
  const express = t.app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } };
  return express.router.stack
    .filter((layer) => layer.route && isProtectedPath(layer.route.path))
    .flatMap((layer) =>
      Object.keys(layer.route!.methods)
        .filter((m) => m !== '_all')
        .map((m) => ({ method: m.toUpperCase(), path: layer.route!.path })),
    );
}

/** The role each controller method asks for, read from the same metadata the guard reads. */
function declaredRoles(t: TestApp): Map<string, Role | null> {
  const roles = new Map<string, Role | null>();
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new () => object) | undefined;
      if (!type?.prototype) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        const handler: unknown = Object.getOwnPropertyDescriptor(type.prototype, name)?.value;
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
        const isPublic = Reflect.getMetadata(ADMIN_PUBLIC, handler) ?? Reflect.getMetadata(ADMIN_PUBLIC, type);
        const role = (Reflect.getMetadata(ADMIN_ROLE, handler) ?? Reflect.getMetadata(ADMIN_ROLE, type)) as Role | undefined;
        roles.set(`${method} ${path}`, isPublic ? null : (role ?? (method === 'GET' || method === 'HEAD' ? Role.Viewer : Role.Editor)));
      }
    }
  }
  return roles;
}

function concrete(path: string): string {
  return path
    .replace(/:number\b/g, '1')
    .replace(/:id\b/g, '00000000-0000-4000-8000-000000000000')
    .replace(/:narrativeId\b/g, '00000000-0000-4000-8000-000000000001')
    .replace(/:token\b/g, 'x')
    .replace(/:[A-Za-z]+/g, 'x');
}

/**
 * The security pass: every editor route of the router and every operation of the OpenAPI document, tried
 * anonymous, with a viewer's session and token, with a forged CSRF token and with a revoked token.
 */
describe('security pass over every editor route', () => {
  let t: TestApp;
  let routes: Route[];
  let viewer: EditorSession;
  let owner: EditorSession;
  let viewerToken: string;
  let revokedToken: string;
  const report: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ DEMO: 'false' });
    viewer = await signIn(t, 'viewer@example.com', await createEditor(t, 'viewer@example.com', 'viewer'));
    owner = await signIn(t, 'owner@example.com', await createEditor(t, 'owner@example.com', 'owner'));
    const tokens = t.get(TokensService);
    viewerToken = (await tokens.create({ name: 'viewer', role: 'viewer' }, CLI_SOURCE)).secret;
    const revoked = await tokens.create({ name: 'revoked', role: 'owner' }, CLI_SOURCE);
    await tokens.revoke(revoked.token.id, CLI_SOURCE);
    revokedToken = revoked.secret;
    const roles = declaredRoles(t);
    routes = routerRoutes(t).map((r) => {
      const key = `${r.method} ${r.path}`;
      if (!roles.has(key)) throw new Error(`router route ${key} has no controller metadata`);
      return { ...r, role: roles.get(key)! };
    });
  });
  afterAll(async () => {
    console.log(`security pass (${report.length} requests):\n${report.join('\n')}`);
    await t?.close();
  });

  async function call(route: { method: string; path: string }, headers: Record<string, string>): Promise<number> {
    const body = route.method === 'GET' || route.method === 'HEAD' || route.method === 'DELETE' ? undefined : '{}';
    const res = await fetch(`${t.url}${concrete(route.path)}`, {
      method: route.method,
      redirect: 'manual',
      headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('finds the routes, and only sign-in, password reset and the script are public', () => {
    expect(routes.length).toBeGreaterThan(30);
    expect(
      routes
        .filter((r) => r.role === null)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual(
      [
        'GET /admin/assets/admin.js',
        'GET /admin/login',
        'GET /admin/password-reset',
        'GET /admin/password-reset/:token',
        'POST /admin/login',
        'POST /admin/password-reset',
        'POST /admin/password-reset/:token',
      ].sort(),
    );
  });

  it('includes the curation routes (beats, sources, narratives, subscribers, the intro) in the pass', () => {
    const keys = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const curation = [
      'POST /admin/beats',
      'POST /admin/beats/:slug',
      'POST /admin/sources',
      'POST /admin/sources/:id/test',
      'POST /admin/sources/:id/pause',
      'POST /admin/sources/:id/resume',
      'POST /admin/sources/:id/remove',
      'POST /admin/stories/:id/edit',
      'POST /admin/stories/:id/regenerate',
      'POST /admin/stories/:id/approve',
      'POST /admin/stories/:id/unpublish',
      'POST /admin/subscribers/import',
      'GET /admin/subscribers/export.csv',
      'POST /admin/issues/:number/intro-draft',
      'POST /api/v1/beats',
      'PUT /api/v1/beats/:slug',
      'POST /api/v1/sources',
      'POST /api/v1/sources/test',
      'DELETE /api/v1/sources/:id',
      'PUT /api/v1/narratives/:id',
      'POST /api/v1/narratives/:id/approve',
      'POST /api/v1/narratives/:id/unpublish',
      'POST /api/v1/subscribers/import',
      'GET /api/v1/subscribers/export',
    ];
    expect(curation.filter((k) => !keys.has(k))).toEqual([]);
  });

  it('refuses the CSV upload as multipart (parsed before the guard) anonymous, to a viewer, and with a forged CSRF field', async () => {
    const upload = (csrf: string | null) => {
      const body = new FormData();
      if (csrf !== null) body.append('_csrf', csrf);
      body.append('file', new Blob(['email\nx@example.com\n'], { type: 'text/csv' }), 'x.csv');
      return body;
    };
    for (const path of ['/admin/subscribers/import', '/api/v1/subscribers/import']) {
      const post = async (headers: Record<string, string>, csrf: string | null) =>
        (await fetch(`${t.url}${path}`, { method: 'POST', headers, body: upload(csrf) })).status;
      const got = {
        anonymous: await post({}, null),
        revoked: await post({ authorization: `Bearer ${revokedToken}` }, null),
        viewer: await post({ cookie: viewer.cookie }, viewer.csrf),
        forged: await post({ cookie: owner.cookie }, 'forged'),
        missing: await post({ cookie: owner.cookie }, null),
      };
      report.push(`multipart POST ${path}: ${JSON.stringify(got)}`);
      expect(got).toEqual({ anonymous: 401, revoked: 401, viewer: 403, forged: 403, missing: 403 });
    }
  });

  it('refuses every protected route anonymous (401) and with a revoked or made-up token (401)', async () => {
    for (const route of routes.filter((r) => r.role !== null)) {
      const anonymous = await call(route, {});
      const revoked = await call(route, { authorization: `Bearer ${revokedToken}` });
      const madeUp = await call(route, { authorization: 'Bearer bs_thisisnotatoken' });
      report.push(`${route.method.padEnd(6)} ${route.path.padEnd(44)} anonymous ${anonymous}  revoked-token ${revoked}  made-up-token ${madeUp}`);
      expect({ route: `${route.method} ${route.path}`, anonymous, revoked, madeUp }).toEqual({
        route: `${route.method} ${route.path}`,
        anonymous: 401,
        revoked: 401,
        madeUp: 401,
      });
    }
  });

  it('refuses a viewer (session and token) everything above viewer with 403', async () => {
    for (const route of routes.filter((r) => r.role !== null && !roleAtLeast(Role.Viewer, r.role))) {
      const session = await call(route, { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf });
      const token = await call(route, { authorization: `Bearer ${viewerToken}` });
      report.push(`${route.method.padEnd(6)} ${route.path.padEnd(44)} needs ${route.role}: viewer-session ${session}  viewer-token ${token}`);
      expect({ route: `${route.method} ${route.path}`, session, token }).toEqual({ route: `${route.method} ${route.path}`, session: 403, token: 403 });
    }
  });

  it('refuses every cookie-authenticated change without or with a forged CSRF token (403), even for an owner', async () => {
    for (const route of routes.filter((r) => r.role !== null && r.method !== 'GET')) {
      const missing = await call(route, { cookie: owner.cookie });
      const forged = await call(route, { cookie: owner.cookie, 'x-csrf-token': `${owner.csrf.slice(0, -2)}xx` });
      report.push(`${route.method.padEnd(6)} ${route.path.padEnd(44)} owner-no-csrf ${missing}  owner-forged-csrf ${forged}`);
      expect({ route: `${route.method} ${route.path}`, missing, forged }).toEqual({ route: `${route.method} ${route.path}`, missing: 403, forged: 403 });
    }
  });

  it('covers every operation of the OpenAPI document, and refuses each the same way', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const all = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: path.replace(/\{(\w+)\}/g, ':$1') })),
    );
    // The document describes the editor API and the public API; the latter needs no sign-in by design: reads, and
    // the sign-up (protected by its own rate limits and cross-site check, tested with the subscribers).
    const publicOps = all.filter((op) => !isProtectedPath(op.path));
    const publicByDesign = (op: { method: string; path: string }) =>
      (op.method === 'GET' && (op.path.startsWith('/api/v1/public') || !op.path.startsWith('/api'))) ||
      (op.method === 'POST' && op.path === '/api/v1/public/subscribe');
    expect(publicOps.filter((op) => !publicByDesign(op))).toEqual([]);
    report.push(`openapi: ${all.length} operations, ${publicOps.length} public: ${publicOps.map((op) => `${op.method} ${op.path}`).join(', ') || 'none'}`);
    const operations = all.filter((op) => isProtectedPath(op.path));
    expect(operations.length).toBeGreaterThan(15);
    for (const op of operations) {
      const route = routes.find((r) => r.method === op.method && r.path === op.path);
      expect(route).toBeDefined();
      const anonymous = await call(op, {});
      const revoked = await call(op, { authorization: `Bearer ${revokedToken}` });
      const forged = op.method === 'GET' ? 403 : await call(op, { cookie: owner.cookie, 'x-csrf-token': 'forged' });
      report.push(
        `openapi ${op.method.padEnd(6)} ${op.path.padEnd(36)} anonymous ${anonymous}  revoked-token ${revoked}  ${op.method === 'GET' ? '' : `forged-csrf ${forged}`}`,
      );
      expect({ op: `${op.method} ${op.path}`, anonymous, revoked, forged }).toEqual({
        op: `${op.method} ${op.path}`,
        anonymous: 401,
        revoked: 401,
        forged: 403,
      });
    }
  });
});
