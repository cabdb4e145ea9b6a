import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checks the usage records written before 1796600000000-UsageRecordKeys against its keys. In a
 * migration of its own, so in a transaction of its own (migrationsTransactionMode 'each'):
 * VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE on usage_record, which lets recordUsage go on
 * writing while every existing row is read. A record naming another project's version or prompt
 * version makes it fail, naming the key; such a row is a bug to look at, not to carry over.
 */
export class ValidateUsageRecordKeys1796610000000 implements MigrationInterface {
  name = 'ValidateUsageRecordKeys1796610000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_record VALIDATE CONSTRAINT usage_record_model_version_fkey`);
    await q.query(`ALTER TABLE usage_record VALIDATE CONSTRAINT usage_record_prompt_version_fkey`);
  }

  async down(): Promise<void> {
    // A validated key stays valid; the previous migration's down drops it.
  }
}
