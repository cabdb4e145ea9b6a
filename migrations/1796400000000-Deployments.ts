import { MigrationInterface, QueryRunner } from 'typeorm';

const OLD_EVENT_TYPES = [
  'MODEL_CREATED', 'MODEL_VERSION_CREATED', 'MODEL_VERSION_STATUS_CHANGED', 'ALIAS_SET', 'ALIAS_REMOVED',
  'PROMOTION_REQUESTED', 'PROMOTION_DECIDED', 'EVALUATION_COMPLETED', 'DATASET_VERSION_CREATED',
  'ALERT_OPENED', 'ALERT_RESOLVED', 'PROMPT_CREATED', 'PROMPT_VERSION_CREATED', 'PROMPT_ALIAS_SET', 'PROMPT_ALIAS_REMOVED',
];
const DEPLOYMENT_EVENT_TYPES = ['DEPLOYMENT_CREATED', 'DEPLOYMENT_ROUTES_CHANGED'];
const typeCheck = (types: string[]) => `CHECK (type IN (${types.map((t) => `'${t}'`).join(', ')}))`;

/**
 * Deployments: a named endpoint of a project in an environment, and its traffic routes, kept
 * as revisions. A revision is a whole route set, valid from the moment it was set until the
 * next one (valid_to, NULL for the one in force); revisions are never changed afterwards, so
 * "what served traffic at T" is the last revision whose valid_from is at or before T.
 *
 * Routes name model versions, models and prompt versions of the deployment's own project: the
 * composite keys (project_id, ...) make the database refuse a route to another project's row,
 * as the tenancy migration does for every other link (prompt_version gains the
 * UNIQUE (project_id, id) those keys need).
 */
export class Deployments1796400000000 implements MigrationInterface {
  name = 'Deployments1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE prompt_version ADD CONSTRAINT prompt_version_project_id_id_key UNIQUE (project_id, id)`);

    await q.query(`
      CREATE TABLE deployment (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id  uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        name        text NOT NULL,
        environment text NOT NULL,
        endpoint    text,
        description text,
        revision    integer NOT NULL DEFAULT 0 CHECK (revision >= 0),
        created_at  timestamptz(3) NOT NULL DEFAULT now(),
        created_by  text NOT NULL,
        updated_at  timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT deployment_project_name_key UNIQUE (project_id, name),
        CONSTRAINT deployment_project_id_id_key UNIQUE (project_id, id)
      )`);
    // Project.deployments(environment:) pages by name within one environment; without it, the unique key above serves.
    await q.query(`CREATE INDEX deployment_environment_idx ON deployment (project_id, environment, name)`);

    await q.query(`
      CREATE TABLE deployment_revision (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        deployment_id   uuid NOT NULL,
        project_id      uuid NOT NULL,
        revision        integer NOT NULL CHECK (revision > 0),
        valid_from      timestamptz(3) NOT NULL,
        valid_to        timestamptz(3),
        actor           text NOT NULL,
        reason          text,
        idempotency_key text,
        CONSTRAINT deployment_revision_deployment_fkey FOREIGN KEY (project_id, deployment_id)
          REFERENCES deployment (project_id, id) ON DELETE CASCADE,
        CONSTRAINT deployment_revision_number_key UNIQUE (deployment_id, revision),
        CONSTRAINT deployment_revision_idempotency_key UNIQUE (deployment_id, idempotency_key),
        CONSTRAINT deployment_revision_valid_check CHECK (valid_to IS NULL OR valid_to >= valid_from)
      )`);
    // At most one revision in force per deployment.
    await q.query(`CREATE UNIQUE INDEX deployment_revision_current_idx ON deployment_revision (deployment_id) WHERE valid_to IS NULL`);
    // The asOf lookup: the last revision that started at or before T (revisions of one millisecond: the later).
    await q.query(`CREATE INDEX deployment_revision_as_of_idx ON deployment_revision (deployment_id, valid_from DESC, revision DESC)`);
    // Deployment.history pages on (deployment_id, revision DESC): deployment_revision_number_key serves it.

    await q.query(`
      CREATE TABLE deployment_route (
        revision_id       bigint NOT NULL REFERENCES deployment_revision (id) ON DELETE CASCADE,
        project_id        uuid NOT NULL,
        position          smallint NOT NULL,
        name              text NOT NULL,
        weight            smallint NOT NULL CHECK (weight BETWEEN 0 AND 100),
        model_id          uuid NOT NULL,
        alias             text,
        model_version_id  uuid,
        prompt_version_id uuid,
        PRIMARY KEY (revision_id, position),
        CONSTRAINT deployment_route_name_key UNIQUE (revision_id, name),
        CONSTRAINT deployment_route_target_check CHECK ((alias IS NULL) <> (model_version_id IS NULL)),
        CONSTRAINT deployment_route_model_fkey FOREIGN KEY (project_id, model_id) REFERENCES model (project_id, id),
        CONSTRAINT deployment_route_model_version_fkey FOREIGN KEY (project_id, model_version_id) REFERENCES model_version (project_id, id),
        CONSTRAINT deployment_route_prompt_version_fkey FOREIGN KEY (project_id, prompt_version_id) REFERENCES prompt_version (project_id, id)
      )`);
    // For the foreign keys' checks when a model, version or prompt version is deleted.
    await q.query(`CREATE INDEX deployment_route_model_idx ON deployment_route (model_id)`);
    await q.query(`CREATE INDEX deployment_route_model_version_idx ON deployment_route (model_version_id) WHERE model_version_id IS NOT NULL`);
    await q.query(`CREATE INDEX deployment_route_prompt_version_idx ON deployment_route (prompt_version_id) WHERE prompt_version_id IS NOT NULL`);

    await q.query(`ALTER TABLE registry_event DROP CONSTRAINT registry_event_type_check`);
    await q.query(`ALTER TABLE registry_event ADD CONSTRAINT registry_event_type_check ${typeCheck([...OLD_EVENT_TYPES, ...DEPLOYMENT_EVENT_TYPES])}`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The deployment events name rows this drops; the stream forgets them with the tables.
    await q.query(`DELETE FROM registry_event WHERE type = ANY($1::text[])`, [DEPLOYMENT_EVENT_TYPES]);
    await q.query(`ALTER TABLE registry_event DROP CONSTRAINT registry_event_type_check`);
    await q.query(`ALTER TABLE registry_event ADD CONSTRAINT registry_event_type_check ${typeCheck(OLD_EVENT_TYPES)}`);
    for (const t of ['deployment_route', 'deployment_revision', 'deployment']) await q.query(`DROP TABLE IF EXISTS ${t}`);
    await q.query(`ALTER TABLE prompt_version DROP CONSTRAINT IF EXISTS prompt_version_project_id_id_key`);
  }
}
