import { AccountsService } from '../../src/admin/auth/accounts.service';
import { CLI_SOURCE } from '../../src/admin/auth/actor';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { startTestApp, type TestApp } from './test-app';

export interface EditorSession {
  cookie: string;
  csrf: string;
}

/** Creates an account on the app and returns its password. */
export async function createEditor(t: TestApp, email: string, role: 'owner' | 'editor' | 'viewer'): Promise<string> {
  const { generatedPassword } = await t.get(AccountsService).createUser({ email, role }, CLI_SOURCE);
  return generatedPassword!;
}

/** Posts the sign-in form like a browser; returns the session cookie and the CSRF token from /api/v1/me. */
export async function signIn(t: TestApp, email: string, password: string): Promise<EditorSession> {
  const res = await fetch(`${t.url}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }),
  });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const cookie = /bs_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
  const me = await fetch(`${t.url}/api/v1/me`, { headers: { cookie } });
  const { csrfToken } = (await me.json()) as { csrfToken: string };
  return { cookie, csrf: csrfToken };
}

export function form(fields: Record<string, string>): { headers: Record<string, string>; body: URLSearchParams } {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) };
}

/** A fresh app with the demo week loaded and the pipeline run once (the issue left a draft), and an editor's password. */
export async function demoWorkspace(env: Record<string, string>): Promise<{ t: TestApp; password: string }> {
  const t = await startTestApp({ DEMO: 'false', ...env });
  await t.get(DemoSeeder).seed();
  await t.get(PipelineService).runOnce({ approve: false });
  return { t, password: await createEditor(t, 'editor@example.com', 'editor') };
}
