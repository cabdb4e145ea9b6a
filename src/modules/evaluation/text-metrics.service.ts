import { EntityManager } from 'typeorm';
import { AppError, badInput } from '../../core/graphql/errors';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { Evaluation } from './evaluation.entity';
import { appendSamples, lockEvaluation, requireRunning, upsertMetrics } from './evaluation.service';
import {
  NoveltyCorpus, TextMetric, scoreGenerations as score, textMetricsProblem, tokenizeGeneration, uniqueMetrics,
} from './text-metrics';

export interface ScoreGenerationsRequest {
  generations: { input?: unknown; output: string; reference?: string | null }[];
  metrics: TextMetric[];
  /** A dataset version the caller has checked to be of the evaluation's project. */
  corpusDatasetVersionId: string | null;
}

const CORPUS_BATCH = 2000;

/**
 * Feeds the NOVELTY corpus the texts ModelGraph holds for a dataset version: the input, output
 * and reference that are JSON strings, of the samples of every evaluation on it but `excluded` (the
 * evaluation being scored, whose own earlier outputs are not a reference). Read in keyset
 * batches on eval_sample's (evaluation_id, id) index, so memory holds one batch.
 */
async function feedDatasetCorpus(m: EntityManager, datasetVersionId: string, excluded: string, corpus: NoveltyCorpus): Promise<void> {
  const evaluations: { id: string }[] = await m.query(
    `SELECT id FROM evaluation WHERE dataset_version_id = $1 AND id <> $2`, [datasetVersionId, excluded],
  );
  if (!evaluations.length) return;
  const ids = evaluations.map((e) => e.id);
  let after: [string, string] = ['00000000-0000-0000-0000-000000000000', '0'];
  for (;;) {
    const rows: { evaluation_id: string; id: string; input: string | null; output: string | null; reference: string | null }[] = await m.query(
      `SELECT evaluation_id, id,
              CASE WHEN jsonb_typeof(input) = 'string' THEN input #>> '{}' END AS input,
              CASE WHEN jsonb_typeof(output) = 'string' THEN output #>> '{}' END AS output,
              CASE WHEN jsonb_typeof(reference) = 'string' THEN reference #>> '{}' END AS reference
         FROM eval_sample
        WHERE evaluation_id = ANY($1::uuid[]) AND (evaluation_id, id) > ($2::uuid, $3::bigint)
        ORDER BY evaluation_id, id
        LIMIT ${CORPUS_BATCH}`,
      [ids, after[0], after[1]],
    );
    for (const r of rows) {
      if (r.input !== null) corpus.add(r.input);
      if (r.output !== null) corpus.add(r.output);
      if (r.reference !== null) corpus.add(r.reference);
    }
    if (rows.length < CORPUS_BATCH) return;
    const last = rows[rows.length - 1];
    after = [last.evaluation_id, last.id];
  }
}

/**
 * Scores generations with text metrics and logs them to a RUNNING evaluation: the metrics
 * through the same upsert as logEvaluationMetrics, each generation as a sample with its own
 * scores through the same insert as logEvaluationSamples, and one audit record of counts
 * (generations can be large; the metrics are derived from them).
 */
export async function scoreGenerations(m: EntityManager, actor: Principal, evaluationId: string, req: ScoreGenerationsRequest): Promise<Evaluation> {
  const generations = req.generations.map(tokenizeGeneration);
  const metrics = uniqueMetrics(req.metrics);
  const problem = textMetricsProblem(generations, metrics);
  if (problem) throw badInput(problem, 'metrics');

  const evaluation = await lockEvaluation(m, evaluationId);
  requireRunning(evaluation, 'metrics or samples');

  let novelty = null;
  if (metrics.includes(TextMetric.NOVELTY)) {
    const corpus = new NoveltyCorpus(generations.map((g) => g.output));
    for (const g of req.generations) if (g.reference !== null && g.reference !== undefined) corpus.add(g.reference);
    if (req.corpusDatasetVersionId) await feedDatasetCorpus(m, req.corpusDatasetVersionId, evaluation.id, corpus);
    if (corpus.isEmpty) {
      throw new AppError('BAD_USER_INPUT', 'NOVELTY needs a reference corpus with at least one bigram: give references, or a '
        + 'noveltyReferenceDatasetVersionId whose evaluations have text samples', { field: 'metrics' });
    }
    novelty = corpus.result();
  }

  const scored = score(generations, metrics, novelty);
  const replaced = await upsertMetrics(m, evaluation, scored.metrics);
  await appendSamples(m, evaluation, req.generations.map((g, i) => ({
    input: g.input ?? null, output: g.output, reference: g.reference ?? null, scores: scored.scores[i],
  })));
  await recordAudit(m, {
    projectId: evaluation.projectId, actor: actor.name, action: 'evaluation.scoreGenerations', targetType: 'Evaluation', targetId: evaluation.nodeId,
    before: replaced.length ? { metrics: replaced.length } : null,
    after: { samples: req.generations.length, metrics: scored.metrics.length },
  });
  return evaluation;
}
