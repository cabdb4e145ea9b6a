import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Datasets, their versions and data lineage (which model version used which dataset version,
 * in which role).
 *
 * A version's columns and their statistics are one JSONB document: they are written once with
 * the version, never queried column by column, and always read whole. `digest` is unique per
 * dataset because the same content registered twice is the same version.
 */
export class Datasets1764180000000 implements MigrationInterface {
  name = 'Datasets1764180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dataset (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id    uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        name          text NOT NULL,
        description   text,
        tags          jsonb NOT NULL DEFAULT '[]',
        -- the last version number handed out; incremented under the row lock (no gaps, no races)
        version_count integer NOT NULL DEFAULT 0,
        created_at    timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT dataset_project_name_key UNIQUE (project_id, name)
      )`);
    await q.query(`CREATE INDEX dataset_created_idx ON dataset (project_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX dataset_tags_idx ON dataset USING gin (tags jsonb_path_ops)`);

    // The unique (dataset_id, number) index also serves the versions list and latestVersion.
    await q.query(`
      CREATE TABLE dataset_version (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        dataset_id  uuid NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
        -- copied from the dataset (datasets never change project) for the lineage project check
        project_id  uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        number      integer NOT NULL,
        uri         text,
        digest      text NOT NULL,
        row_count   bigint CHECK (row_count >= 0),
        columns     jsonb NOT NULL DEFAULT '[]',
        created_at  timestamptz(3) NOT NULL DEFAULT now(),
        created_by  text NOT NULL,
        CONSTRAINT dataset_version_number_key UNIQUE (dataset_id, number),
        CONSTRAINT dataset_version_digest_key UNIQUE (dataset_id, digest)
      )`);

    // The primary key (model_version_id first) answers ModelVersion.datasets and the
    // trainedOnDatasetVersionId filter; the second index answers DatasetVersion.usedBy.
    await q.query(`
      CREATE TABLE model_version_dataset (
        model_version_id   uuid NOT NULL REFERENCES model_version (id) ON DELETE CASCADE,
        dataset_version_id uuid NOT NULL REFERENCES dataset_version (id) ON DELETE CASCADE,
        role               text NOT NULL CHECK (role IN ('TRAINING', 'VALIDATION', 'TEST', 'EVALUATION', 'FINE_TUNING', 'RETRIEVAL_CORPUS', 'REFERENCE')),
        PRIMARY KEY (model_version_id, dataset_version_id, role)
      )`);
    await q.query(`CREATE INDEX model_version_dataset_dataset_idx ON model_version_dataset (dataset_version_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['model_version_dataset', 'dataset_version', 'dataset']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
