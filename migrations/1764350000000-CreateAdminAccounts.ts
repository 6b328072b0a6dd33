import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Editors: accounts, server-side sessions, API tokens, sign-in attempts, password resets, the audit log; issue copy fields. */
export class CreateAdminAccounts1764350000000 implements MigrationInterface {
  name = 'CreateAdminAccounts1764350000000';

  async up(q: QueryRunner): Promise<void> {
    const stamps = `created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now()`;
    await q.query(`CREATE TABLE admin_users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text NOT NULL, role text NOT NULL,
      password_hash text NOT NULL, failed_logins integer NOT NULL DEFAULT 0, locked_until timestamptz,
      last_login_at timestamptz, ${stamps},
      CONSTRAINT admin_users_role_ck CHECK (role IN ('owner', 'editor', 'viewer')))`);
    await q.query(`CREATE UNIQUE INDEX admin_users_email_uq ON admin_users (lower(email))`);
    await q.query(`CREATE TABLE admin_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE, csrf_token text NOT NULL, ip text, user_agent text,
      last_seen_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, revoked_at timestamptz, ${stamps})`);
    await q.query(`CREATE INDEX admin_sessions_user_idx ON admin_sessions (user_id)`);
    await q.query(`CREATE TABLE api_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, role text NOT NULL, token_hash text NOT NULL UNIQUE,
      prefix text NOT NULL, created_by text NOT NULL, last_used_at timestamptz, last_used_ip text, revoked_at timestamptz, ${stamps},
      CONSTRAINT api_tokens_role_ck CHECK (role IN ('owner', 'editor', 'viewer')))`);
    await q.query(`CREATE TABLE admin_login_attempts (
      id bigserial PRIMARY KEY, email text NOT NULL, ip text, succeeded boolean NOT NULL, attempted_at timestamptz NOT NULL, ${stamps})`);
    await q.query(`CREATE INDEX admin_login_attempts_ip_idx ON admin_login_attempts (ip, attempted_at)`);
    await q.query(`CREATE INDEX admin_login_attempts_email_idx ON admin_login_attempts (lower(email), attempted_at)`);
    await q.query(`CREATE TABLE admin_password_resets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE, expires_at timestamptz NOT NULL, used_at timestamptz, ${stamps})`);
    await q.query(`CREATE TABLE admin_audit_log (
      id bigserial PRIMARY KEY, actor text NOT NULL, actor_kind text NOT NULL, action text NOT NULL, target text,
      details jsonb NOT NULL DEFAULT '{}', ip text, user_agent text, at timestamptz NOT NULL, ${stamps})`);
    await q.query(`CREATE INDEX admin_audit_log_at_idx ON admin_audit_log (at DESC)`);
    await q.query(`ALTER TABLE issues ADD COLUMN subject text, ADD COLUMN preheader text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE issues DROP COLUMN preheader, DROP COLUMN subject`);
    for (const table of ['admin_audit_log', 'admin_password_resets', 'admin_login_attempts', 'api_tokens', 'admin_sessions', 'admin_users']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
