import { EntityManager } from 'typeorm';
import { AppError, badInput } from '../../core/graphql/errors';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { Slices } from '../../core/util/slices';
import { Evaluation } from './evaluation.entity';
import { appendSamples, lockEvaluation, requireRunning, upsertMetrics } from './evaluation.service';
import {
  MAX_GENERATION_CHARS_PER_CALL, NOVELTY_CORPUS_MAX_CHARS, NOVELTY_CORPUS_MAX_SAMPLES, NoveltyCorpusUsage,
} from './dto/score-generations.input';
import {
  NoveltyCorpus, TextMetric, TokenizedGeneration, scoreGenerationSteps, textMetricsProblem, tokenizeGeneration, uniqueMetrics,
} from './text-metrics';

export interface ScoreGenerationsRequest {
  generations: { input?: unknown; output: string; reference?: string | null }[];
  metrics: TextMetric[];
  /** A dataset version the caller has checked to be of the evaluation's project. */
  corpusDatasetVersionId: string | null;
}

export interface ScoreGenerationsResult {
  evaluation: Evaluation;
  noveltyCorpus: NoveltyCorpusUsage | null;
}

/**
 * Feeds the NOVELTY corpus a bounded, deterministic sample of the texts ModelGraph holds for a
 * dataset version: of the samples of every evaluation on it but `excluded` (the evaluation being
 * scored, whose own earlier outputs are not a reference), the most recently logged first, at
 * most NOVELTY_CORPUS_MAX_SAMPLES of them and NOVELTY_CORPUS_MAX_CHARS characters of their
 * input, output and reference that are JSON strings. One statement; Postgres measures the texts
 * and sends only those within the budget.
 */
async function feedDatasetCorpus(
  m: EntityManager, datasetVersionId: string, excluded: string, corpus: NoveltyCorpus, slices: Slices,
): Promise<{ samples: number; sampled: boolean }> {
  // One row more than the limit says whether there are more.
  const rows: { before: string; len: number; input: string | null; output: string | null; reference: string | null }[] = await m.query(
    `WITH picked AS (
       SELECT id FROM eval_sample
        WHERE evaluation_id IN (SELECT id FROM evaluation WHERE dataset_version_id = $1 AND id <> $2)
        ORDER BY id DESC LIMIT $3
     ), texts AS (
       SELECT s.id,
              CASE WHEN jsonb_typeof(s.input) = 'string' THEN s.input #>> '{}' END AS input,
              CASE WHEN jsonb_typeof(s.output) = 'string' THEN s.output #>> '{}' END AS output,
              CASE WHEN jsonb_typeof(s.reference) = 'string' THEN s.reference #>> '{}' END AS reference
         FROM eval_sample s JOIN picked USING (id)
     ), sized AS (
       SELECT *, coalesce(length(input), 0) + coalesce(length(output), 0) + coalesce(length(reference), 0) AS len FROM texts
     ), ranked AS (
       SELECT *, sum(len) OVER (ORDER BY id DESC) - len AS before FROM sized
     )
     SELECT before::text, len,
            CASE WHEN before < $4 THEN left(input, ($4 - before)::int) END AS input,
            CASE WHEN before < $4 THEN left(output, ($4 - before)::int) END AS output,
            CASE WHEN before < $4 THEN left(reference, ($4 - before)::int) END AS reference
       FROM ranked ORDER BY id DESC`,
    [datasetVersionId, excluded, NOVELTY_CORPUS_MAX_SAMPLES + 1, NOVELTY_CORPUS_MAX_CHARS],
  );
  const taken = rows.slice(0, NOVELTY_CORPUS_MAX_SAMPLES);
  let budget = NOVELTY_CORPUS_MAX_CHARS;
  let samples = 0;
  for (const r of taken) {
    if (budget <= 0) break;
    samples++;
    for (const text of [r.input, r.output, r.reference]) {
      if (text === null || budget <= 0) continue;
      const piece = text.length > budget ? text.slice(0, budget) : text;
      corpus.add(piece);
      budget -= piece.length;
    }
    const turn = slices.due();
    if (turn) await turn;
  }
  return { samples, sampled: rows.length > taken.length || taken.some((r) => Number(r.before) + r.len > NOVELTY_CORPUS_MAX_CHARS) };
}

