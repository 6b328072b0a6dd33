import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The subscriber lifecycle: confirmation requests (throttled atomically), suppression, pauses, address changes,
 * self-deletion; consent history; a queue of transactional emails sent by a job; PostgreSQL rate-limit windows
 * shared by every instance; and status events, so counts over time survive a deletion.
 */
export class AddSubscriberLifecycle1764330000000 implements MigrationInterface {
  name = 'AddSubscriberLifecycle1764330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscribers
      ADD COLUMN name text,
      ADD COLUMN confirm_requested_at timestamptz,
      ADD COLUMN consent_text text,
      ADD COLUMN consent_ip_hash text,
      ADD COLUMN suppressed_at timestamptz,
      ADD COLUMN suppression_reason text,
      ADD COLUMN suppression_detail text,
      ADD COLUMN paused_until timestamptz,
      ADD COLUMN pending_email text,
      ADD COLUMN pending_email_requested_at timestamptz,
      ADD COLUMN deleted_at timestamptz`);
    // Rows from before: a pending subscriber's confirmation was requested when consent was given.
    await q.query(`UPDATE subscribers SET confirm_requested_at = consent_at WHERE status = 'pending'`);
    await q.query(`CREATE INDEX subscribers_status_created_idx ON subscribers (status, created_at)`);

    await q.query(`CREATE TABLE subscriber_consents (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subscriber_id uuid NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
      kind text NOT NULL, at timestamptz NOT NULL, source text NOT NULL, form_text text, ip_hash text)`);
    await q.query(`CREATE INDEX subscriber_consents_subscriber_idx ON subscriber_consents (subscriber_id, at)`);

    await q.query(`CREATE TABLE subscriber_emails (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subscriber_id uuid NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
      kind text NOT NULL, to_email text NOT NULL, token_at timestamptz,
      status text NOT NULL DEFAULT 'queued', attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL, lease_until timestamptz,
      idempotency_key text NOT NULL UNIQUE, last_error text, sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX subscriber_emails_due_idx ON subscriber_emails (status, next_attempt_at)`);

    await q.query(`CREATE TABLE rate_limit_windows (
      bucket text NOT NULL, window_start timestamptz NOT NULL, hits integer NOT NULL,
      PRIMARY KEY (bucket, window_start))`);

    await q.query(`CREATE TABLE subscriber_status_events (
      id bigserial PRIMARY KEY, subscriber_id uuid REFERENCES subscribers(id) ON DELETE SET NULL,
      from_status text, to_status text NOT NULL, at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX subscriber_status_events_at_idx ON subscriber_status_events (at)`);
    // Today's subscribers enter the history as of when they were created.
    await q.query(`INSERT INTO subscriber_status_events (subscriber_id, from_status, to_status, at)
      SELECT id, NULL, status, created_at FROM subscribers`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['subscriber_status_events', 'rate_limit_windows', 'subscriber_emails', 'subscriber_consents']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query(`DROP INDEX IF EXISTS subscribers_status_created_idx`);
    await q.query(`ALTER TABLE subscribers
      DROP COLUMN name, DROP COLUMN confirm_requested_at, DROP COLUMN consent_text, DROP COLUMN consent_ip_hash,
      DROP COLUMN suppressed_at, DROP COLUMN suppression_reason, DROP COLUMN suppression_detail,
      DROP COLUMN paused_until, DROP COLUMN pending_email, DROP COLUMN pending_email_requested_at, DROP COLUMN deleted_at`);
  }
}
