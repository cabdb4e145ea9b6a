import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Promotion policies: rules an alias move must satisfy (evaluation gates, approvals), and the
 * promotion requests that carry a move through them.
 */
export class Promotions1764700000000 implements MigrationInterface {
  name = 'Promotions1764700000000';

  async up(q: QueryRunner): Promise<void> {
    // gates: [{ metric, datasetVersionId (row uuid or null), slice, gte, lte }]
    await q.query(`
      CREATE TABLE alias_policy (
        model_id           uuid NOT NULL REFERENCES model (id) ON DELETE CASCADE,
        alias              text NOT NULL,
        required_approvals integer NOT NULL CHECK (required_approvals >= 0),
        gates              jsonb NOT NULL DEFAULT '[]',
        updated_at         timestamptz(3) NOT NULL DEFAULT now(),
        updated_by         text NOT NULL,
        PRIMARY KEY (model_id, alias)
      )`);
    await q.query(`
      CREATE TABLE promotion_request (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        model_id     uuid NOT NULL REFERENCES model (id) ON DELETE CASCADE,
        alias        text NOT NULL,
        version_id   uuid NOT NULL REFERENCES model_version (id),
        status       text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'APPLIED', 'CANCELLED')),
        requested_by text NOT NULL,
        requested_by_key uuid NOT NULL,
        reason       text,
        gate_results jsonb NOT NULL DEFAULT '[]',
        created_at   timestamptz(3) NOT NULL DEFAULT now(),
        decided_at   timestamptz(3)
      )`);
    await q.query(`CREATE INDEX promotion_request_model_idx ON promotion_request (model_id, created_at DESC, id DESC)`);
    // At most one open request per alias: a new one replaces (cancels) the old.
    await q.query(`CREATE UNIQUE INDEX promotion_request_pending_key ON promotion_request (model_id, alias) WHERE status = 'PENDING'`);
    await q.query(`
      CREATE TABLE promotion_approval (
        request_id uuid NOT NULL REFERENCES promotion_request (id) ON DELETE CASCADE,
        key_id     uuid NOT NULL,
        key_name   text NOT NULL,
        comment    text,
        at         timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, key_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['promotion_approval', 'promotion_request', 'alias_policy']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
