import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { Params, hydrate } from '../../core/db/sql';
import { pageLoader, rowLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { ModelVersion } from '../model/model-version.entity';
import { EvalMetric } from './eval-metric.entity';
import { EvalSample } from './eval-sample.entity';
import { Evaluation, EvaluationGrouping, EvaluationStatus } from './evaluation.entity';
import { sliceSql } from './evaluation.filters';

/** One leaderboard question; `projectId` varies within a batch, the rest shapes the statement. */
export interface LeaderboardKey {
  projectId: string;
  metric: string;
  slice: string | null;
  datasetVersionId: string | null;
  groupBy: EvaluationGrouping;
  first: number;
}

export interface RankedEvaluation {
  rank: number;
  value: number;
  evaluation: Evaluation;
  modelVersion: ModelVersion;
}

/** `alias.col AS prefix_col, ...` for every column of an entity, to read two tables' rows in one statement. */
function prefixedColumns(db: DataSource, cls: { new (): object }, alias: string, prefix: string): string {
  return db.getMetadata(cls).columns.map((c) => `${alias}.${c.databaseName} AS ${prefix}${c.databaseName}`).join(', ');
}

function unprefixed(rows: Record<string, unknown>[], prefix: string): Record<string, unknown>[] {
  return rows.map((row) => Object.fromEntries(
    Object.entries(row).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]),
  ));
}

export function evaluationLoaders(db: DataSource, batch: boolean) {
  const evaluationById = rowLoader(db, Evaluation, batch,
    (ids) => `SELECT * FROM evaluation WHERE id = ANY(${ids}::uuid[])`, (e) => e.id);
  const primeEvaluations = (rows: Evaluation[]) => { for (const e of rows) evaluationById.prime(e.id, e); };
  return {
    evaluationById,
    evalSampleById: rowLoader(db, EvalSample, batch,
      (ids) => `SELECT * FROM eval_sample WHERE id = ANY(${ids}::bigint[])`, (s) => String(s.id)),
    evaluationPages: pageLoader(db, Evaluation, batch, primeEvaluations),
    evalSamplePages: pageLoader(db, EvalSample, batch),
    /** Every metric of each evaluation, by name, overall before slices; `metric(name, slice)` reads it too. */
    metricsByEvaluation: new DataLoader<string, EvalMetric[]>(
      async (ids) => {
        const rows = hydrate(db, EvalMetric, await db.query(
          `SELECT * FROM evaluation_metric WHERE evaluation_id = ANY($1::uuid[]) ORDER BY evaluation_id, name, slice NULLS FIRST`, [ids],
        ));
        const byEvaluation = groupBy(rows, (r) => r.evaluationId);
        return ids.map((id) => byEvaluation.get(id) ?? []);
      },
      { batch, cache: batch },
    ),
    /**
     * Leaderboards of many projects in one statement per question shape. Each model version
     * (or, by PROMPT_VERSION, each prompt version that evaluations named) counts once, with its
     * best COMPLETED value; a metric some completed evaluation of the project marks
     * higherIsBetter: false ranks ascending. Ties go to the earlier finish.
     */
    leaderboards: new DataLoader<LeaderboardKey, RankedEvaluation[], string>(
      async (keys) => {
        const groups = groupBy(keys, (k) => JSON.stringify([k.metric, k.slice, k.datasetVersionId, k.groupBy, k.first]));
        const byKey = new Map<string, RankedEvaluation[]>();
        await Promise.all([...groups.values()].map(async (group) => {
          const { metric, slice, datasetVersionId, first } = group[0];
          const ranked = group[0].groupBy === EvaluationGrouping.PROMPT_VERSION ? 'e.prompt_version_id' : 'e.model_version_id';
          const p = new Params();
          const projects = p.add(group.map((k) => k.projectId));
          const name = p.add(metric);
          const conds = [`em.name = ${name}`, sliceSql('em.slice', slice, p)];
          if (datasetVersionId) conds.push(`e.dataset_version_id = ${p.add(datasetVersionId)}`);
          if (ranked === 'e.prompt_version_id') conds.push('e.prompt_version_id IS NOT NULL');
          const completed = `'${EvaluationStatus.COMPLETED}'`;
          const rows: Record<string, unknown>[] = await db.query(
            `WITH dir AS (
               SELECT k.pid, NOT EXISTS (
                 SELECT 1 FROM evaluation e JOIN evaluation_metric em ON em.evaluation_id = e.id
                  WHERE e.project_id = k.pid AND e.status = ${completed} AND em.name = ${name} AND em.higher_is_better = false
               ) AS higher
               FROM unnest(${projects}::uuid[]) k(pid)
             ), best AS (
               SELECT DISTINCT ON (e.project_id, ${ranked}) e.*, em.value AS lb_value, d.higher AS lb_higher
                 FROM dir d
                 JOIN evaluation e ON e.project_id = d.pid AND e.status = ${completed}
                 JOIN evaluation_metric em ON em.evaluation_id = e.id
                WHERE ${conds.join(' AND ')}
                ORDER BY e.project_id, ${ranked},
                         CASE WHEN d.higher THEN em.value ELSE -em.value END DESC, e.finished_at, e.id
             ), ranked AS (
               SELECT best.*, row_number() OVER (
                        PARTITION BY project_id
                        ORDER BY CASE WHEN lb_higher THEN lb_value ELSE -lb_value END DESC, finished_at, id) AS lb_rank
                 FROM best
             )
             SELECT ranked.*, ${prefixedColumns(db, ModelVersion, 'mv', 'mv__')}
               FROM ranked JOIN model_version mv ON mv.id = ranked.model_version_id
              WHERE lb_rank <= ${p.add(first)} ORDER BY ranked.project_id, lb_rank`,
            p.values,
          );
          const evaluations = hydrate(db, Evaluation, rows);
          // The versions come in the same statement: whichever batch answers first, the
          // leaderboard costs one statement.
          const versions = hydrate(db, ModelVersion, unprefixed(rows, 'mv__'));
          primeEvaluations(evaluations);
          const entries = rows.map((row, i) => ({ rank: Number(row.lb_rank), value: Number(row.lb_value), evaluation: evaluations[i], modelVersion: versions[i] }));
          groupBy(entries, (r) => leaderboardCacheKey({ ...group[0], projectId: r.evaluation.projectId }), byKey);
        }));
        return keys.map((k) => byKey.get(leaderboardCacheKey(k)) ?? []);
      },
      { batch, cache: batch, cacheKeyFn: (k) => leaderboardCacheKey(k) },
    ),
  };
}

const leaderboardCacheKey = (k: LeaderboardKey) => `${k.projectId}|${JSON.stringify([k.metric, k.slice, k.datasetVersionId, k.groupBy, k.first])}`;

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof evaluationLoaders> {}
}
