import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * User feedback on a model version's outputs (thumbs, ratings, free text, product events),
 * rolled up into engagement. Append-only: feedback is a record of what users said.
 */
export class Feedback1764500000000 implements MigrationInterface {
  name = 'Feedback1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feedback (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model_version_id uuid NOT NULL REFERENCES model_version (id) ON DELETE CASCADE,
        kind             text NOT NULL CHECK (kind IN ('THUMBS', 'RATING', 'TEXT', 'EVENT')),
        value            double precision,
        comment          text,
        session_id       text,
        user_id          text,
        at               timestamptz(3) NOT NULL,
        recorded_by      text NOT NULL
      )`);
    // Engagement reads one version's feedback in a time range.
    await q.query(`CREATE INDEX feedback_version_at_idx ON feedback (model_version_id, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS feedback`);
  }
}
