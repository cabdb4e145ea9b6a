import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * usage_record's references become the project-scoped composite keys every other table has
 * (1765000000000-ProjectScopedKeys): `(project_id, model_version_id)` and
 * `(project_id, prompt_version_id)`. PostgreSQL itself then refuses a record of one project
 * naming another's version, which only the service checked before.
 *
 * The `project_id -> project` key goes: the NOT NULL composite key to model_version implies it
 * (a version's project exists, and deleting a project deletes its versions and so, by this
 * key's cascade, their records). A foreign key is a trigger that probes its parent once per
 * inserted row; recordUsage writes up to 10,000 rows a call, and the two probes it no longer
 * makes were about 5 µs of database CPU a record, of 60 (measured here, 5,000-row batches).
 *
 * A deleted prompt version leaves its records with no prompt (SET NULL on that column only;
 * PostgreSQL 15+), as the single-column key did.
 *
 * The keys are added NOT VALID: they hold for every row written from here on, and adding them
 * reads no existing row, so the lock that blocks recordUsage is held for a moment, not for a
 * scan of the whole table. The next migration (its own transaction) validates the rows already
 * there under a lock that lets writes go on.
 */
export class UsageRecordKeys1796600000000 implements MigrationInterface {
  name = 'UsageRecordKeys1796600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_record
      DROP CONSTRAINT usage_record_project_id_fkey,
      DROP CONSTRAINT usage_record_model_version_id_fkey,
      DROP CONSTRAINT usage_record_prompt_version_id_fkey,
      ADD CONSTRAINT usage_record_model_version_fkey FOREIGN KEY (project_id, model_version_id)
        REFERENCES model_version (project_id, id) ON DELETE CASCADE NOT VALID,
      ADD CONSTRAINT usage_record_prompt_version_fkey FOREIGN KEY (project_id, prompt_version_id)
        REFERENCES prompt_version (project_id, id) ON DELETE SET NULL (prompt_version_id) NOT VALID`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_record
      DROP CONSTRAINT usage_record_model_version_fkey,
      DROP CONSTRAINT usage_record_prompt_version_fkey,
      ADD CONSTRAINT usage_record_project_id_fkey FOREIGN KEY (project_id) REFERENCES project (id) ON DELETE CASCADE,
      ADD CONSTRAINT usage_record_model_version_id_fkey FOREIGN KEY (model_version_id) REFERENCES model_version (id) ON DELETE CASCADE,
      ADD CONSTRAINT usage_record_prompt_version_id_fkey FOREIGN KEY (prompt_version_id) REFERENCES prompt_version (id) ON DELETE SET NULL`);
  }
}
