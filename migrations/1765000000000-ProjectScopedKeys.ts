import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenancy in the schema: every row that references another row of a project carries
 * `project_id`, and the reference is the composite `(project_id, x_id) -> parent (project_id, id)`.
 * A link across projects (a lineage edge from one project's version to another's dataset
 * version, an alias on a foreign version ...) is then refused by Postgres itself, whatever the
 * application forgot to check.
 *
 * - Each referenced table gets `UNIQUE (project_id, id)`: the target of the composite keys.
 * - Tables without `project_id` get it, copied from the row they belong to in one set-based
 *   UPDATE each, then NOT NULL. New rows must name it explicitly (no trigger copies it from the
 *   parent: a wrong project in application code must fail, not be silently repaired).
 * - Each single-column foreign key is replaced by the composite one, with the same ON DELETE.
 *   A nullable reference (base version, alias target, evaluation dataset ...) stays optional:
 *   under MATCH SIMPLE a key with a NULL column is not checked.
 * - Existing `project_id -> project` keys stay. Where a NOT NULL composite key exists they are
 *   implied by it; they cost a probe of the small project table, and keeping them keeps this
 *   change (and its `down`) to what tenancy needs.
 *
 * Existing data migrates as it is. An existing cross-project link makes `up` fail on that key
 * (the error names the constraint and the key), and the whole migration rolls back: such a
 * row is a bug to look at, not to carry over.
 *
 * Cost. A composite key costs one index probe per inserted row, as the key it replaces did, but
 * in the wider (project_id, id) index; each referenced table maintains one more index (metric
 * series only when a series is created, as their frequent updates touch no indexed column).
 * feature_value and metric_point, the large append-only tables on the hottest insert paths,
 * grow by 16 bytes a row, and this migration rewrites every row of them once (the backfill) and
 * scans them twice more (NOT NULL, key validation) while holding their locks in one
 * transaction. On a large installation, run it in a maintenance window, or backfill in batches
 * beforehand and add the keys NOT VALID, then VALIDATE, outside this migration.
 *
 * Not covered: audit_event and registry_event (polymorphic subjects, not keys), api_key (its
 * project is nullable by design), alias policy gates (a dataset version id inside JSON) and
 * promotion_approval.key_id (an API key, of no project).
 */
export class ProjectScopedKeys1765000000000 implements MigrationInterface {
  name = 'ProjectScopedKeys1765000000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, column, parent] of NEW_COLUMNS) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN project_id uuid`);
      await q.query(`UPDATE ${table} c SET project_id = p.project_id FROM ${parent} p WHERE p.id = c.${column}`);
      await q.query(`ALTER TABLE ${table} ALTER COLUMN project_id SET NOT NULL`);
    }
    for (const parent of PARENTS) {
      await q.query(`ALTER TABLE ${parent} ADD CONSTRAINT ${parent}_project_id_id_key UNIQUE (project_id, id)`);
    }
    for (const [table, column, parent, onDelete] of LINKS) {
      await q.query(
        `ALTER TABLE ${table} DROP CONSTRAINT ${table}_${column}_fkey,
           ADD CONSTRAINT ${table}_project_id_${column}_fkey FOREIGN KEY (project_id, ${column})
             REFERENCES ${parent} (project_id, id) ON DELETE ${onDelete}`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table, column, parent, onDelete] of [...LINKS].reverse()) {
      await q.query(
        `ALTER TABLE ${table} DROP CONSTRAINT ${table}_project_id_${column}_fkey,
           ADD CONSTRAINT ${table}_${column}_fkey FOREIGN KEY (${column}) REFERENCES ${parent} (id) ON DELETE ${onDelete}`,
      );
    }
    for (const parent of [...PARENTS].reverse()) {
      await q.query(`ALTER TABLE ${parent} DROP CONSTRAINT ${parent}_project_id_id_key`);
    }
    for (const [table] of [...NEW_COLUMNS].reverse()) {
      await q.query(`ALTER TABLE ${table} DROP COLUMN project_id`);
    }
  }
}

