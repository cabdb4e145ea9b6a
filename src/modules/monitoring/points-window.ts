import { badInput } from '../../core/graphql/errors';
import { WindowLimits, boundedWindow, describeSeconds } from '../../core/graphql/window';
import { Aggregation, MetricSeries } from './metric-series.entity';
import type { PointsKey } from './monitoring.loaders';

/** Buckets one `points` read may ask for; each is paid for in the query cost, at what it selects. */
export const MAX_POINTS = 10_000;
export const DEFAULT_POINTS = 1000;

declare module '../../core/graphql/context' {
  interface WorkLimits {
    /** MetricSeries.points: the window read when none is given, and the longest one asked for. */
    points: WindowLimits;
  }
}

/** Defaults of the schema's descriptions; the configured values are in the README's table. */
export const POINTS_WINDOW_DEFAULTS: WindowLimits = { defaultSeconds: 86400, maxRangeSeconds: 90 * 86400 };

export const POINTS_WINDOW_RULE =
  `Without from, the window starts ${describeSeconds(POINTS_WINDOW_DEFAULTS.defaultSeconds)} before to (MODELGRAPH_POINTS_DEFAULT_WINDOW_SECONDS), ` +
  `at the first point in that span; without to, it ends just past the newest point. from and to may be at most ` +
  `${describeSeconds(POINTS_WINDOW_DEFAULTS.maxRangeSeconds)} apart (MODELGRAPH_POINTS_MAX_RANGE_SECONDS), else BAD_USER_INPUT.`;

/** How windows of long buckets are read (history.ts). */
export const ROLLUP_READ_RULE =
  'Buckets of a minute or more are a whole number of minutes (of hours, when an hour or more) on clock minutes (hours) from the minute (hour) ' +
  'of the window\'s start, and are read from rollups; the first is stamped at the window\'s start. Their count, sum, min, max, AVG and LAST are ' +
  'those of the raw points; P50, P95 and P99 are DDSketch estimates within 1% (relative) of the continuous percentile.';

/**
 * What one `points` read asks the loader for, or null when the series has no point (nothing to
 * read): the window is bounded (see POINTS_WINDOW_RULE) before any statement is sent.
 */
export function pointsRequest(
  s: MetricSeries, args: { from: Date | null; to: Date | null; maxPoints: number | null; aggregation: Aggregation | null }, limits: WindowLimits,
): PointsKey | null {
  const maxPoints = args.maxPoints ?? DEFAULT_POINTS;
  if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > MAX_POINTS) throw badInput(`maxPoints must be between 1 and ${MAX_POINTS}`, 'maxPoints');
  if (args.from && args.to && args.from >= args.to) throw badInput('from must be before to', 'from');
  const end = s.lastTimestamp ? new Date(s.lastTimestamp.getTime() + 1) : new Date();
  const window = boundedWindow(args, limits, { at: end, is: 'just past the newest point' });
  if (!s.lastTimestamp) return null;
  return {
    seriesId: s.id,
    // Without from, the buckets start at the first point in the default span, not at its edge.
    from: args.from ?? null,
    since: window.from,
    to: window.to,
    maxPoints,
    aggregation: args.aggregation ?? Aggregation.AVG,
  };
}
