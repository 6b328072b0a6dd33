import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Subscribers: the welcome catch-up (delivery/welcome-catch-up.ts) looks on every deliver tick for active subscribers
 * confirmed since the latest issue's last send; this index keeps that lookup small however many subscribers there are.
 */
export class IndexSubscriberConfirmations1764430000000 implements MigrationInterface {
  name = 'IndexSubscriberConfirmations1764430000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX subscribers_active_confirmed_idx ON subscribers (confirmed_at) WHERE status = 'active'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS subscribers_active_confirmed_idx`);
  }
}
