import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { canSeeProject, requireAuth, requireProjectRole } from '../modules/auth/access';
import { Role } from '../modules/auth/role';
import type { Context } from './context';
import { AppError, badInput } from './errors';
import { NodeType, parseGlobalId } from './ids';
import type { Loaders } from './loaders';
import { Node } from './node';

type ProjectRow = Node & { projectId: string | null };

/** Node types whose row carries its project's id: one by-id loader each. */
const WITH_PROJECT: Partial<Record<NodeType, (l: Loaders) => { load(key: string): Promise<ProjectRow | null> }>> = {
  Model: (l) => l.modelById,
  ModelVersion: (l) => l.modelVersionById,
  Dataset: (l) => l.datasetById,
  DatasetVersion: (l) => l.datasetVersionById,
  AuditEvent: (l) => l.auditEventById,
  MetricSeries: (l) => l.metricSeriesById,
  Monitor: (l) => l.monitorById,
  Alert: (l) => l.alertById,
  FeatureSet: (l) => l.featureSetById,
  Evaluation: (l) => l.evaluationById,
};

/** Finds a node and the project it belongs to (null: it belongs to no project). */
async function find(l: Loaders, type: NodeType, key: string): Promise<{ node: Node; projectId: string | null } | null> {
  const direct = WITH_PROJECT[type];
  if (direct) {
    const row = await direct(l).load(key);
    return row && { node: row, projectId: row.projectId };
  }
  // The rest reach their project through a parent row.
  switch (type) {
    case 'Project': {
      const p = await l.projectById.load(key);
      return p && { node: p, projectId: p.id };
    }
    case 'EvalSample': {
      const s = await l.evalSampleById.load(key);
      const e = s && (await l.evaluationById.load(s.evaluationId));
      return s && e ? { node: s, projectId: e.projectId } : null;
    }
    case 'PromotionRequest': {
      const r = await l.promotionRequestById.load(key);
      const m = r && (await l.modelById.load(r.modelId));
      return r && m ? { node: r, projectId: m.projectId } : null;
    }
    case 'AliasEvent': {
      const e = await l.aliasEventById.load(key);
      const m = e && (await l.modelById.load(e.modelId));
      return e && m ? { node: e, projectId: m.projectId } : null;
    }
    case 'ApiKey': {
      const k = await l.apiKeyById.load(key);
      return k && { node: k, projectId: k.projectId };
    }
    default:
      throw new Error(`node type ${type} has no loader in node.resolver.ts`);
  }
}

/** Loads any node by global id, then checks the caller may see it. */
async function loadNode(ctx: Context, id: string): Promise<Node | null> {
  const p = requireAuth(ctx);
  const { type, key } = parseGlobalId(id);
  const found = await find(ctx.loaders, type, key);
  if (!found) return null;
  if (type === 'ApiKey') {
    // Keys are visible to the admins who could manage them, as in `apiKeys`.
    if (found.projectId) requireProjectRole(ctx, found.projectId, Role.ADMIN);
    else if (p.projectId || p.role !== Role.ADMIN) throw new AppError('FORBIDDEN', 'Only an ADMIN of every project can read this key');
    return found.node;
  }
  // Project-less audit events (key management) belong to the global admins.
  if (found.projectId === null && (p.projectId || p.role !== Role.ADMIN)) throw new AppError('FORBIDDEN', 'Not visible to this API key');
  if (found.projectId && !canSeeProject(p, found.projectId)) throw new AppError('FORBIDDEN', 'This API key is not valid for that project');
  return found.node;
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
