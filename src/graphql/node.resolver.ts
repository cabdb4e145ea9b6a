import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { canSeeProject, requireAuth, requireProjectRole } from '../modules/auth/access';
import { Role } from '../modules/auth/role';
import type { Context } from './context';
import { AppError, badInput } from './errors';
import { parseGlobalId } from './ids';
import { Node } from './node';

/** Loads any node by global id, then checks the caller may see the project it belongs to. */
async function loadNode(ctx: Context, id: string): Promise<Node | null> {
  const p = requireAuth(ctx);
  const { type, key } = parseGlobalId(id);
  const l = ctx.loaders;
  let node: (Node & { projectId?: string | null }) | null;
  let projectId: string | null | undefined;
  switch (type) {
    case 'Project': node = await l.projectById.load(key); projectId = node ? key : undefined; break;
    case 'Model': node = await l.modelById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'ModelVersion': node = await l.modelVersionById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'Dataset': node = await l.datasetById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'DatasetVersion': node = await l.datasetVersionById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'AuditEvent': node = await l.auditEventById.load(key); projectId = node?.projectId; break;
    case 'MetricSeries': node = await l.metricSeriesById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'Monitor': node = await l.monitorById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'Alert': node = await l.alertById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'FeatureSet': node = await l.featureSetById.load(key); projectId = node ? (node as { projectId: string }).projectId : undefined; break;
    case 'Evaluation': node = await l.evaluationById.load(key); projectId = (node as { projectId?: string })?.projectId; break;
    case 'EvalSample': {
      const s = await l.evalSampleById.load(key);
      node = s;
      projectId = s ? (await l.evaluationById.load(s.evaluationId))?.projectId : undefined;
      break;
    }
    case 'PromotionRequest': {
      const r = await l.promotionRequestById.load(key);
      node = r;
      projectId = r ? (await l.modelById.load(r.modelId))?.projectId : undefined;
      break;
    }
    case 'AliasEvent': {
      const e = await l.aliasEventById.load(key);
      node = e;
      projectId = e ? (await l.modelById.load(e.modelId))?.projectId : undefined;
      break;
    }
    case 'ApiKey': {
      const k = await l.apiKeyById.load(key);
      if (!k) return null;
      // Keys are visible to the admins who could manage them, as in `apiKeys`.
      if (k.projectId) requireProjectRole(ctx, k.projectId, Role.ADMIN);
      else if (p.projectId || p.role !== Role.ADMIN) throw new AppError('FORBIDDEN', 'Only an ADMIN of every project can read this key');
      return k;
    }
  }
  if (!node) return null;
  // Project-less audit events (key management) belong to the global admins.
  if (projectId === null && (p.projectId || p.role !== Role.ADMIN)) throw new AppError('FORBIDDEN', 'Not visible to this API key');
  if (projectId && !canSeeProject(p, projectId)) throw new AppError('FORBIDDEN', 'This API key is not valid for that project');
  return node;
}

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Any object by global id; null when it does not exist.' })
  node(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    return loadNode(ctx, id);
  }

  @Query(() => [Node], { nullable: 'items', description: 'Several objects by global id, in the order asked (at most 100).' })
  nodes(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: Context): Promise<(Node | null)[]> {
    if (ids.length > 100) throw badInput('ids takes at most 100 ids', 'ids');
    // One bad id fails only its own entry: the rest still resolve, batched.
    return Promise.all(ids.map((id) => loadNode(ctx, id).catch((e: Error) => e as never)));
  }
}
