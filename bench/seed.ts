import { Client } from 'pg';

/** What the nested-read scenario expects to find in every peer's answer. */
export interface SeedShape {
  slug: string;
  models: number;
  versionsPerModel: number;
  /** Versions whose base_version_id is set. */
  baseVersions: number;
  /** model_alias rows, all pointing at a version. */
  aliases: number;
}

export const SEED = {
  slug: 'bench',
  models: 50,
  versionsPerModel: 10,
} as const;

/**
 * Seeds the nested-read scenario with a few set-based statements: 1 project, 50 models, 10
 * versions each, fine-tuning lineage on most versions and two aliases on some models.
 *
 * Timestamps are spread out on purpose: every peer orders models by updated_at DESC, and
 * distinct values make that order total, so the peers cannot disagree on ties.
 */
export async function seed(url: string): Promise<SeedShape> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    const { rows: [project] } = await c.query<{ id: string }>(
      `INSERT INTO project (slug, name, description) VALUES ($1, 'Bench', 'Seeded by bench/seed.ts') RETURNING id`,
      [SEED.slug],
    );
    await c.query(
      `INSERT INTO model (project_id, name, kind, task, tags, version_count, created_at, updated_at)
       SELECT $1, format('model-%s', lpad(i::text, 2, '0')), 'INTERNAL', 'classification',
              jsonb_build_array(jsonb_build_object('key', 'team', 'value', 't' || (i % 5)),
                                jsonb_build_object('key', 'tier', 'value', CASE WHEN i % 2 = 0 THEN 'gold' ELSE 'silver' END)),
              $3, now() - make_interval(days => 30) + make_interval(mins => i),
              now() - make_interval(mins => i)
         FROM generate_series(1, $2::int) AS i`,
      [project.id, SEED.models, SEED.versionsPerModel],
    );
    await c.query(
      `INSERT INTO model_version (model_id, project_id, number, status, source, tags, created_at, created_by)
       SELECT m.id, m.project_id, n, 'READY',
              jsonb_build_object('kind', 'ARTIFACT', 'uri', format('s3://bench-models/%s/%s/', m.name, n)),
              jsonb_build_array(jsonb_build_object('key', 'epoch', 'value', (n * 3)::text)),
              m.created_at + make_interval(hours => n), 'bench'
         FROM model m CROSS JOIN generate_series(1, $2::int) AS n
        WHERE m.project_id = $1`,
      [project.id, SEED.versionsPerModel],
    );
    // Lineage: version n is fine-tuned from n-1, except 1, 6, 11 ... which were trained afresh.
    const base = await c.query(
      `UPDATE model_version v SET base_version_id = prev.id, fine_tuning_method = 'lora'
         FROM model_version prev
        WHERE prev.model_id = v.model_id AND prev.number = v.number - 1
          AND v.number % 5 <> 1 AND v.project_id = $1`,
      [project.id],
    );
    // production on version 8 of every model; champion on the newest version of every other one.
    const aliases = await c.query(
      `INSERT INTO model_alias (project_id, model_id, name, version_id, revision, updated_by)
       SELECT v.project_id, v.model_id, a.name, v.id, 1, 'bench'
         FROM model_version v
         JOIN model m ON m.id = v.model_id
         JOIN (VALUES ('production', 8, false), ('champion', $2::int, true)) AS a(name, number, every_other)
           ON v.number = a.number AND (NOT a.every_other OR right(m.name, 1)::int % 2 = 0)
        WHERE v.project_id = $1`,
      [project.id, SEED.versionsPerModel],
    );
    await c.query('COMMIT');
    // Now rather than by autovacuum in the middle of a measurement (the lineage UPDATE leaves
    // 400 dead rows): fresh statistics and visibility map for every peer alike.
    await c.query('VACUUM ANALYZE project, model, model_version, model_alias');
    return {
      slug: SEED.slug,
      models: SEED.models,
      versionsPerModel: SEED.versionsPerModel,
      baseVersions: base.rowCount ?? 0,
      aliases: aliases.rowCount ?? 0,
    };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await c.end();
  }
}
