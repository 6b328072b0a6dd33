import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The whole first schema: sources → records → storylines → narratives → issues → subscribers → delivery. */
export class CreateSchema1764200000000 implements MigrationInterface {
  name = 'CreateSchema1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const stamps = `created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now()`;
    await q.query(`CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL, ${stamps})`);
    await q.query(`CREATE TABLE job_locks (
      name text PRIMARY KEY, owner text NOT NULL, locked_until timestamptz NOT NULL,
      last_started_at timestamptz, last_finished_at timestamptz, last_error text, ${stamps})`);

    await q.query(`CREATE TABLE beats (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), slug text NOT NULL UNIQUE, name text NOT NULL,
      description text NOT NULL DEFAULT '', keywords text[] NOT NULL DEFAULT '{}', ${stamps})`);

    await q.query(`CREATE TABLE sources (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), slug text NOT NULL UNIQUE, name text NOT NULL,
      platform text NOT NULL, kind text NOT NULL, location text NOT NULL, beat_slugs text[] NOT NULL DEFAULT '{}',
      enabled boolean NOT NULL DEFAULT true, last_polled_at timestamptz, last_error text, last_error_at timestamptz,
      ${stamps})`);
    await q.query(`CREATE TABLE source_polls (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), source_id uuid NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
      started_at timestamptz NOT NULL, finished_at timestamptz, status text NOT NULL,
      items_seen integer NOT NULL DEFAULT 0, items_new integer NOT NULL DEFAULT 0,
      items_duplicate integer NOT NULL DEFAULT 0, items_invalid integer NOT NULL DEFAULT 0, error text, ${stamps})`);
    await q.query(`CREATE INDEX source_polls_source_started_idx ON source_polls (source_id, started_at DESC)`);

    await q.query(`CREATE TABLE discourse_records (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), source_id uuid NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
      platform text NOT NULL, external_id text NOT NULL,
      url text NOT NULL, canonical_url text NOT NULL, title text NOT NULL DEFAULT '', author text NOT NULL DEFAULT '',
      text text NOT NULL DEFAULT '', published_at timestamptz NOT NULL, ${stamps},
      CONSTRAINT discourse_records_source_external_uq UNIQUE (source_id, external_id),
      CONSTRAINT discourse_records_canonical_url_uq UNIQUE (canonical_url))`);
    await q.query(`CREATE INDEX discourse_records_published_idx ON discourse_records (published_at)`);

    await q.query(`CREATE TABLE storylines (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), beat_id uuid NOT NULL REFERENCES beats(id) ON DELETE CASCADE,
      window_start timestamptz NOT NULL, window_end timestamptz NOT NULL, key text NOT NULL, label text NOT NULL,
      record_count integer NOT NULL, platform_count integer NOT NULL, score double precision NOT NULL,
      membership_hash text NOT NULL, last_write_error text, last_write_error_at timestamptz, ${stamps},
      CONSTRAINT storylines_beat_window_key_uq UNIQUE (beat_id, window_start, key))`);
    await q.query(`CREATE TABLE storyline_records (
      storyline_id uuid NOT NULL REFERENCES storylines(id) ON DELETE CASCADE,
      record_id uuid NOT NULL REFERENCES discourse_records(id) ON DELETE CASCADE,
      PRIMARY KEY (storyline_id, record_id))`);

