import { type Role } from './role';

/** Who is calling: an editor through a session cookie, or a program through an API token. */
export interface Actor {
  kind: 'user' | 'token';
  /** The user's or the token's id. */
  id: string;
  /** What the audit log shows: the editor's email, or `token:<name>`. */
  label: string;
  role: Role;
  /** Set for session callers only: the CSRF token their forms and scripts must send back. */
  csrfToken: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** Where a change came from, for the audit log (an HTTP caller, or the command line). */
export interface AuditSource {
  actor: string;
  actorKind: 'user' | 'token' | 'cli' | 'system';
  ip: string | null;
  userAgent: string | null;
}

export function auditSourceOf(actor: Actor): AuditSource {
  return { actor: actor.label, actorKind: actor.kind, ip: actor.ip, userAgent: actor.userAgent };
}

export const CLI_SOURCE: AuditSource = { actor: 'cli', actorKind: 'cli', ip: null, userAgent: null };
