import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { feederGate, filledRowLoader, pageLoader, pairLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { Deployment, DeploymentRevision, DeploymentRoute } from './deployment.entity';
import { revisionAtSql } from './deployment.as-of';

export function deploymentLoaders(db: DataSource, batch: boolean) {
  const deploymentById = filledRowLoader(db, Deployment, batch, (ids) => `SELECT * FROM deployment WHERE id = ANY(${ids}::uuid[])`, (d) => d.id);
  const primeDeployments = (rows: Deployment[]) => deploymentById.fill(rows);
  // Routes are reached through the revision in force (routes, routes(asOf:)) and through the
  // history; their batch waits for both lookups, so one statement reads every revision's routes
  // and every route comes back in the same turn (their versions then load in one batch too).
  const routesGate = feederGate();
  const track = <L extends { load(key: never): Promise<unknown> }>(l: L) => (batch ? routesGate.track(l) : l);
  return {
    deploymentById,
    deploymentByProjectAndName: deploymentById.fedBy(pairLoader(db, Deployment, batch,
      `SELECT d.* FROM unnest($1::uuid[], $2::text[]) k(p, n) JOIN deployment d ON d.project_id = k.p AND d.name = k.n`,
      (d) => [d.projectId, d.name], primeDeployments)),
    deploymentPages: deploymentById.fedBy(pageLoader(db, Deployment, batch, primeDeployments)),
    deploymentRevisionPages: track(pageLoader(db, DeploymentRevision, batch)),
    /**
     * The revision of each deployment in force at a moment (null: now), for many (deployment,
     * moment) keys in one statement: the last revision that started at or before then, on the
     * (deployment_id, valid_from DESC, revision DESC) index. Null before the first revision.
     */
    deploymentRevisionAt: track(new DataLoader<[string, Date | null], DeploymentRevision | null, string>(
      async (keys) => {
        const rows: Record<string, unknown>[] = await db.query(
          `SELECT r.*, k.i AS __key FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY k(d, t, i)
             CROSS JOIN LATERAL ${revisionAtSql('k.d', `coalesce(k.t, 'infinity')`)} r`,
          [keys.map((k) => k[0]), keys.map((k) => k[1]?.toISOString() ?? null)],
        );
        const revisions = hydrate(db, DeploymentRevision, rows);
        const byKey = new Map(rows.map((row, i) => [Number(row.__key) - 1, revisions[i]]));
        return keys.map((_, i) => byKey.get(i) ?? null);
      },
      { batch, cache: batch, cacheKeyFn: (k) => `${k[0]}\u0000${k[1]?.toISOString() ?? 'now'}` },
    )),
    /** The routes of each revision, in the order they were given. */
    deploymentRoutesByRevision: new DataLoader<string, DeploymentRoute[]>(
      async (ids) => {
        const rows = hydrate(db, DeploymentRoute, await db.query(
          `SELECT * FROM deployment_route WHERE revision_id = ANY($1::bigint[]) ORDER BY revision_id, position`, [ids],
        ));
        const byRevision = groupBy(rows, (r) => String(r.revisionId));
        return ids.map((id) => byRevision.get(id) ?? []);
      },
      { batch, cache: batch, ...(batch ? { batchScheduleFn: routesGate.schedule } : {}) },
    ),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof deploymentLoaders> {}
}
