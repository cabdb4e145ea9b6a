import { MigrationInterface, QueryRunner } from 'typeorm';

const OLD_EVENT_TYPES = [
  'MODEL_CREATED', 'MODEL_VERSION_CREATED', 'MODEL_VERSION_STATUS_CHANGED', 'ALIAS_SET', 'ALIAS_REMOVED',
  'PROMOTION_REQUESTED', 'PROMOTION_DECIDED', 'EVALUATION_COMPLETED', 'DATASET_VERSION_CREATED',
  'ALERT_OPENED', 'ALERT_RESOLVED',
];
const PROMPT_EVENT_TYPES = ['PROMPT_CREATED', 'PROMPT_VERSION_CREATED', 'PROMPT_ALIAS_SET', 'PROMPT_ALIAS_REMOVED'];
const typeCheck = (types: string[]) => `CHECK (type IN (${types.map((t) => `'${t}'`).join(', ')}))`;

/**
 * The prompt registry: prompts, their versions, aliases with their history, and the prompt
 * version an evaluation ran with.
 *
 * Versions are numbered from prompt.version_count under the prompt's row lock (as models are),
 * and are immutable: a trigger refuses any UPDATE of a prompt_version row, so no code path, now
 * or later, can change a version that an evaluation or an alias already refers to. project_id
 * is copied onto versions, aliases and alias events (prompts never change project) so that
 * permission checks read one row. The registry event types gain the prompt events.
 */
export class Prompts1796300000000 implements MigrationInterface {
  name = 'Prompts1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE prompt (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id    uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        name          text NOT NULL,
        description   text,
        version_count integer NOT NULL DEFAULT 0,
        created_at    timestamptz(3) NOT NULL DEFAULT now(),
        updated_at    timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT prompt_project_name_key UNIQUE (project_id, name)
      )`);
    await q.query(`CREATE INDEX prompt_updated_idx ON prompt (project_id, updated_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE prompt_version (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        prompt_id        uuid NOT NULL REFERENCES prompt (id) ON DELETE CASCADE,
        project_id       uuid NOT NULL,
        number           integer NOT NULL CHECK (number > 0),
        template         text NOT NULL,
        variables        text[] NOT NULL,
        parameters       jsonb,
        model_version_id uuid REFERENCES model_version (id),
        description      text,
        created_at       timestamptz(3) NOT NULL DEFAULT now(),
        created_by       text NOT NULL,
        idempotency_key  text,
        CONSTRAINT prompt_version_number_key UNIQUE (prompt_id, number),
        CONSTRAINT prompt_version_idempotency_key UNIQUE (prompt_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX prompt_version_model_version_idx ON prompt_version (model_version_id) WHERE model_version_id IS NOT NULL`);
    await q.query(`
      CREATE FUNCTION prompt_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'prompt versions are immutable (version %)', OLD.id USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`CREATE TRIGGER prompt_version_immutable BEFORE UPDATE ON prompt_version FOR EACH ROW EXECUTE FUNCTION prompt_version_immutable()`);

    // version_id is NULL while the alias is removed: the row keeps its revision counter going.
    await q.query(`
      CREATE TABLE prompt_alias (
        prompt_id  uuid NOT NULL REFERENCES prompt (id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        name       text NOT NULL,
        version_id uuid REFERENCES prompt_version (id),
        revision   integer NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_by text NOT NULL,
        PRIMARY KEY (prompt_id, name)
      )`);
    await q.query(`
      CREATE TABLE prompt_alias_event (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        prompt_id       uuid NOT NULL REFERENCES prompt (id) ON DELETE CASCADE,
        project_id      uuid NOT NULL,
        alias           text NOT NULL,
        from_version_id uuid REFERENCES prompt_version (id),
        to_version_id   uuid REFERENCES prompt_version (id),
        actor           text NOT NULL,
        reason          text,
        at              timestamptz(3) NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX prompt_alias_event_alias_idx ON prompt_alias_event (prompt_id, alias, at DESC, id DESC)`);
    await q.query(`CREATE INDEX prompt_alias_event_prompt_idx ON prompt_alias_event (prompt_id, id DESC)`);

    await q.query(`ALTER TABLE evaluation ADD COLUMN prompt_version_id uuid REFERENCES prompt_version (id)`);
    await q.query(`CREATE INDEX evaluation_prompt_version_idx ON evaluation (prompt_version_id) WHERE prompt_version_id IS NOT NULL`);

    await q.query(`ALTER TABLE registry_event DROP CONSTRAINT registry_event_type_check`);
    await q.query(`ALTER TABLE registry_event ADD CONSTRAINT registry_event_type_check ${typeCheck([...OLD_EVENT_TYPES, ...PROMPT_EVENT_TYPES])}`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The prompt events name rows this drops; the stream forgets them with the tables.
    await q.query(`DELETE FROM registry_event WHERE type = ANY($1::text[])`, [PROMPT_EVENT_TYPES]);
    await q.query(`ALTER TABLE registry_event DROP CONSTRAINT registry_event_type_check`);
    await q.query(`ALTER TABLE registry_event ADD CONSTRAINT registry_event_type_check ${typeCheck(OLD_EVENT_TYPES)}`);
    await q.query(`ALTER TABLE evaluation DROP COLUMN IF EXISTS prompt_version_id`);
    for (const t of ['prompt_alias_event', 'prompt_alias', 'prompt_version', 'prompt']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS prompt_version_immutable()`);
  }
}
