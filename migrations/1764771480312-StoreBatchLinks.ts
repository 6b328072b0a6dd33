import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * A batch's unsubscribe links are stored on the batch when its payload is fixed (`links`: recipient id → link),
 * so preparing a batch writes one row, not one per recipient; each recipient's row gets its link when its result
 * is recorded. Batches prepared before this keep their links on their recipients' rows, where retries still find
 * them.
 */
export class StoreBatchLinks1764771480312 implements MigrationInterface {
  name = 'StoreBatchLinks1764771480312';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE delivery_batches ADD COLUMN links jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE delivery_batches DROP COLUMN links`);
  }
}
