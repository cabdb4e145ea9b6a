import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry core: projects, API keys, the audit log, models, versions and aliases.
 *
 * Timestamps are timestamptz(3): JavaScript dates carry milliseconds, so keyset cursors built
 * from them must compare equal to what is stored. Tags are a JSONB array of {key, value}
 * objects so that a containment query (`tags @> '[{"key":"k","value":"v"}]'`) uses a GIN index.
 */
export class RegistryCore1764100000000 implements MigrationInterface {
  name = 'RegistryCore1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE project (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        slug        text NOT NULL UNIQUE,
        name        text NOT NULL,
        description text,
        created_at  timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX project_created_idx ON project (created_at, id)`);

    await q.query(`
      CREATE TABLE api_key (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name         text NOT NULL,
        role         text NOT NULL CHECK (role IN ('VIEWER', 'EDITOR', 'ADMIN')),
        project_id   uuid REFERENCES project (id) ON DELETE CASCADE,
        prefix       text NOT NULL,
        secret_hash  text NOT NULL UNIQUE,
        created_by   text NOT NULL,
        created_at   timestamptz(3) NOT NULL DEFAULT now(),
        last_used_at timestamptz(3),
        revoked_at   timestamptz(3)
      )`);
    await q.query(`CREATE INDEX api_key_project_idx ON api_key (project_id, created_at)`);

    await q.query(`
      CREATE TABLE audit_event (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        project_id  uuid REFERENCES project (id) ON DELETE CASCADE,
        at          timestamptz(3) NOT NULL DEFAULT now(),
        actor       text NOT NULL,
        action      text NOT NULL,
        target_type text NOT NULL,
        target_id   text,
        details     jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX audit_event_project_idx ON audit_event (project_id, id DESC)`);

    await q.query(`
      CREATE TABLE model (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id    uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        name          text NOT NULL,
        description   text,
        task          text,
        kind          text NOT NULL CHECK (kind IN ('OPEN_WEIGHTS', 'PROPRIETARY_API', 'INTERNAL')),
        license       text,
        tags          jsonb NOT NULL DEFAULT '[]',
        archived      boolean NOT NULL DEFAULT false,
        -- the last version number handed out; incremented under the row lock (no gaps, no races)
        version_count integer NOT NULL DEFAULT 0,
        created_at    timestamptz(3) NOT NULL DEFAULT now(),
        updated_at    timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT model_project_name_key UNIQUE (project_id, name)
      )`);
    await q.query(`CREATE INDEX model_updated_idx ON model (project_id, updated_at DESC, id DESC)`);
    await q.query(`CREATE INDEX model_created_idx ON model (project_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX model_tags_idx ON model USING gin (tags jsonb_path_ops)`);

    await q.query(`
      CREATE TABLE model_version (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        model_id           uuid NOT NULL REFERENCES model (id) ON DELETE CASCADE,
        -- copied from the model (models never change project) for project-wide version search
        project_id         uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        number             integer NOT NULL,
        status             text NOT NULL CHECK (status IN ('PENDING', 'READY', 'FAILED', 'ARCHIVED')),
        status_message     text,
        description        text,
        source             jsonb NOT NULL,
        framework          text,
        parameter_count    bigint,
        signature          jsonb,
        config             jsonb,
        tags               jsonb NOT NULL DEFAULT '[]',
        created_at         timestamptz(3) NOT NULL DEFAULT now(),
        created_by         text NOT NULL,
        base_version_id    uuid REFERENCES model_version (id),
        fine_tuning_method text,
        idempotency_key    text,
        CONSTRAINT model_version_number_key UNIQUE (model_id, number),
        CONSTRAINT model_version_idempotency_key UNIQUE (model_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX model_version_created_idx ON model_version (model_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX model_version_project_idx ON model_version (project_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX model_version_base_idx ON model_version (base_version_id, created_at DESC, id DESC) WHERE base_version_id IS NOT NULL`);
    await q.query(`CREATE INDEX model_version_tags_idx ON model_version USING gin (tags jsonb_path_ops)`);

    // version_id is NULL while the alias is removed: the row keeps its revision so that a
    // client holding an old revision still gets CONFLICT after a remove and re-set.
    await q.query(`
      CREATE TABLE model_alias (
        model_id   uuid NOT NULL REFERENCES model (id) ON DELETE CASCADE,
        name       text NOT NULL,
        version_id uuid REFERENCES model_version (id),
        revision   integer NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_by text NOT NULL,
        PRIMARY KEY (model_id, name)
      )`);
    await q.query(`CREATE INDEX model_alias_version_idx ON model_alias (version_id) WHERE version_id IS NOT NULL`);

    // clock_timestamp(), not now(): two moves in one transaction still get distinct times.
    await q.query(`
      CREATE TABLE alias_event (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model_id        uuid NOT NULL REFERENCES model (id) ON DELETE CASCADE,
        alias           text NOT NULL,
        from_version_id uuid REFERENCES model_version (id),
        to_version_id   uuid REFERENCES model_version (id),
        actor           text NOT NULL,
        reason          text,
        at              timestamptz(3) NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX alias_event_alias_idx ON alias_event (model_id, alias, at DESC, id DESC)`);
    await q.query(`CREATE INDEX alias_event_model_idx ON alias_event (model_id, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['alias_event', 'model_alias', 'model_version', 'model', 'audit_event', 'api_key', 'project']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
