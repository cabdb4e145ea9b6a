import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Feedback can name the request whose output it rates: the id a caller also gives that request's
 * usage record. An experiment over a deployment's routes finds the route that served the rated
 * output through it, as tracing tools join feedback to traces. Indexed per project, for that join.
 */
export class FeedbackRequest1796350000000 implements MigrationInterface {
  name = 'FeedbackRequest1796350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feedback ADD COLUMN request_id text`);
    await q.query(`CREATE INDEX feedback_project_request_idx ON feedback (project_id, request_id) WHERE request_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX feedback_project_request_idx`);
    await q.query(`ALTER TABLE feedback DROP COLUMN request_id`);
  }
}
