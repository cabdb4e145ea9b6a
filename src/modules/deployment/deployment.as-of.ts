import { EntityManager } from 'typeorm';
import { aliasAtSql } from '../../core/graphql/as-of-loader';
import { MODEL_ALIAS_MOVES } from '../model/model.loaders';

/**
 * The subquery of "the revision of a deployment in force at a moment", for a LATERAL join: the
 * last revision that started at or before then, on the (deployment_id, valid_from DESC,
 * revision DESC) index; no row before the first. Every as-of read of a deployment goes through
 * it (Deployment.routes(asOf:), revisionAt, and usage records resolved to the route that served
 * them), so they all agree on which route set served a moment. The expressions are SQL of the
 * caller, never input.
 */
export function revisionAtSql(deployment: string, at: string): string {
  return `(SELECT * FROM deployment_revision
            WHERE deployment_id = ${deployment} AND valid_from <= ${at}
            ORDER BY valid_from DESC, revision DESC LIMIT 1)`;
}

/** One route to resolve: the deployment (row key), the route's name and the moment it served. */
export interface RouteAt {
  deploymentId: string;
  route: string;
  at: Date;
}

/** What a route served at a moment. */
export interface ResolvedRoute {
  /** The deployment's name; null when the project has no such deployment. */
  deploymentName: string | null;
  /** Whether the route set in force then had a route of that name. */
  route: boolean;
  /** The version it served then: the pinned one, or where its alias pointed then; null if neither (the alias pointed nowhere). */
  modelVersionId: string | null;
}

/**
 * Resolves many (deployment, route, moment) to the model version each served, in one
 * statement, as Deployment.routes(asOf:) answers: the route set in force at the moment, and
 * for an alias-following route the version its alias pointed to at that same moment. A
 * deployment of another project is answered as missing.
 */
export async function resolveRoutesAt(m: EntityManager, projectId: string, keys: RouteAt[]): Promise<ResolvedRoute[]> {
  if (keys.length === 0) return [];
  const rows: { i: string; deployment: string | null; route: boolean; version_id: string | null }[] = await m.query(
    `SELECT k.i, d.name AS deployment, r.name IS NOT NULL AS route, coalesce(r.model_version_id, a.to_version_id) AS version_id
       FROM unnest($2::uuid[], $3::text[], $4::timestamptz[]) WITH ORDINALITY k(d, n, t, i)
       LEFT JOIN deployment d ON d.id = k.d AND d.project_id = $1
       LEFT JOIN LATERAL ${revisionAtSql('d.id', 'k.t')} v ON true
       LEFT JOIN deployment_route r ON r.revision_id = v.id AND r.name = k.n
       LEFT JOIN LATERAL ${aliasAtSql(MODEL_ALIAS_MOVES, 'r.model_id', 'r.alias', 'k.t')} a ON r.alias IS NOT NULL`,
    [projectId, keys.map((k) => k.deploymentId), keys.map((k) => k.route), keys.map((k) => k.at.toISOString())],
  );
  const byIndex = new Map(rows.map((r) => [Number(r.i) - 1, r]));
  return keys.map((_, i) => {
    const r = byIndex.get(i)!;
    return { deploymentName: r.deployment, route: r.route, modelVersionId: r.version_id };
  });
}
