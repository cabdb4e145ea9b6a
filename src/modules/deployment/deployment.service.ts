import { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../core/db/errors';
import { hydrate, insertReturning } from '../../core/db/sql';
import { AppError, badInput, notFound } from '../../core/graphql/errors';
import { keyOf, toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { recordEvent } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Principal } from '../../core/auth/principal';
import { ModelVersionStatus } from '../model/model-version.entity';
import { assertPolicyAdmits, policyFor } from '../promotion/promotion.service';
import { CreateDeploymentInput, DeploymentRouteInput, SetDeploymentRoutesInput } from './dto/deployment.input';
import { Deployment, DeploymentRevision, DeploymentRoute } from './deployment.entity';

/**
 * Lock order. setDeploymentRoutes locks the deployment row first, then (FOR SHARE) the models
 * its old and new routes follow or pin, in id order. FOR SHARE on a model conflicts with the
 * FOR NO KEY UPDATE every alias move, alias removal and policy change takes first, so the
 * aliases and policies read here cannot change before this commits; no write in an earlier
 * module locks a deployment, so no two writers wait on each other in a cycle.
 */

/** Locks the deployment row: its revisions are numbered and closed by one writer at a time. */
export async function lockDeployment(m: EntityManager, id: string): Promise<Deployment> {
  const [deployment] = hydrate(m, Deployment, await m.query(`SELECT * FROM deployment WHERE id = $1 FOR NO KEY UPDATE`, [id]));
  if (!deployment) throw notFound('Deployment', toGlobalId('Deployment', id));
  return deployment;
}

export async function createDeployment(m: EntityManager, actor: Principal, projectId: string, input: CreateDeploymentInput): Promise<Deployment> {
  let created: Deployment;
  try {
    created = await insertReturning(m, Deployment, {
      projectId, name: input.name, environment: input.environment, endpoint: input.endpoint ?? null,
      description: input.description ?? null, revision: 0, createdBy: actor.name,
    });
  } catch (err) {
    if (isUniqueViolation(err, 'deployment_project_name_key')) {
      throw new AppError('CONFLICT', `A deployment named "${input.name}" already exists in this project`, { field: 'name' });
    }
    throw err;
  }
  await recordAudit(m, { projectId, actor: actor.name, action: 'deployment.create', targetType: 'Deployment', targetId: created.nodeId, after: created });
  await recordEvent(m, { projectId, type: RegistryEventType.DEPLOYMENT_CREATED, actor: actor.name, subjectType: 'Deployment', subjectId: created.id });
  return created;
}

/** A route as the input gives it, with row keys instead of global ids. */
interface WantedRoute {
  name: string;
  weight: number;
  modelVersionId: string | null;
  modelId: string | null;
  alias: string | null;
  promptVersionId: string | null;
}

/** Checks what needs no database: targets, ids, names, weights. Answers row keys. */
function parseRoutes(routes: DeploymentRouteInput[]): WantedRoute[] {
  const seen = new Set<string>();
  const parsed = routes.map((r, i): WantedRoute => {
    const field = `routes.${i}`;
    if (r.modelVersionId && (r.modelId || r.alias)) {
      throw badInput('Give modelVersionId (pinned) or modelId with alias (followed), not both', `${field}.modelVersionId`);
    }
    if (!r.modelVersionId && !(r.modelId && r.alias)) {
      throw badInput('A route needs modelVersionId, or modelId with alias', r.modelId ? `${field}.alias` : `${field}.modelId`);
    }
    if (seen.has(r.name)) throw badInput(`Two routes are named "${r.name}"`, `${field}.name`);
    seen.add(r.name);
    return {
      name: r.name,
      weight: r.weight,
      modelVersionId: r.modelVersionId ? keyOf(r.modelVersionId, 'ModelVersion', `${field}.modelVersionId`) : null,
      modelId: r.modelId ? keyOf(r.modelId, 'Model', `${field}.modelId`) : null,
      alias: r.alias ?? null,
      promptVersionId: r.promptVersionId ? keyOf(r.promptVersionId, 'PromptVersion', `${field}.promptVersionId`) : null,
    };
  });
  const sum = parsed.reduce((s, r) => s + r.weight, 0);
  if (sum !== 100) throw badInput(`The route weights sum to ${sum}; they must sum to exactly 100`, 'routes');
  return parsed;
}

interface VersionRow { id: string; model_id: string; number: number; status: ModelVersionStatus }
interface AliasRow { model_id: string; name: string; version_id: string; number: number }

/** The routes of the revision in force, in order; none before the first. */
async function currentRoutes(m: EntityManager, deploymentId: string): Promise<DeploymentRoute[]> {
  return hydrate(m, DeploymentRoute, await m.query(
    `SELECT r.* FROM deployment_revision v JOIN deployment_route r ON r.revision_id = v.id
      WHERE v.deployment_id = $1 AND v.valid_to IS NULL ORDER BY r.position`,
    [deploymentId],
  ));
}

/** A route for the audit record: global ids, as a client would name them. */
const described = (r: Omit<WantedRoute, 'modelId'> & { modelId: string }) => ({
  name: r.name, weight: r.weight, modelId: toGlobalId('Model', r.modelId), alias: r.alias,
  modelVersionId: r.modelVersionId && toGlobalId('ModelVersion', r.modelVersionId),
  promptVersionId: r.promptVersionId && toGlobalId('PromptVersion', r.promptVersionId),
});

const sameRoutes = (a: (WantedRoute & { modelId: string })[], b: DeploymentRoute[]) => a.length === b.length && a.every((r, i) =>
  r.name === b[i].name && r.weight === b[i].weight && r.modelId === b[i].modelId && r.alias === b[i].alias
  && r.modelVersionId === b[i].modelVersionId && r.promptVersionId === b[i].promptVersionId);

/**
 * Replaces the route set of a deployment with a new revision, numbered from the deployment's
 * counter under its row lock. The revision in force is closed at the moment the new one opens
 * (valid_to = valid_from), so every moment has exactly one route set. A set equal to the one in
 * force changes nothing. Every id must name a row of the deployment's project (else NOT_FOUND,
 * as for a missing one), a pinned version must be READY, a followed alias must be set.
 *
 * A route that followed a protected alias A (same route name in the revision in force) and now
 * sends its traffic elsewhere is held to A's policy, as if A were moved to the version the
 * route now reaches: where A needs approvals this is FORBIDDEN, where the version fails A's
 * gates it is CONFLICT. Following A to the version A points to now is no bypass and passes.
 */
export async function setDeploymentRoutes(
  m: EntityManager, actor: Principal, deploymentId: string, input: SetDeploymentRoutesInput,
): Promise<{ deployment: Deployment; revision: DeploymentRevision }> {
  const wanted = parseRoutes(input.routes);
  const deployment = await lockDeployment(m, deploymentId);
  const projectId = deployment.projectId;
  if (input.idempotencyKey) {
    const first = await m.findOneBy(DeploymentRevision, { deploymentId, idempotencyKey: input.idempotencyKey });
    if (first) return { deployment, revision: first };
  }
  if (input.expectedRevision !== deployment.revision) {
    throw new AppError('CONFLICT', `The deployment is at revision ${deployment.revision}, not ${input.expectedRevision}; reload and retry`, {
      currentRevision: deployment.revision,
    });
  }
  const before = await currentRoutes(m, deploymentId);

  // Pinned versions of this project; their models are locked with the followed ones below.
  const pinnedIds = wanted.flatMap((r) => (r.modelVersionId ? [r.modelVersionId] : []));
  const versions = new Map((await m.query(
    `SELECT id, model_id, number, status FROM model_version WHERE id = ANY($1::uuid[]) AND project_id = $2`, [pinnedIds, projectId],
  ) as VersionRow[]).map((v) => [v.id, v]));
  wanted.forEach((r, i) => {
    if (!r.modelVersionId) return;
    const v = versions.get(r.modelVersionId);
    if (!v) throw new AppError('NOT_FOUND', 'modelVersionId names no model version of this project', { field: `routes.${i}.modelVersionId` });
    if (v.status !== ModelVersionStatus.READY) {
      throw badInput(`Version ${v.number} is ${v.status}; only READY versions can serve traffic`, `routes.${i}.modelVersionId`);
    }
  });
  const modelOf = (r: WantedRoute) => r.modelId ?? versions.get(r.modelVersionId!)!.model_id;

  const modelIds = [...new Set([...wanted.map(modelOf), ...before.map((r) => r.modelId)])].sort();
  const locked = new Set((await m.query(
    `SELECT id FROM model WHERE id = ANY($1::uuid[]) AND project_id = $2 ORDER BY id FOR SHARE`, [modelIds, projectId],
  ) as { id: string }[]).map((r) => r.id));
  wanted.forEach((r, i) => {
    if (r.modelId && !locked.has(r.modelId)) throw new AppError('NOT_FOUND', 'modelId names no model of this project', { field: `routes.${i}.modelId` });
  });

  // Where the followed aliases (new and old) point now, read under the models' locks.
  const followed = [...wanted, ...before].filter((r) => r.alias !== null) as { modelId: string; alias: string }[];
  const aliases = new Map((await m.query(
    `SELECT a.model_id, a.name, a.version_id, v.number FROM unnest($1::uuid[], $2::text[]) k(m, n)
       JOIN model_alias a ON a.model_id = k.m AND a.name = k.n JOIN model_version v ON v.id = a.version_id`,
    [followed.map((r) => r.modelId), followed.map((r) => r.alias)],
  ) as AliasRow[]).map((a) => [`${a.model_id}\u0000${a.name}`, a]));
  const aliasNow = (modelId: string, alias: string) => aliases.get(`${modelId}\u0000${alias}`) ?? null;
  wanted.forEach((r, i) => {
    if (r.alias && !aliasNow(r.modelId!, r.alias)) throw new AppError('NOT_FOUND', `The model has no alias "${r.alias}"`, { field: `routes.${i}.alias` });
  });

  const promptIds = wanted.flatMap((r) => (r.promptVersionId ? [r.promptVersionId] : []));
  const prompts = new Set((await m.query(
    `SELECT id FROM prompt_version WHERE id = ANY($1::uuid[]) AND project_id = $2`, [promptIds, projectId],
  ) as { id: string }[]).map((r) => r.id));
  wanted.forEach((r, i) => {
    if (r.promptVersionId && !prompts.has(r.promptVersionId)) {
      throw new AppError('NOT_FOUND', 'promptVersionId names no prompt version of this project', { field: `routes.${i}.promptVersionId` });
    }
  });

  const routes = wanted.map((r) => ({ ...r, modelId: modelOf(r) }));
  if (before.length && sameRoutes(routes, before)) {
    return { deployment, revision: await m.findOneByOrFail(DeploymentRevision, { deploymentId, revision: deployment.revision }) };
  }
  await guardFollowedAliases(m, routes, before, aliasNow, (id) => versions.get(id)!);

  const revision = deployment.revision + 1;
  // Never before the revision it closes, even if the clock stepped back.
  const [{ at }] = await m.query(
    `SELECT greatest(clock_timestamp()::timestamptz(3), max(valid_from)) AS at FROM deployment_revision WHERE deployment_id = $1`, [deploymentId],
  );
  await m.query(`UPDATE deployment_revision SET valid_to = $2 WHERE deployment_id = $1 AND valid_to IS NULL`, [deploymentId, at]);
  const made = await insertReturning(m, DeploymentRevision, {
    deploymentId, projectId, revision, validFrom: at, validTo: null, actor: actor.name, reason: input.reason ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
  });
  await m.query(
    `INSERT INTO deployment_route (revision_id, project_id, position, name, weight, model_id, alias, model_version_id, prompt_version_id)
     SELECT $1, $2, r.position, r.name, r.weight, r.model_id, r.alias, r.model_version_id, r.prompt_version_id
       FROM unnest($3::int[], $4::text[], $5::int[], $6::uuid[], $7::text[], $8::uuid[], $9::uuid[])
            AS r(position, name, weight, model_id, alias, model_version_id, prompt_version_id)`,
    [made.id, projectId, routes.map((_, i) => i), routes.map((r) => r.name), routes.map((r) => r.weight), routes.map((r) => r.modelId),
      routes.map((r) => r.alias), routes.map((r) => r.modelVersionId), routes.map((r) => r.promptVersionId)],
  );
  await m.query(`UPDATE deployment SET revision = $2, updated_at = now() WHERE id = $1`, [deploymentId, revision]);
  await recordAudit(m, {
    projectId, actor: actor.name, action: 'deployment.setRoutes', targetType: 'Deployment', targetId: deployment.nodeId,
    before: { revision: deployment.revision, routes: before.map(described) },
    after: { revision, routes: routes.map(described), reason: input.reason ?? null },
  });
  await recordEvent(m, {
    projectId, type: RegistryEventType.DEPLOYMENT_ROUTES_CHANGED, actor: actor.name, subjectType: 'Deployment', subjectId: deploymentId,
  });
  return { deployment: await m.findOneByOrFail(Deployment, { id: deploymentId }), revision: made };
}

/**
 * The promotion guard on routes that stop following a protected alias (see setDeploymentRoutes).
 * The promotion module's own check decides, so a deployment admits exactly what a direct move
 * of the alias would. The caller holds the models of the old routes locked FOR SHARE.
 */
async function guardFollowedAliases(
  m: EntityManager,
  routes: (WantedRoute & { modelId: string })[],
  before: DeploymentRoute[],
  aliasNow: (modelId: string, alias: string) => AliasRow | null,
  version: (id: string) => VersionRow,
): Promise<void> {
  const old = new Map(before.map((r) => [r.name, r]));
  const check = async (i: number, r: WantedRoute & { modelId: string }, was: DeploymentRoute & { alias: string }) => {
    const policy = await policyFor(m, was.modelId, was.alias);
    if (!policy) return;
    const target = r.modelVersionId ? version(r.modelVersionId) : aliasNow(r.modelId, r.alias!)!;
    const reaches = { id: 'version_id' in target ? target.version_id : target.id, number: target.number };
    if (reaches.id === aliasNow(was.modelId, was.alias)?.version_id) return;
    try {
      await assertPolicyAdmits(m, policy, reaches);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      throw new AppError(err.extensions.code as 'FORBIDDEN' | 'CONFLICT',
        `Route "${r.name}" takes traffic that followed the protected alias "${was.alias}"; moving it to version ${reaches.number} is held to that alias's policy: ${err.message}`,
        { ...err.extensions, field: `routes.${i}`, alias: was.alias });
    }
  };
  const follows = (r: { modelId: string; alias?: string | null }) => `${r.modelId}\u0000${r.alias}`;
  // A route that keeps its name and stops following the protected alias.
  for (const [i, r] of routes.entries()) {
    const was = old.get(r.name);
    if (!was?.alias || (r.alias === was.alias && r.modelId === was.modelId)) continue;
    await check(i, r, was as DeploymentRoute & { alias: string });
  }
  // A protected alias that no route follows any more (its route renamed or dropped): its
  // traffic went to the new set, so every route that is new or changed is held to its policy.
  const followedNow = new Set(routes.filter((r) => r.alias).map(follows));
  const dropped = [...new Map(before.filter((w) => w.alias && !followedNow.has(follows(w))).map((w) => [follows(w), w])).values()];
  for (const was of dropped) {
    for (const [i, r] of routes.entries()) {
      const same = old.get(r.name);
      const unchanged = same && same.alias === (r.alias ?? null) && same.modelId === r.modelId
        && (r.alias ? true : same.modelVersionId === r.modelVersionId);
      if (!unchanged) await check(i, r, was as DeploymentRoute & { alias: string });
    }
  }
}
