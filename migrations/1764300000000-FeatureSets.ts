import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Feature sets: definitions, the offline log of every value written (for point-in-time
 * reads), the online table holding only the newest value per entity and feature, the
 * idempotency keys of writes, and which model versions read which feature sets.
 *
 * In feature_value, `id` only breaks ties between two values of one entity and feature with the
 * same event time: the later write wins, as it does in the online table.
 */
export class FeatureSets1764300000000 implements MigrationInterface {
  name = 'FeatureSets1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feature_set (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id  uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        name        text NOT NULL,
        description text,
        entity_key  text NOT NULL,
        -- [{name, dtype, description}] in definition order; feature sets are immutable
        features    jsonb NOT NULL,
        ttl_seconds integer CHECK (ttl_seconds > 0),
        created_at  timestamptz(3) NOT NULL DEFAULT now(),
        created_by  text NOT NULL,
        CONSTRAINT feature_set_project_name_key UNIQUE (project_id, name)
      )`);

    await q.query(`
      CREATE TABLE feature_value (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        feature_set_id uuid NOT NULL REFERENCES feature_set (id) ON DELETE CASCADE,
        entity_key     text NOT NULL,
        feature        text NOT NULL,
        event_ts       timestamptz(3) NOT NULL,
        value          jsonb,
        written_at     timestamptz(3) NOT NULL DEFAULT now()
      )`);
    // The point-in-time lookup: newest value at or before a time is one index probe.
    await q.query(`CREATE INDEX feature_value_lookup_idx ON feature_value (feature_set_id, entity_key, feature, event_ts DESC, id DESC)`);

    await q.query(`
      CREATE TABLE feature_online (
        feature_set_id uuid NOT NULL REFERENCES feature_set (id) ON DELETE CASCADE,
        entity_key     text NOT NULL,
        feature        text NOT NULL,
        event_ts       timestamptz(3) NOT NULL,
        value          jsonb,
        written_at     timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (feature_set_id, entity_key, feature)
      )`);

    await q.query(`
      CREATE TABLE feature_write (
        feature_set_id  uuid NOT NULL REFERENCES feature_set (id) ON DELETE CASCADE,
        idempotency_key text NOT NULL,
        written         integer NOT NULL,
        created_at      timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (feature_set_id, idempotency_key)
      )`);

    await q.query(`
      CREATE TABLE model_version_feature_set (
        model_version_id uuid NOT NULL REFERENCES model_version (id) ON DELETE CASCADE,
        feature_set_id   uuid NOT NULL REFERENCES feature_set (id) ON DELETE CASCADE,
        PRIMARY KEY (model_version_id, feature_set_id)
      )`);
    await q.query(`CREATE INDEX model_version_feature_set_fs_idx ON model_version_feature_set (feature_set_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['model_version_feature_set', 'feature_write', 'feature_online', 'feature_value', 'feature_set']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