    await q.query(`CREATE TABLE narratives (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), storyline_id uuid NOT NULL UNIQUE REFERENCES storylines(id) ON DELETE CASCADE,
      beat_id uuid NOT NULL REFERENCES beats(id) ON DELETE CASCADE, slug text NOT NULL UNIQUE,
      status text NOT NULL, headline text NOT NULL, dek text NOT NULL, paragraphs jsonb NOT NULL,
      writer text NOT NULL, model text, fidelity double precision NOT NULL, fidelity_report jsonb NOT NULL,
      version integer NOT NULL DEFAULT 1, membership_hash text NOT NULL, published_at timestamptz, ${stamps})`);
    await q.query(`CREATE INDEX narratives_status_published_idx ON narratives (status, published_at DESC)`);
    await q.query(`CREATE TABLE narrative_versions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), narrative_id uuid NOT NULL REFERENCES narratives(id) ON DELETE CASCADE,
      version integer NOT NULL, headline text NOT NULL, dek text NOT NULL, paragraphs jsonb NOT NULL,
      writer text NOT NULL, model text, fidelity double precision NOT NULL, usage jsonb, ${stamps},
      CONSTRAINT narrative_versions_narrative_version_uq UNIQUE (narrative_id, version))`);
    await q.query(`CREATE TABLE narrative_citations (
      narrative_id uuid NOT NULL REFERENCES narratives(id) ON DELETE CASCADE, number integer NOT NULL,
      record_id uuid NOT NULL REFERENCES discourse_records(id) ON DELETE CASCADE, ${stamps},
      PRIMARY KEY (narrative_id, number))`);

    await q.query(`CREATE TABLE issues (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), number integer NOT NULL UNIQUE,
      week_start timestamptz NOT NULL UNIQUE, week_end timestamptz NOT NULL, title text NOT NULL,
      intro text NOT NULL DEFAULT '', status text NOT NULL, approved_at timestamptz, published_at timestamptz, ${stamps})`);
    await q.query(`CREATE TABLE issue_entries (
      issue_id uuid NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
      narrative_id uuid NOT NULL REFERENCES narratives(id) ON DELETE CASCADE, position integer NOT NULL, ${stamps},
      PRIMARY KEY (issue_id, narrative_id), CONSTRAINT issue_entries_position_uq UNIQUE (issue_id, position))`);

    await q.query(`CREATE TABLE subscribers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text NOT NULL, status text NOT NULL,
      beat_slugs text[], consent_at timestamptz NOT NULL, consent_source text NOT NULL, consent_ip text,
      confirmed_at timestamptz, unsubscribed_at timestamptz, ${stamps})`);
    await q.query(`CREATE UNIQUE INDEX subscribers_email_uq ON subscribers (lower(email))`);

    await q.query(`CREATE TABLE sends (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), issue_id uuid NOT NULL UNIQUE REFERENCES issues(id) ON DELETE CASCADE,
      status text NOT NULL, provider text NOT NULL, subject text NOT NULL, html text NOT NULL, text text NOT NULL,
      audience integer NOT NULL DEFAULT 0, accepted integer NOT NULL DEFAULT 0, suppressed integer NOT NULL DEFAULT 0,
      failed integer NOT NULL DEFAULT 0, skipped integer NOT NULL DEFAULT 0,
      started_at timestamptz, finished_at timestamptz, ${stamps})`);
    await q.query(`CREATE TABLE delivery_batches (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), send_id uuid NOT NULL REFERENCES sends(id) ON DELETE CASCADE,
      number integer NOT NULL, status text NOT NULL, idempotency_key text NOT NULL UNIQUE,
      attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL DEFAULT now(),
      lease_until timestamptz, first_attempt_at timestamptz, last_error text, ${stamps},
      CONSTRAINT delivery_batches_send_number_uq UNIQUE (send_id, number))`);
    await q.query(`CREATE INDEX delivery_batches_due_idx ON delivery_batches (status, next_attempt_at)`);
    await q.query(`CREATE TABLE recipients (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), send_id uuid NOT NULL REFERENCES sends(id) ON DELETE CASCADE,
      issue_id uuid NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
      batch_id uuid REFERENCES delivery_batches(id) ON DELETE SET NULL, email text NOT NULL,
      status text NOT NULL, provider_message_id text, error text, ${stamps},
      CONSTRAINT recipients_issue_subscriber_uq UNIQUE (issue_id, subscriber_id))`);
    await q.query(`CREATE INDEX recipients_batch_idx ON recipients (batch_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'recipients',
      'delivery_batches',
      'sends',
      'subscribers',
      'issue_entries',
      'issues',
      'narrative_citations',
      'narrative_versions',
      'narratives',
      'storyline_records',
      'storylines',
      'discourse_records',
      'source_polls',
      'sources',
      'beats',
      'job_locks',
      'settings',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
