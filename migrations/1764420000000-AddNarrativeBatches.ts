import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Message Batches for narratives: one row per batch sent to Anthropic, one per request in it (the storyline, the
 * exact documents the model was given, and what became of the request), so results collected by a later build are
 * saved against what was asked, once each.
 */
export class AddNarrativeBatches1764420000000 implements MigrationInterface {
  name = 'AddNarrativeBatches1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE narrative_batches (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), provider_batch_id text UNIQUE, status text NOT NULL,
      week_start timestamptz NOT NULL, model text, submitted_at timestamptz NOT NULL, ended_at timestamptz,
      collected_at timestamptz, counts jsonb, error text,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX narrative_batches_open_idx ON narrative_batches (status, week_start)`);
    await q.query(`CREATE TABLE narrative_batch_items (
      batch_id uuid NOT NULL REFERENCES narrative_batches(id) ON DELETE CASCADE, custom_id text NOT NULL,
      storyline_id uuid NOT NULL, membership_hash text NOT NULL, brief jsonb NOT NULL, documents jsonb NOT NULL,
      status text NOT NULL, error text,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (batch_id, custom_id))`);
    await q.query(`CREATE INDEX narrative_batch_items_storyline_idx ON narrative_batch_items (storyline_id, status)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE narrative_batch_items`);
    await q.query(`DROP TABLE narrative_batches`);
  }
}
