/** Why a candidate is, or is not, on the quality–cost Pareto frontier. */
export enum FrontierStatus {
  ON_FRONTIER = 'ON_FRONTIER',
  DOMINATED = 'DOMINATED',
  NO_QUALITY = 'NO_QUALITY',
  NO_COST = 'NO_COST',
  NO_QUALITY_NO_COST = 'NO_QUALITY_NO_COST',
}

/** One candidate's two objectives; null where it has no figure. */
export interface ParetoPoint {
  quality: number | null;
  cost: number | null;
}

export interface FrontierPlace {
  status: FrontierStatus;
  /** Indexes of the candidates that dominate this one, in input order; empty unless DOMINATED. */
  dominatedBy: number[];
}

/**
 * The quality–cost Pareto frontier: quality better per `higherIsBetter`, cost lower is better.
 * A candidate is dominated when another is at least as good on both and strictly better on one;
 * equal points therefore never dominate each other and are on the frontier together. A candidate
 * missing either figure cannot be compared, so it is on no frontier and dominates nothing.
 * Figures are compared exactly (no tolerance): equal prices and token counts give equal costs.
 * At most a few dozen candidates, so the pairwise check is the clearest way.
 */
export function paretoFrontier(points: readonly ParetoPoint[], higherIsBetter: boolean): FrontierPlace[] {
  const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
  const complete = (p: ParetoPoint): p is { quality: number; cost: number } => p.quality !== null && p.cost !== null;
  return points.map((p) => {
    if (!complete(p)) {
      const status = p.quality === null && p.cost === null ? FrontierStatus.NO_QUALITY_NO_COST
        : p.quality === null ? FrontierStatus.NO_QUALITY : FrontierStatus.NO_COST;
      return { status, dominatedBy: [] };
    }
    const dominatedBy: number[] = [];
    points.forEach((o, j) => {
      if (!complete(o)) return;
      const atLeastAsGood = !better(p.quality, o.quality) && o.cost <= p.cost;
      const strictly = better(o.quality, p.quality) || o.cost < p.cost;
      if (atLeastAsGood && strictly) dominatedBy.push(j);
    });
    return { status: dominatedBy.length ? FrontierStatus.DOMINATED : FrontierStatus.ON_FRONTIER, dominatedBy };
  });
}
