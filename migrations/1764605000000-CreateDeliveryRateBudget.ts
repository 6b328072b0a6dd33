import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The shared request budget (src/delivery/rate-limiter.ts) becomes one row per provider: the start times of the
 * last `limit` requests, the next planned start, and a pause asked for by the provider. Checking a start against
 * the last `limit` starts and recording it is then one UPDATE of one row, serialised by its row lock, where the
 * per-slot rows it replaces could only space each slot, not the requests of all slots together.
 */
export class CreateDeliveryRateBudget1764605000000 implements MigrationInterface {
  name = 'CreateDeliveryRateBudget1764605000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE delivery_rate_budget (
      provider text PRIMARY KEY,
      starts timestamptz[] NOT NULL DEFAULT '{}',
      planned_at timestamptz NOT NULL DEFAULT '-infinity',
      paused_until timestamptz NOT NULL DEFAULT '-infinity',
      last_token uuid,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`DROP TABLE IF EXISTS delivery_rate_slots`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE delivery_rate_slots (
      provider text NOT NULL, slot integer NOT NULL, next_free_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (provider, slot))`);
    await q.query(`DROP TABLE IF EXISTS delivery_rate_budget`);
  }
}
