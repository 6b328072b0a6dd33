import { readOutbox, type OutboxMessage } from './outbox';

/** A form post as a browser on our own site sends it (Origin set), from `ip` (X-Forwarded-For, trusted from loopback). */
export function postForm(
  url: string,
  body: Record<string, string | string[]>,
  options: { ip?: string; origin?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) for (const value of Array.isArray(v) ? v : [v]) params.append(k, value);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...options.headers };
  if (options.origin !== null) headers.origin = options.origin ?? new URL(url).origin;
  if (options.ip) headers['x-forwarded-for'] = options.ip;
  return fetch(url, { method: 'POST', headers, body: params.toString(), redirect: 'manual' });
}

export function postJson(url: string, body: unknown, options: { ip?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.ip) headers['x-forwarded-for'] = options.ip;
  return fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export const recipient = (m: OutboxMessage) => (m.mail.to as { value: Array<{ address: string }> }).value[0].address.toLowerCase();

/** The messages in the outbox to `to` whose subject starts with `subject`. */
export async function mailsTo(outboxDir: string, to: string, subject = ''): Promise<OutboxMessage[]> {
  return (await readOutbox(outboxDir)).filter((m) => recipient(m) === to.toLowerCase() && (m.mail.subject ?? '').startsWith(subject));
}

/** The first http(s) link after `label` in a message's text part. */
export function linkAfter(message: OutboxMessage, label: string): string {
  const match = new RegExp(`${label}: (\\S+)`).exec(message.mail.text ?? '');
  if (!match) throw new Error(`no "${label}" link in: ${message.mail.text}`);
  return match[1];
}

export const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
