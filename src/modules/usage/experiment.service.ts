import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import {
  ALPHA, Direction, compareMeans, compareProportions, meanEstimate, proportionEstimate, type Interval, type MeanSummary,
} from '../../core/stats/experiment';
import type { DeploymentRevision, DeploymentRoute } from '../deployment/deployment.entity';
import { Experiment, ExperimentMetric, ExperimentRoute, ExperimentVerdict } from './dto/experiment';

/** An experiment's routes and window: the key of one aggregate statement's share of work. */
export interface ExperimentKey {
  deploymentId: string;
  routes: string[];
  from: Date;
  to: Date;
  metric: ExperimentMetric;
}

const DIRECTION: Record<ExperimentMetric, Direction> = {
  THUMBS_UP_RATE: 'HIGHER_IS_BETTER',
  MEAN_RATING: 'HIGHER_IS_BETTER',
  LATENCY_MS: 'LOWER_IS_BETTER',
  COST_PER_REQUEST: 'LOWER_IS_BETTER',
};

/**
 * Per metric, the observations of one route (k.d, k.r) in the window [k.f, k.t), as `x`. Feedback
 * reaches the route through the request it rates: feedback.request_id = usage_record.request_id
 * in the same project, with the feedback's own time in the window (the request may be older).
 * A thumbs vote is 1 (up) or 0, so its sum is the thumbs up.
 */
const OBSERVATIONS: Record<ExperimentMetric, string> = {
  THUMBS_UP_RATE: `SELECT (fb.value > 0)::int::float8 AS x FROM usage_record u
     JOIN feedback fb ON fb.project_id = u.project_id AND fb.request_id = u.request_id
    WHERE u.deployment_id = k.d AND u.route = k.r AND fb.kind = 'THUMBS' AND fb.at >= k.f AND fb.at < k.t`,
  MEAN_RATING: `SELECT fb.value AS x FROM usage_record u
     JOIN feedback fb ON fb.project_id = u.project_id AND fb.request_id = u.request_id
    WHERE u.deployment_id = k.d AND u.route = k.r AND fb.kind = 'RATING' AND fb.value IS NOT NULL AND fb.at >= k.f AND fb.at < k.t`,
  LATENCY_MS: `SELECT u.latency_ms AS x FROM usage_record u WHERE u.deployment_id = k.d AND u.route = k.r AND u.ts >= k.f AND u.ts < k.t`,
  COST_PER_REQUEST: `SELECT u.cost_usd AS x FROM usage_record u
    WHERE u.deployment_id = k.d AND u.route = k.r AND u.ts >= k.f AND u.ts < k.t AND u.cost_usd IS NOT NULL`,
};

/**
 * The summaries (count, sum, sum of squares) of every route of many experiments, one statement
 * per metric asked in the batch: the database does the per-row work, core/stats the tests.
 */
export function experimentSummariesLoader(db: DataSource, batch: boolean) {
  return new DataLoader<ExperimentKey, MeanSummary[], string>(
    async (keys) => {
      const out: MeanSummary[][] = keys.map((k) => k.routes.map(() => ({ n: 0, sum: 0, sumSquares: 0 })));
      for (const metric of new Set(keys.map((k) => k.metric))) {
        const flat = keys.flatMap((k, i) => (k.metric === metric ? k.routes.map((r, j) => ({ i, j, k, r })) : []));
        if (flat.length === 0) continue;
        const rows: { i: number; j: number; n: number; s: number; ss: number }[] = await db.query(
          `SELECT k.i, k.j, a.n, a.s, a.ss
             FROM unnest($1::int[], $2::int[], $3::uuid[], $4::text[], $5::timestamptz[], $6::timestamptz[]) k(i, j, d, r, f, t)
             CROSS JOIN LATERAL (SELECT count(*)::int AS n, coalesce(sum(x), 0)::float8 AS s, coalesce(sum(x * x), 0)::float8 AS ss
                                   FROM (${OBSERVATIONS[metric]}) o) a`,
          [flat.map((f) => f.i), flat.map((f) => f.j), flat.map((f) => f.k.deploymentId), flat.map((f) => f.r),
            flat.map((f) => f.k.from.toISOString()), flat.map((f) => f.k.to.toISOString())],
        );
        for (const r of rows) out[r.i][r.j] = { n: r.n, sum: Number(r.s), sumSquares: Number(r.ss) };
      }
      return out;
    },
    {
      batch, cache: batch,
      cacheKeyFn: (k) => [k.deploymentId, k.metric, k.from.toISOString(), k.to.toISOString(), ...k.routes].join('\u0000'),
    },
  );
}

const interval = (i: Interval | null) => (i ? { lower: i.lower, upper: i.upper } : null);

/**
 * The experiment's answer from its routes' summaries: each route's estimate with its 95%
 * interval, and every route after the first compared with the first (core/stats/experiment.ts).
 */
export function experimentOf(
  key: ExperimentKey, revision: DeploymentRevision | null, routes: DeploymentRoute[], summaries: MeanSummary[],
): Experiment {
  const direction = DIRECTION[key.metric];
  const shares = key.metric === ExperimentMetric.THUMBS_UP_RATE;
  // A vote is 0 or 1: its count is the trials and its sum the successes (a float8 sum of small integers, exact).
  const proportion = (s: MeanSummary) => ({ successes: Math.round(s.sum), trials: s.n });
  const control = summaries[0];
  const answered = routes.map((route, i): ExperimentRoute => {
    const s = summaries[i];
    const estimate = shares ? proportionEstimate(proportion(s)) : meanEstimate(s);
    const base: ExperimentRoute = {
      name: route.name, control: i === 0, route, observations: s.n,
      successes: shares ? proportion(s).successes : null,
      estimate: 'share' in estimate ? estimate.share : estimate.mean,
      standardDeviation: 'sd' in estimate ? estimate.sd : null,
      interval: interval(estimate.interval),
      difference: null, differenceInterval: null, statistic: null, degreesOfFreedom: null, pValue: null, verdict: null,
      minimumSampleSize: null, sampleRule: null,
    };
    if (i === 0) return base;
    const c = shares ? compareProportions(proportion(control), proportion(s), direction) : compareMeans(control, s, direction);
    return {
      ...base,
      difference: c.test.difference,
      differenceInterval: interval(c.test.interval),
      statistic: c.test.statistic,
      degreesOfFreedom: 'df' in c.test ? (c.test.df as number | null) : null,
      pValue: c.test.pValue,
      verdict: c.verdict.verdict as ExperimentVerdict,
      minimumSampleSize: c.verdict.minimumSampleSize,
      sampleRule: c.verdict.rule,
    };
  });
  return {
    from: key.from, to: key.to, metric: key.metric, higherIsBetter: direction === 'HIGHER_IS_BETTER', alpha: ALPHA, revision, routes: answered,
  };
}
