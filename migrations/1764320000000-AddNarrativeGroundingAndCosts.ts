import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Narratives: records flagged for prompt injection and ranking signals on storylines, the link to last week's
 * storyline, the fidelity report and editor on each version, and token/cost accounting per writing run.
 */
export class AddNarrativeGroundingAndCosts1764320000000 implements MigrationInterface {
  name = 'AddNarrativeGroundingAndCosts1764320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE storylines
      ADD COLUMN flagged_records jsonb NOT NULL DEFAULT '[]'::jsonb,
      ADD COLUMN signals jsonb,
      ADD COLUMN previous_storyline_id uuid REFERENCES storylines(id) ON DELETE SET NULL`);
    await q.query(`CREATE TABLE narrative_runs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), started_at timestamptz NOT NULL, finished_at timestamptz,
      week_start timestamptz, writer text NOT NULL, model text, batch boolean NOT NULL DEFAULT false,
      written integer NOT NULL DEFAULT 0, failed integer NOT NULL DEFAULT 0,
      input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0,
      cache_read_tokens bigint NOT NULL DEFAULT 0, cache_write_tokens bigint NOT NULL DEFAULT 0,
      cost_usd double precision NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`ALTER TABLE narrative_versions
      ADD COLUMN fidelity_report jsonb,
      ADD COLUMN status text,
      ADD COLUMN editor text,
      ADD COLUMN cost_usd double precision,
      ADD COLUMN run_id uuid REFERENCES narrative_runs(id) ON DELETE SET NULL`);
    await q.query(`CREATE INDEX narrative_versions_run_idx ON narrative_versions (run_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS narrative_versions_run_idx`);
    await q.query(
      `ALTER TABLE narrative_versions DROP COLUMN run_id, DROP COLUMN cost_usd, DROP COLUMN editor, DROP COLUMN status, DROP COLUMN fidelity_report`,
    );
    await q.query(`DROP TABLE narrative_runs`);
    await q.query(`ALTER TABLE storylines DROP COLUMN previous_storyline_id, DROP COLUMN signals, DROP COLUMN flagged_records`);
  }
}