/**
 * Scores generations with text metrics and logs them to a RUNNING evaluation: the metrics
 * through the same upsert as logEvaluationMetrics, each generation as a sample with its own
 * scores through the same insert as logEvaluationSamples, and one audit record of counts
 * (generations can be large; the metrics are derived from them).
 *
 * The work is bounded by the input limits (MAX_GENERATION_CHARS_PER_CALL, the corpus sample),
 * runs in slices that let the event loop serve other requests in between, and happens before
 * the transaction: the evaluation's row lock is held only while the results are written. `m`
 * should not be in a transaction (the writes take their own).
 */
export async function scoreGenerations(
  m: EntityManager, actor: Principal, current: Evaluation, req: ScoreGenerationsRequest,
): Promise<ScoreGenerationsResult> {
  const chars = req.generations.reduce((sum, g) => sum + g.output.length + (g.reference?.length ?? 0), 0);
  if (chars > MAX_GENERATION_CHARS_PER_CALL) {
    throw new AppError('BAD_USER_INPUT', `The outputs and references of one call may have at most ${MAX_GENERATION_CHARS_PER_CALL} characters `
      + `together; these have ${chars}. Score them in several calls.`, { field: 'generations', max: MAX_GENERATION_CHARS_PER_CALL });
  }
  const slices = new Slices();
  const generations: TokenizedGeneration[] = [];
  for (const g of req.generations) {
    generations.push(tokenizeGeneration(g));
    const turn = slices.due();
    if (turn) await turn;
  }
  const metrics = uniqueMetrics(req.metrics);
  const problem = textMetricsProblem(generations, metrics);
  if (problem) throw badInput(problem, 'metrics');
  // Checked again under the lock; here so that a finished evaluation costs no scoring.
  requireRunning(current, 'metrics or samples');

  let novelty = null;
  let noveltyCorpus: NoveltyCorpusUsage | null = null;
  if (metrics.includes(TextMetric.NOVELTY)) {
    const corpus = new NoveltyCorpus();
    for (const g of generations) {
      corpus.addOutput(g.output);
      const turn = slices.due();
      if (turn) await turn;
    }
    const references = req.generations.filter((g) => g.reference !== null && g.reference !== undefined).map((g) => g.reference!);
    for (const reference of references) {
      corpus.add(reference);
      const turn = slices.due();
      if (turn) await turn;
    }
    const dataset = req.corpusDatasetVersionId
      ? await feedDatasetCorpus(m, req.corpusDatasetVersionId, current.id, corpus, slices)
      : { samples: 0, sampled: false };
    if (corpus.isEmpty) {
      throw new AppError('BAD_USER_INPUT', 'NOVELTY needs a reference corpus with at least one bigram: give references, or a '
        + 'noveltyReferenceDatasetVersionId whose evaluations have text samples', { field: 'metrics' });
    }
    novelty = await slices.run(corpus.resultSteps());
    noveltyCorpus = { references: references.length, datasetSamples: dataset.samples, datasetSampled: dataset.sampled };
  }
  const scored = await slices.run(scoreGenerationSteps(generations, metrics, novelty));

  const evaluation = await m.transaction(async (tx) => {
    const locked = await lockEvaluation(tx, current.id);
    requireRunning(locked, 'metrics or samples');
    const replaced = await upsertMetrics(tx, locked, scored.metrics);
    await appendSamples(tx, locked, req.generations.map((g, i) => ({
      input: g.input ?? null, output: g.output, reference: g.reference ?? null, scores: scored.scores[i],
    })));
    await recordAudit(tx, {
      projectId: locked.projectId, actor: actor.name, action: 'evaluation.scoreGenerations', targetType: 'Evaluation', targetId: locked.nodeId,
      before: replaced.length ? { metrics: replaced.length } : null,
      after: { samples: req.generations.length, metrics: scored.metrics.length },
    });
    return locked;
  });
  return { evaluation, noveltyCorpus };
}
