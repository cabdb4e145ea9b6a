import { EntityManager } from 'typeorm';
import { hydrate, insertReturning, Params } from '../../core/db/sql';
import { AppError, notFound } from '../../core/graphql/errors';
import { toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { recordEvent } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Principal } from '../../core/auth/principal';
import { ModelVersion } from '../model/model-version.entity';
import { CreateEvaluationInput, EvalMetricInput, EvalSampleInput } from './dto/evaluation.input';
import { Evaluation, EvaluationGrouping, EvaluationStatus } from './evaluation.entity';
import { sliceSql } from './evaluation.filters';
import { lastPerKey } from './evaluation.rules';

/** Locks the evaluation row: metric and sample writes and completion are serialized on it. */
export async function lockEvaluation(m: EntityManager, id: string): Promise<Evaluation> {
  const [evaluation] = hydrate(m, Evaluation, await m.query(`SELECT * FROM evaluation WHERE id = $1 FOR UPDATE`, [id]));
  if (!evaluation) throw notFound('Evaluation', toGlobalId('Evaluation', id));
  return evaluation;
}

/** A finished evaluation is a record: what it measured must not change after it is ranked. */
export function requireRunning(e: Evaluation, what: string): void {
  if (e.status !== EvaluationStatus.RUNNING) {
    throw new AppError('CONFLICT', `The evaluation is ${e.status}; it accepts no more ${what}`, { status: e.status });
  }
}

export interface LoggedMetric {
  name: string;
  slice: string | null;
  value: number;
}

const plainMetric = (x: EvalMetricInput) => ({ name: x.name, slice: x.slice ?? null, value: x.value, higherIsBetter: x.higherIsBetter ?? null });

/**
 * Upserts metrics in one statement and returns the values they replaced. A repeated (name,
 * slice) replaces the value; a direction left unsaid keeps the one logged before.
 */
export async function upsertMetrics(
  m: EntityManager, evaluation: Pick<Evaluation, 'id' | 'projectId'>, input: EvalMetricInput[],
): Promise<LoggedMetric[]> {
  const metrics = lastPerKey(input);
  return m.query(
    `WITH input AS (
       SELECT * FROM unnest($2::text[], $3::text[], $4::float8[], $5::boolean[]) AS i(name, slice, value, higher_is_better)
     ), old AS (
       SELECT em.name, em.slice, em.value FROM evaluation_metric em
         JOIN input i ON i.name = em.name AND coalesce(i.slice, '') = coalesce(em.slice, '')
        WHERE em.evaluation_id = $1
     ), up AS (
       INSERT INTO evaluation_metric (project_id, evaluation_id, name, slice, value, higher_is_better)
       SELECT $6, $1, name, slice, value, higher_is_better FROM input
       ON CONFLICT (evaluation_id, name, (coalesce(slice, ''))) DO UPDATE
         SET value = EXCLUDED.value,
             higher_is_better = coalesce(EXCLUDED.higher_is_better, evaluation_metric.higher_is_better),
             logged_at = now()
       RETURNING 1
     )
     SELECT name, slice, value FROM old ORDER BY name, slice NULLS FIRST`,
    [evaluation.id, metrics.map((x) => x.name), metrics.map((x) => x.slice ?? null), metrics.map((x) => x.value),
      metrics.map((x) => x.higherIsBetter ?? null), evaluation.projectId],
  );
}

/**
 * Starts a RUNNING evaluation. The caller has checked that the model version and the dataset
 * version (when given) exist and belong to one project. With an idempotency key, concurrent
 * retries queue on a transaction lock of (version, key), so exactly one creates and the others
 * return its evaluation.
 */
