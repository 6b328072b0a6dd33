import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Sources watch the web: per-source schedule and lease, conditional-GET validators, health, auto-pause;
 * per-host backoff; records keep engagement figures, the raw payload and a text fingerprint for near-duplicates.
 */
export class AddSourcePolling1764310000000 implements MigrationInterface {
  name = 'AddSourcePolling1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sources
      ADD COLUMN interval_seconds integer NOT NULL DEFAULT 1800,
      ADD COLUMN next_poll_at timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN lease_until timestamptz,
      ADD COLUMN etag text,
      ADD COLUMN last_modified text,
      ADD COLUMN last_success_at timestamptz,
      ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
      ADD COLUMN last_items integer,
      ADD COLUMN last_response_ms integer,
      ADD COLUMN paused_reason text`);
    await q.query(`CREATE INDEX sources_due_idx ON sources (next_poll_at) WHERE enabled`);
    await q.query(`ALTER TABLE source_polls
      ADD COLUMN items_over_cap integer NOT NULL DEFAULT 0,
      ADD COLUMN items_updated integer NOT NULL DEFAULT 0,
      ADD COLUMN http_status integer,
      ADD COLUMN response_ms integer,
      ADD COLUMN not_modified boolean NOT NULL DEFAULT false,
      ADD COLUMN rejected jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`CREATE TABLE source_host_backoffs (
      host text PRIMARY KEY, until timestamptz NOT NULL, reason text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`ALTER TABLE discourse_records
      ADD COLUMN engagement jsonb NOT NULL DEFAULT '{}',
      ADD COLUMN raw jsonb,
      ADD COLUMN text_fingerprint text`);
    await q.query(`CREATE INDEX discourse_records_fingerprint_idx ON discourse_records (text_fingerprint) WHERE text_fingerprint IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS discourse_records_fingerprint_idx`);
    await q.query(`ALTER TABLE discourse_records DROP COLUMN text_fingerprint, DROP COLUMN raw, DROP COLUMN engagement`);
    await q.query(`DROP TABLE source_host_backoffs`);
    await q.query(
      `ALTER TABLE source_polls DROP COLUMN rejected, DROP COLUMN not_modified, DROP COLUMN response_ms, DROP COLUMN http_status, DROP COLUMN items_updated, DROP COLUMN items_over_cap`,
    );
    await q.query(`DROP INDEX IF EXISTS sources_due_idx`);
    await q.query(`ALTER TABLE sources DROP COLUMN paused_reason, DROP COLUMN last_response_ms, DROP COLUMN last_items, DROP COLUMN consecutive_failures,
      DROP COLUMN last_success_at, DROP COLUMN last_modified, DROP COLUMN etag, DROP COLUMN lease_until, DROP COLUMN next_poll_at, DROP COLUMN interval_seconds`);
  }
}
