import { EntityManager } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { badInput } from '../../core/graphql/errors';
import { WindowLimits, boundedWindow, describeSeconds } from '../../core/graphql/window';
import { Evaluation, EvaluationStatus } from '../evaluation/evaluation.entity';
import type { ModelVersion } from '../model/model-version.entity';
import { ModelVersionPrice, costOf } from '../usage/model-version-price.entity';
import { Candidate, CandidateCostSource } from './dto/candidates.types';
import { FrontierStatus, paretoFrontier } from './pareto';

export const MIN_CANDIDATES = 2;
export const MAX_CANDIDATES = 20;

/** The usage window: the last 30 days by default, at most 366 days (as a cost report). */
export const CANDIDATE_WINDOW: WindowLimits = { defaultSeconds: 30 * 86400, maxRangeSeconds: 366 * 86400 };
export const CANDIDATE_WINDOW_RULE = `to defaults to now and from to ${describeSeconds(CANDIDATE_WINDOW.defaultSeconds)} before to; `
  + `from must be before to, at most ${describeSeconds(CANDIDATE_WINDOW.maxRangeSeconds)} apart, else BAD_USER_INPUT.`;

export function candidateWindow(from: Date | null, to: Date | null): { from: Date; to: Date } {
  const window = boundedWindow({ from, to }, CANDIDATE_WINDOW, { at: new Date(), is: 'now' });
  if (!(window.from < window.to)) throw badInput('from must be before to', 'from');
  return window;
}

/** What a version's quality evaluation says: the metric's value, and the token counts its samples carry. */
export interface QualityFacts {
  evaluation: Evaluation;
  value: number;
  samplesWithTokens: number;
  meanInputTokens: number | null;
  meanOutputTokens: number | null;
}

/**
 * For each version, the latest-finished COMPLETED evaluation on the dataset version that reports
 * the metric overall (slice null), with the value and the mean token counts of its samples that
 * carry both. One statement whatever the number of versions.
 */
export async function qualityFacts(
  m: EntityManager, projectId: string, versionIds: string[], datasetVersionId: string, metric: string,
): Promise<Map<string, QualityFacts>> {
  const rows: Record<string, unknown>[] = await m.query(
    `WITH q AS (
       SELECT DISTINCT ON (e.model_version_id) e.*, em.value AS cand_value
         FROM evaluation e JOIN evaluation_metric em ON em.evaluation_id = e.id
        WHERE e.project_id = $1 AND e.model_version_id = ANY($2::uuid[]) AND e.dataset_version_id = $3
          AND e.status = '${EvaluationStatus.COMPLETED}' AND em.name = $4 AND em.slice IS NULL
        ORDER BY e.model_version_id, e.finished_at DESC, e.id DESC)
     SELECT q.*, s.n AS cand_samples, s.mean_in AS cand_mean_in, s.mean_out AS cand_mean_out
       FROM q CROSS JOIN LATERAL (
         SELECT count(*)::int AS n, avg(input_tokens)::float8 AS mean_in, avg(output_tokens)::float8 AS mean_out
           FROM eval_sample
          WHERE evaluation_id = q.id AND input_tokens IS NOT NULL AND output_tokens IS NOT NULL) s`,
    [projectId, versionIds, datasetVersionId, metric],
  );
  const evaluations = hydrate(m, Evaluation, rows);
  return new Map(rows.map((r, i) => [evaluations[i].modelVersionId, {
    evaluation: evaluations[i],
    value: Number(r.cand_value),
    samplesWithTokens: r.cand_samples as number,
    meanInputTokens: r.cand_mean_in === null ? null : Number(r.cand_mean_in),
    meanOutputTokens: r.cand_mean_out === null ? null : Number(r.cand_mean_out),
  }]));
}

/** A version's requests in the window. */
export interface UsageFacts {
  requests: number;
  priced: number;
  /** Mean cost of the priced requests, each at the price stored with it; null without any. */
  meanCostUsd: number | null;
  p95LatencyMs: number | null;
}

/** Requests, priced requests, their mean cost and the p95 latency of each version in [from, to). One statement. */
export async function usageFacts(m: EntityManager, projectId: string, versionIds: string[], from: Date, to: Date): Promise<Map<string, UsageFacts>> {
  const rows: { v: string; requests: number; priced: number; mean_cost: number | null; p95: number | null }[] = await m.query(
    `SELECT model_version_id AS v, count(*)::int AS requests, count(cost_usd)::int AS priced, avg(cost_usd) AS mean_cost,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
       FROM usage_record
      WHERE project_id = $1 AND model_version_id = ANY($2::uuid[]) AND ts >= $3 AND ts < $4
      GROUP BY model_version_id`,
    [projectId, versionIds, from.toISOString(), to.toISOString()],
  );
  return new Map(rows.map((r) => [r.v, {
    requests: r.requests, priced: r.priced,
    meanCostUsd: r.mean_cost === null ? null : Number(r.mean_cost),
    p95LatencyMs: r.p95 === null ? null : Number(r.p95),
  }]));
}

/** Whether a version's cost must be estimated from its samples: no priced request in the window, but samples with token counts. */
export function needsEstimate(quality: QualityFacts | undefined, usage: UsageFacts | undefined): boolean {
  return !usage?.priced && (quality?.samplesWithTokens ?? 0) > 0;
}

/**
 * The candidates, in the order of `versions`: quality, cost per 1,000 requests (from usage, else
 * estimated from the samples' tokens at the price in force now; both prices are linear in the
 * tokens, so the cost of the mean tokens is the mean cost), latency, and the Pareto frontier.
 */
export function buildCandidates(args: {
  versions: ModelVersion[];
  quality: Map<string, QualityFacts>;
  usage: Map<string, UsageFacts>;
  pricesNow: Map<string, ModelVersionPrice | null>;
  higherIsBetter: boolean;
  from: Date;
  to: Date;
}): Candidate[] {
  const { versions, higherIsBetter, from, to } = args;
  const figures = versions.map((v) => {
    const q = args.quality.get(v.id);
    const u = args.usage.get(v.id);
    let cost: number | null = null;
    let costSource = CandidateCostSource.NONE;
    if (u?.priced) {
      cost = u.meanCostUsd! * 1000;
      costSource = CandidateCostSource.USAGE;
    } else if (needsEstimate(q, u)) {
      const perRequest = costOf(args.pricesNow.get(v.id) ?? null, q!.meanInputTokens!, q!.meanOutputTokens!);
      if (perRequest !== null) {
        cost = perRequest * 1000;
        costSource = CandidateCostSource.ESTIMATED_FROM_SAMPLES;
      }
    }
    return { v, q, u, cost, costSource };
  });
  const places = paretoFrontier(figures.map((f) => ({ quality: f.q?.value ?? null, cost: f.cost })), higherIsBetter);
  return figures.map((f, i): Candidate => ({
    modelVersion: f.v,
    evaluation: f.q?.evaluation ?? null,
    quality: f.q?.value ?? null,
    costPer1kRequestsUsd: f.cost,
    costSource: f.costSource,
    requests: f.u?.requests ?? 0,
    pricedRequests: f.u?.priced ?? 0,
    samplesWithTokens: f.q?.samplesWithTokens ?? 0,
    p95LatencyMs: f.u?.p95LatencyMs ?? null,
    onParetoFrontier: places[i].status === FrontierStatus.ON_FRONTIER,
    frontierStatus: places[i].status,
    dominatedBy: places[i].dominatedBy.map((j) => versions[j]),
    from,
    to,
  }));
}
