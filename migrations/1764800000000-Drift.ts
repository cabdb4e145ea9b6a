import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Production column profiles: what a model version saw in a time window, profiled like a
 * dataset version's columns (JSONB). Drift reports merge the profiles that overlap a window.
 */
export class Drift1764800000000 implements MigrationInterface {
  name = 'Drift1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE column_profile (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model_version_id uuid NOT NULL REFERENCES model_version (id) ON DELETE CASCADE,
        window_from      timestamptz(3) NOT NULL,
        window_to        timestamptz(3) NOT NULL,
        columns          jsonb NOT NULL,
        recorded_at      timestamptz(3) NOT NULL DEFAULT now(),
        recorded_by      text NOT NULL,
        CHECK (window_from < window_to)
      )`);
    // One profile per exact window, so a retried recordColumnProfile replaces rather than
    // double-counts; its leading columns also serve the overlap lookup (version, window_from < to).
    await q.query(`CREATE UNIQUE INDEX column_profile_version_window_idx ON column_profile (model_version_id, window_from, window_to)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS column_profile`);
  }
}
