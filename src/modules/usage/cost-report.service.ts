import { EntityManager } from 'typeorm';
import { badInput } from '../../core/graphql/errors';
import { toGlobalId } from '../../core/graphql/ids';
import { DEPLOYMENT_NODE_TYPE } from '../deployment/deployment.entity';
import { CostGroupBy, CostReport, CostReportRow, UsageSummary } from './dto/cost-report';

export const MAX_REPORT_DAYS = 366;
export const MAX_REPORT_ROWS = 1000;

/**
 * The figures of a set of usage records `u`, as SQL select items: what a cost report's row and a
 * route's usage summary (DeploymentRoute.usage) both answer, read back by usageFigures.
 */
export const USAGE_AGGREGATES_SQL = `count(*)::int AS requests, (count(*) FILTER (WHERE u.error))::int AS errors,
  coalesce(sum(u.input_tokens), 0)::float8 AS input_tokens, coalesce(sum(u.output_tokens), 0)::float8 AS output_tokens,
  sum(u.cost_usd) AS cost, (count(*) FILTER (WHERE u.cost_usd IS NULL))::int AS unpriced,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY u.latency_ms) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY u.latency_ms) AS p95`;

/** The figures of a row that selected USAGE_AGGREGATES_SQL. */
export function usageFigures(r: Record<string, unknown>): UsageSummary {
  const requests = r.requests as number;
  return {
    requests,
    errors: r.errors as number,
    errorRate: requests ? (r.errors as number) / requests : null,
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    costUsd: r.cost === null ? null : Number(r.cost),
    unpricedRequests: r.unpriced as number,
    p50LatencyMs: r.p50 === null ? null : Number(r.p50),
    p95LatencyMs: r.p95 === null ? null : Number(r.p95),
  };
}

/** A report's window: from before to, at most MAX_REPORT_DAYS long (else BAD_USER_INPUT naming the argument). */
export function checkReportWindow(from: Date, to: Date): void {
  if (!(from.getTime() < to.getTime())) throw badInput('from must be before to', 'from');
  if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000) throw badInput(`The window may span at most ${MAX_REPORT_DAYS} days`, 'to');
}

/** The SQL of each grouping's key (text; null for records without one), over `u` (usage_record) and `v` (its model_version). */
const KEY_SQL: Record<CostGroupBy, string> = {
  MODEL: 'v.model_id::text',
  MODEL_VERSION: 'u.model_version_id::text',
  DEPLOYMENT: 'u.deployment_id::text',
  PROMPT_VERSION: 'u.prompt_version_id::text',
  DAY: `to_char(u.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

const ORDER_SQL = (groupBy: CostGroupBy) => (groupBy === CostGroupBy.DAY ? 'key' : 'cost DESC NULLS LAST, requests DESC, key');

/**
 * The report in one statement: the groups and the total in one pass (GROUPING SETS), latency
 * percentiles by percentile_cont (linear interpolation between the two nearest requests).
 * Cost is the sum of the costs stored with the records, at the prices in force when each was
 * served. The window reads the (project_id, ts) index and is at most 366 days.
 */
export async function costReport(m: EntityManager, projectId: string, from: Date, to: Date, groupBy: CostGroupBy): Promise<CostReport> {
  checkReportWindow(from, to);
  const key = KEY_SQL[groupBy];
  const join = groupBy === CostGroupBy.MODEL ? 'JOIN model_version v ON v.id = u.model_version_id' : '';
  const rows: Record<string, unknown>[] = await m.query(
    `SELECT * FROM (
       SELECT ${key} AS key, grouping(${key}) = 1 AS is_total, ${USAGE_AGGREGATES_SQL}
         FROM usage_record u ${join}
        WHERE u.project_id = $1 AND u.ts >= $2 AND u.ts < $3
        GROUP BY GROUPING SETS ((${key}), ())) g
      ORDER BY is_total DESC, ${ORDER_SQL(groupBy)}
      LIMIT ${MAX_REPORT_ROWS + 2}`,
    [projectId, from.toISOString(), to.toISOString()],
  );
  const toRow = (r: Record<string, unknown>): CostReportRow => {
    const k = (r.is_total ? null : r.key) as string | null;
    return {
      key: k,
      groupBy,
      // The id of the deployment module's Deployment node (type Deployment, key its uuid), as node(id:) reads it.
      deploymentId: groupBy === CostGroupBy.DEPLOYMENT && k !== null ? toGlobalId(DEPLOYMENT_NODE_TYPE, k) : null,
      day: groupBy === CostGroupBy.DAY ? k : null,
      ...usageFigures(r),
    };
  };
  // An empty window has no group and still one total row (the empty grouping set).
  const [total, ...groups] = rows;
  return {
    from, to, groupBy,
    total: toRow(total),
    rows: groups.slice(0, MAX_REPORT_ROWS).map(toRow),
    truncated: groups.length > MAX_REPORT_ROWS,
  };
}