/** Tables that gain project_id: [table, the column naming the row it belongs to, that row's table]. */
const NEW_COLUMNS: [string, string, string][] = [
  ['model_alias', 'model_id', 'model'],
  ['alias_event', 'model_id', 'model'],
  ['model_version_dataset', 'model_version_id', 'model_version'],
  ['model_version_feature_set', 'model_version_id', 'model_version'],
  ['feature_value', 'feature_set_id', 'feature_set'],
  ['feature_online', 'feature_set_id', 'feature_set'],
  ['feature_write', 'feature_set_id', 'feature_set'],
  ['evaluation_metric', 'evaluation_id', 'evaluation'],
  ['eval_sample', 'evaluation_id', 'evaluation'],
  ['feedback', 'model_version_id', 'model_version'],
  ['column_profile', 'model_version_id', 'model_version'],
  ['metric_point', 'series_id', 'metric_series'],
  ['alias_policy', 'model_id', 'model'],
  // before promotion_approval, which copies from it
  ['promotion_request', 'model_id', 'model'],
  ['promotion_approval', 'request_id', 'promotion_request'],
];

/** Tables referenced by a composite key; each gets UNIQUE (project_id, id). */
const PARENTS = [
  'model', 'model_version', 'dataset', 'dataset_version', 'feature_set', 'evaluation', 'metric_series', 'monitor', 'promotion_request',
];

/**
 * Every foreign key between rows of one project: [table, column, referenced table, ON DELETE].
 * The names of the keys replaced are Postgres' defaults (`<table>_<column>_fkey`), as the
 * earlier migrations created them; `down` restores them under those names.
 */
const LINKS: [string, string, string, 'CASCADE' | 'NO ACTION'][] = [
  ['model_version', 'model_id', 'model', 'CASCADE'],
  ['model_version', 'base_version_id', 'model_version', 'NO ACTION'],
  ['model_alias', 'model_id', 'model', 'CASCADE'],
  ['model_alias', 'version_id', 'model_version', 'NO ACTION'],
  ['alias_event', 'model_id', 'model', 'CASCADE'],
  ['alias_event', 'from_version_id', 'model_version', 'NO ACTION'],
  ['alias_event', 'to_version_id', 'model_version', 'NO ACTION'],
  ['dataset_version', 'dataset_id', 'dataset', 'CASCADE'],
  ['model_version_dataset', 'model_version_id', 'model_version', 'CASCADE'],
  ['model_version_dataset', 'dataset_version_id', 'dataset_version', 'CASCADE'],
  ['feature_value', 'feature_set_id', 'feature_set', 'CASCADE'],
  ['feature_online', 'feature_set_id', 'feature_set', 'CASCADE'],
  ['feature_write', 'feature_set_id', 'feature_set', 'CASCADE'],
  ['model_version_feature_set', 'model_version_id', 'model_version', 'CASCADE'],
  ['model_version_feature_set', 'feature_set_id', 'feature_set', 'CASCADE'],
  ['evaluation', 'model_version_id', 'model_version', 'CASCADE'],
  ['evaluation', 'dataset_version_id', 'dataset_version', 'NO ACTION'],
  ['evaluation_metric', 'evaluation_id', 'evaluation', 'CASCADE'],
  ['eval_sample', 'evaluation_id', 'evaluation', 'CASCADE'],
  ['feedback', 'model_version_id', 'model_version', 'CASCADE'],
  ['column_profile', 'model_version_id', 'model_version', 'CASCADE'],
  ['metric_series', 'model_version_id', 'model_version', 'CASCADE'],
  ['metric_point', 'series_id', 'metric_series', 'CASCADE'],
  ['monitor', 'model_version_id', 'model_version', 'CASCADE'],
  ['monitor', 'model_id', 'model', 'CASCADE'],
  ['alert', 'monitor_id', 'monitor', 'CASCADE'],
  ['alias_policy', 'model_id', 'model', 'CASCADE'],
  ['promotion_request', 'model_id', 'model', 'CASCADE'],
  ['promotion_request', 'version_id', 'model_version', 'NO ACTION'],
  ['promotion_approval', 'request_id', 'promotion_request', 'CASCADE'],
];