export async function createEvaluation(
  m: EntityManager, actor: Principal, version: ModelVersion, links: { datasetVersionId: string | null; promptVersionId: string | null },
  input: CreateEvaluationInput,
): Promise<Evaluation> {
  const { datasetVersionId, promptVersionId } = links;
  if (input.idempotencyKey) {
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`, [version.id, input.idempotencyKey]);
    const first = await m.findOneBy(Evaluation, { modelVersionId: version.id, idempotencyKey: input.idempotencyKey });
    if (first) return first;
  }
  const created = await insertReturning(m, Evaluation, {
    projectId: version.projectId,
    modelVersionId: version.id,
    datasetVersionId,
    promptVersionId,
    name: input.name,
    evaluator: input.evaluator ?? null,
    status: EvaluationStatus.RUNNING,
    params: input.params ?? null,
    createdBy: actor.name,
    idempotencyKey: input.idempotencyKey ?? null,
  });
  const metrics = input.metrics ?? [];
  if (metrics.length) await upsertMetrics(m, created, metrics);
  await recordAudit(m, {
    projectId: created.projectId, actor: actor.name, action: 'evaluation.create', targetType: 'Evaluation', targetId: created.nodeId,
    after: {
      ...created,
      modelVersionId: version.nodeId,
      datasetVersionId: datasetVersionId && toGlobalId('DatasetVersion', datasetVersionId),
      promptVersionId: promptVersionId && toGlobalId('PromptVersion', promptVersionId),
      metrics: lastPerKey(metrics).map(plainMetric),
    },
  });
  return created;
}

export async function logEvaluationMetrics(m: EntityManager, actor: Principal, evaluationId: string, metrics: EvalMetricInput[]): Promise<Evaluation> {
  const evaluation = await lockEvaluation(m, evaluationId);
  requireRunning(evaluation, 'metrics');
  const replaced = await upsertMetrics(m, evaluation, metrics);
  await recordAudit(m, {
    projectId: evaluation.projectId, actor: actor.name, action: 'evaluation.logMetrics', targetType: 'Evaluation', targetId: evaluation.nodeId,
    before: replaced.length ? { metrics: replaced } : null,
    after: { metrics: lastPerKey(metrics).map(plainMetric) },
  });
  return evaluation;
}

const jsonOrNull = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/** Appends samples in one statement, in the order given (their ids follow that order). The caller holds the evaluation's lock. */
export async function appendSamples(m: EntityManager, evaluation: Pick<Evaluation, 'id' | 'projectId'>, samples: EvalSampleInput[]): Promise<void> {
  await m.query(
    `INSERT INTO eval_sample (project_id, evaluation_id, input, output, reference, scores, input_tokens, output_tokens)
     SELECT $6, $1, i.input, i.output, i.reference, i.scores, i.input_tokens, i.output_tokens
       FROM unnest($2::jsonb[], $3::jsonb[], $4::jsonb[], $5::jsonb[], $7::int[], $8::int[])
            WITH ORDINALITY AS i(input, output, reference, scores, input_tokens, output_tokens, ord)
      ORDER BY i.ord`,
    [evaluation.id, samples.map((s) => jsonOrNull(s.input)), samples.map((s) => jsonOrNull(s.output)),
      samples.map((s) => jsonOrNull(s.reference)), samples.map((s) => JSON.stringify(s.scores)), evaluation.projectId,
      samples.map((s) => s.inputTokens ?? null), samples.map((s) => s.outputTokens ?? null)],
  );
}

export async function logEvaluationSamples(m: EntityManager, actor: Principal, evaluationId: string, samples: EvalSampleInput[]): Promise<Evaluation> {
  const evaluation = await lockEvaluation(m, evaluationId);
  requireRunning(evaluation, 'samples');
  await appendSamples(m, evaluation, samples);
  // Samples can be large and many: the audit log keeps the count, not the content.
  await recordAudit(m, {
    projectId: evaluation.projectId, actor: actor.name, action: 'evaluation.logSamples', targetType: 'Evaluation', targetId: evaluation.nodeId,
    after: { samples: samples.length },
  });
  return evaluation;
}

export async function completeEvaluation(
  m: EntityManager, actor: Principal, evaluationId: string, status: EvaluationStatus.COMPLETED | EvaluationStatus.FAILED,
): Promise<Evaluation> {
  const before = await lockEvaluation(m, evaluationId);
  if (before.status !== EvaluationStatus.RUNNING) {
    throw new AppError('CONFLICT', `The evaluation is already ${before.status}`, { status: before.status });
  }
  // TypeORM answers an UPDATE with [rows, affected count].
  const [rows] = await m.query(`UPDATE evaluation SET status = $2, finished_at = now() WHERE id = $1 RETURNING *`, [evaluationId, status]);
  const [after] = hydrate(m, Evaluation, rows);
  await recordAudit(m, {
    projectId: after.projectId, actor: actor.name, action: 'evaluation.complete', targetType: 'Evaluation', targetId: after.nodeId,
    before: { status: before.status }, after: { status: after.status, finishedAt: after.finishedAt },
  });
  // Finished either way: a subscriber waiting for the result learns of a failure too.
  await recordEvent(m, {
    projectId: after.projectId, type: RegistryEventType.EVALUATION_COMPLETED, actor: actor.name, subjectType: 'Evaluation', subjectId: after.id,
  });
  return after;
}

/**
 * For each version, each metric's value from the latest COMPLETED evaluation reporting it (on
 * the slice, and the dataset version when given). With no metric names, every metric any of
 * them reports. By PROMPT_VERSION, the same for each (version, prompt version) pair, an
 * evaluation that named no prompt version making the pair with null; the pairs of a version
 * come oldest prompt version first, the null one before them. One statement.
 */
export async function latestMetricValues(
  m: EntityManager,
  versionIds: string[],
  opts: { metrics: string[] | null; datasetVersionId: string | null; slice: string | null; groupBy?: EvaluationGrouping },
): Promise<{ modelVersionId: string; promptVersionId: string | null; name: string; value: number }[]> {
  const p = new Params();
  const conds = [`e.model_version_id = ANY(${p.add(versionIds)}::uuid[])`, `e.status = '${EvaluationStatus.COMPLETED}'`, sliceSql('em.slice', opts.slice, p)];
  if (opts.metrics) conds.push(`em.name = ANY(${p.add(opts.metrics)}::text[])`);
  if (opts.datasetVersionId) conds.push(`e.dataset_version_id = ${p.add(opts.datasetVersionId)}`);
  const byPrompt = opts.groupBy === EvaluationGrouping.PROMPT_VERSION;
  // By MODEL_VERSION every evaluation of a version is one group whatever prompt it named.
  const group = byPrompt ? 'e.model_version_id, e.prompt_version_id' : 'e.model_version_id';
  const rows: { model_version_id: string; prompt_version_id: string | null; name: string; value: number }[] = await m.query(
    `SELECT x.* FROM (
       SELECT DISTINCT ON (${group}, em.name) e.model_version_id, ${byPrompt ? 'e.prompt_version_id' : 'NULL::uuid AS prompt_version_id'}, em.name, em.value
         FROM evaluation e JOIN evaluation_metric em ON em.evaluation_id = e.id
        WHERE ${conds.join(' AND ')}
        ORDER BY ${group}, em.name, e.finished_at DESC, e.id DESC
     ) x LEFT JOIN prompt_version pv ON pv.id = x.prompt_version_id
     ORDER BY x.model_version_id, pv.created_at NULLS FIRST, pv.id, x.name`,
    p.values,
  );
  return rows.map((r) => ({ modelVersionId: r.model_version_id, promptVersionId: r.prompt_version_id, name: r.name, value: Number(r.value) }));
}
