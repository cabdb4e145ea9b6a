import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evaluations of model versions: the run, its metrics keyed by (name, slice) and its samples.
 *
 * project_id is copied from the model version (versions never change project) so that a
 * leaderboard reads one project's completed evaluations on an index. An overall metric has
 * slice NULL; the unique key treats NULL as '' (and inputs refuse an empty slice), so logging
 * the same (name, slice) twice upserts instead of adding a second row.
 */
export class Evaluations1764400000000 implements MigrationInterface {
  name = 'Evaluations1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE evaluation (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id         uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        model_version_id   uuid NOT NULL REFERENCES model_version (id) ON DELETE CASCADE,
        dataset_version_id uuid REFERENCES dataset_version (id),
        name               text NOT NULL,
        evaluator          text,
        status             text NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED')),
        params             jsonb,
        created_by         text NOT NULL,
        started_at         timestamptz(3) NOT NULL DEFAULT now(),
        finished_at        timestamptz(3),
        idempotency_key    text,
        CONSTRAINT evaluation_finished_check CHECK ((status = 'RUNNING') = (finished_at IS NULL)),
        CONSTRAINT evaluation_idempotency_key UNIQUE (model_version_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX evaluation_version_idx ON evaluation (model_version_id, started_at DESC, id DESC)`);
    await q.query(`CREATE INDEX evaluation_completed_idx ON evaluation (project_id, finished_at, id) WHERE status = 'COMPLETED'`);
    await q.query(`CREATE INDEX evaluation_dataset_idx ON evaluation (dataset_version_id) WHERE dataset_version_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE evaluation_metric (
        evaluation_id    uuid NOT NULL REFERENCES evaluation (id) ON DELETE CASCADE,
        name             text NOT NULL,
        slice            text CHECK (slice <> ''),
        value            double precision NOT NULL CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
        higher_is_better boolean,
        logged_at        timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX evaluation_metric_key ON evaluation_metric (evaluation_id, name, (coalesce(slice, '')))`);

    await q.query(`
      CREATE TABLE eval_sample (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        evaluation_id uuid NOT NULL REFERENCES evaluation (id) ON DELETE CASCADE,
        input         jsonb,
        output        jsonb,
        reference     jsonb,
        scores        jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX eval_sample_evaluation_idx ON eval_sample (evaluation_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['eval_sample', 'evaluation_metric', 'evaluation']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
