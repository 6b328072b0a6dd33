import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { LSH_BANDS_1764610000000 as LSH_BANDS, lshBands1764610000000 as lshBands } from './support/lsh-bands-1764610000000';

const BATCH = 5000;

/**
 * Near-duplicate LSH band keys move from `discourse_record_bands` (a row per band: 16 rows, 32 index entries and
 * 16 foreign-key checks per record) into the record itself: `text_bands integer[]`, band `k` at position `k`, with
 * one partial index per position, so a record costs 16 index entries and a lookup of band `k` probes index `k`.
 * Writing a record's bands was most of the cost of an ingest (bench/results/ingest.json). Existing records get
 * their keys from their stored signature (`text_minhash`): the keys are a fixed function of it, computed by a frozen
 * copy of `lshBands` (./support/lsh-bands-1764610000000.ts), never the live one.
 */
export class MoveNearDuplicateBandsIntoRecords1764610000000 implements MigrationInterface {
  name = 'MoveNearDuplicateBandsIntoRecords1764610000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE discourse_records ADD COLUMN text_bands integer[]`);
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: Array<{ id: string; text_minhash: number[] }> = await q.query(
        `SELECT id, text_minhash FROM discourse_records WHERE text_minhash IS NOT NULL AND id > $1 ORDER BY id LIMIT ${BATCH}`,
        [after],
      );
      if (rows.length === 0) break;
      await q.query(`UPDATE discourse_records r SET text_bands = u.bands::integer[] FROM unnest($1::uuid[], $2::text[]) AS u(id, bands) WHERE r.id = u.id`, [
        rows.map((r) => r.id),
        rows.map((r) => `{${lshBands(r.text_minhash).join(',')}}`),
      ]);
      after = rows[rows.length - 1].id;
    }
    for (let k = 1; k <= LSH_BANDS; k++) {
      await q.query(`CREATE INDEX discourse_records_band_${k}_idx ON discourse_records ((text_bands[${k}])) WHERE text_bands IS NOT NULL`);
    }
    await q.query(`DROP TABLE discourse_record_bands`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE discourse_record_bands (
      band integer NOT NULL,
      record_id uuid NOT NULL REFERENCES discourse_records (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (band, record_id)
    )`);
    await q.query(`CREATE INDEX discourse_record_bands_record_idx ON discourse_record_bands (record_id)`);
    await q.query(
      `INSERT INTO discourse_record_bands (band, record_id) SELECT DISTINCT b.band, r.id FROM discourse_records r, unnest(r.text_bands) AS b(band) ON CONFLICT DO NOTHING`,
    );
    for (let k = 1; k <= LSH_BANDS; k++) await q.query(`DROP INDEX discourse_records_band_${k}_idx`);
    await q.query(`ALTER TABLE discourse_records DROP COLUMN text_bands`);
  }
}
