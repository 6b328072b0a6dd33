import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** An issue's email subject and preheader, editable by editors; null means "derive from the lead story". */
export class AddIssueSubjectPreheader1764340000000 implements MigrationInterface {
  name = 'AddIssueSubjectPreheader1764340000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE issues ADD COLUMN IF NOT EXISTS subject text, ADD COLUMN IF NOT EXISTS preheader text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE issues DROP COLUMN IF EXISTS preheader, DROP COLUMN IF EXISTS subject`);
  }
}
