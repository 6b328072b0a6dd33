import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Delivery you can trust (issue 11): several sends per issue (catch-up and test sends), batch membership by
 * (send, batch number) with indexes, frozen per-recipient links and a payload hash, fenced leases, counters kept
 * by set-based updates, a shared request-rate table, and provider webhook events.
 */
export class RebuildDelivery1764300000000 implements MigrationInterface {
  name = 'RebuildDelivery1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const stamps = `created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now()`;
    await q.query(`ALTER TABLE sends DROP CONSTRAINT IF EXISTS sends_issue_id_key`);
    await q.query(`ALTER TABLE sends
      ADD COLUMN kind text NOT NULL DEFAULT 'issue',
      ADD COLUMN number integer NOT NULL DEFAULT 1,
      ADD COLUMN from_address text NOT NULL DEFAULT '',
      ADD COLUMN held integer NOT NULL DEFAULT 0,
      ADD COLUMN cancelled integer NOT NULL DEFAULT 0,
      ADD COLUMN scheduled_at timestamptz,
      ADD COLUMN pause_reason text,
      ADD COLUMN resume_at timestamptz`);
    await q.query(`CREATE UNIQUE INDEX sends_issue_kind_number_uq ON sends (issue_id, kind, number)`);
    // One live send per issue at a time: a catch-up send waits for the previous one to end.
    await q.query(`CREATE UNIQUE INDEX sends_issue_live_uq ON sends (issue_id) WHERE kind = 'issue' AND status IN ('scheduled', 'sending', 'paused', 'held')`);
    await q.query(`CREATE INDEX sends_status_idx ON sends (status)`);

    await q.query(`ALTER TABLE delivery_batches
      ADD COLUMN lease_token uuid,
      ADD COLUMN payload_hash text,
      ADD COLUMN prepared_at timestamptz,
      ADD COLUMN key_used boolean NOT NULL DEFAULT false,
      ADD COLUMN generation integer NOT NULL DEFAULT 0,
      ADD COLUMN release_note text`);
    // Batches sent by the previous engine may have reached Resend: treat their keys as used.
    await q.query(`UPDATE delivery_batches SET key_used = true WHERE attempts > 0`);
    await q.query(`CREATE INDEX delivery_batches_send_status_idx ON delivery_batches (send_id, status)`);

    await q.query(`ALTER TABLE recipients ADD COLUMN batch_number integer, ADD COLUMN unsubscribe_url text`);
    await q.query(`UPDATE recipients r SET batch_number = b.number FROM delivery_batches b WHERE b.id = r.batch_id`);
    await q.query(`DROP INDEX IF EXISTS recipients_batch_idx`);
    await q.query(`ALTER TABLE recipients DROP COLUMN batch_id`);
    // Test sends go to addresses, not subscribers.
    await q.query(`ALTER TABLE recipients ALTER COLUMN subscriber_id DROP NOT NULL`);
    await q.query(`CREATE INDEX recipients_send_batch_idx ON recipients (send_id, batch_number)`);
    await q.query(`CREATE INDEX recipients_provider_message_idx ON recipients (provider_message_id) WHERE provider_message_id IS NOT NULL`);

    // One budget of provider requests shared by every instance: `slot` k may start a request no sooner than
    // `next_free_at`, and each use pushes it a period on (see src/delivery/rate-limiter.ts).
    await q.query(`CREATE TABLE delivery_rate_slots (
      provider text NOT NULL, slot integer NOT NULL, next_free_at timestamptz NOT NULL DEFAULT now(), ${stamps},
      PRIMARY KEY (provider, slot))`);

    await q.query(`CREATE TABLE delivery_events (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), event_id text NOT NULL UNIQUE, type text NOT NULL,
      provider_message_id text, recipient_id uuid REFERENCES recipients(id) ON DELETE SET NULL,
      send_id uuid REFERENCES sends(id) ON DELETE SET NULL, occurred_at timestamptz, payload jsonb NOT NULL, ${stamps})`);
    await q.query(`CREATE INDEX delivery_events_send_type_idx ON delivery_events (send_id, type)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS delivery_events`);
    await q.query(`DROP TABLE IF EXISTS delivery_rate_slots`);
    await q.query(`DROP INDEX IF EXISTS recipients_provider_message_idx`);
    await q.query(`DROP INDEX IF EXISTS recipients_send_batch_idx`);
    await q.query(`DELETE FROM recipients WHERE subscriber_id IS NULL`);
    await q.query(`ALTER TABLE recipients ALTER COLUMN subscriber_id SET NOT NULL`);
    await q.query(`ALTER TABLE recipients ADD COLUMN batch_id uuid REFERENCES delivery_batches(id) ON DELETE SET NULL`);
    await q.query(`UPDATE recipients r SET batch_id = b.id FROM delivery_batches b WHERE b.send_id = r.send_id AND b.number = r.batch_number`);
    await q.query(`CREATE INDEX recipients_batch_idx ON recipients (batch_id)`);
    await q.query(`ALTER TABLE recipients DROP COLUMN batch_number, DROP COLUMN unsubscribe_url`);
    await q.query(`DROP INDEX IF EXISTS delivery_batches_send_status_idx`);
    await q.query(`ALTER TABLE delivery_batches DROP COLUMN lease_token, DROP COLUMN payload_hash, DROP COLUMN prepared_at,
      DROP COLUMN key_used, DROP COLUMN generation, DROP COLUMN release_note`);
    await q.query(`DROP INDEX IF EXISTS sends_status_idx`);
    await q.query(`DROP INDEX IF EXISTS sends_issue_live_uq`);
    await q.query(`DROP INDEX IF EXISTS sends_issue_kind_number_uq`);
    await q.query(`DELETE FROM sends WHERE kind <> 'issue' OR number > 1`);
    await q.query(`ALTER TABLE sends DROP COLUMN kind, DROP COLUMN number, DROP COLUMN from_address, DROP COLUMN held,
      DROP COLUMN cancelled, DROP COLUMN scheduled_at, DROP COLUMN pause_reason, DROP COLUMN resume_at`);
    await q.query(`ALTER TABLE sends ADD CONSTRAINT sends_issue_id_key UNIQUE (issue_id)`);
  }
}
