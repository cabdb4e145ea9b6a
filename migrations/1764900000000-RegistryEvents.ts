import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry event stream: one row per change a subscriber may want to hear of, written in
 * the transaction of the change. The identity orders the stream (the resume cursor is the
 * id); `project_id, id` serves every read a subscription makes (replay and live).
 */
export class RegistryEvents1764900000000 implements MigrationInterface {
  name = 'RegistryEvents1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE registry_event (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        project_id   uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        type         text NOT NULL CHECK (type IN (
                       'MODEL_CREATED', 'MODEL_VERSION_CREATED', 'MODEL_VERSION_STATUS_CHANGED', 'ALIAS_SET', 'ALIAS_REMOVED',
                       'PROMOTION_REQUESTED', 'PROMOTION_DECIDED', 'EVALUATION_COMPLETED', 'DATASET_VERSION_CREATED',
                       'ALERT_OPENED', 'ALERT_RESOLVED')),
        at           timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        actor        text NOT NULL,
        -- the Node type and row key (not the global id) of what changed
        subject_type text NOT NULL,
        subject_id   text NOT NULL
      )`);
    await q.query(`CREATE INDEX registry_event_project_idx ON registry_event (project_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS registry_event`);
  }
}
