import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Near-duplicate text dedupe: each record keeps a MinHash signature of its text, and its LSH band keys sit in an
 * indexed table, so a syndicated copy with small edits is found by an exact match on a band (see
 * src/sources/parsing/fingerprint.ts).
 */
export class AddNearDuplicateSignatures1764410000000 implements MigrationInterface {
  name = 'AddNearDuplicateSignatures1764410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE discourse_records ADD COLUMN text_minhash integer[]`);
    await q.query(`CREATE TABLE discourse_record_bands (
      band integer NOT NULL,
      record_id uuid NOT NULL REFERENCES discourse_records (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (band, record_id)
    )`);
    await q.query(`CREATE INDEX discourse_record_bands_record_idx ON discourse_record_bands (record_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE discourse_record_bands`);
    await q.query(`ALTER TABLE discourse_records DROP COLUMN text_minhash`);
  }
}
