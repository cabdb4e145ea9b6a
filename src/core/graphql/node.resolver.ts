import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { requireAuth, requireGlobalRole, requireProjectRole } from '../auth/access';
import { Role } from '../auth/role';
import type { Context } from './context';
import { badInput } from './errors';
import { nodeTypeSpec, parseGlobalId } from './ids';
import { Node } from './node';

/**
 * Loads any node by global id through its registered spec, then checks the caller may see it:
 * a node of a project needs the spec's read role there (VIEWER unless it says otherwise); a
 * node of no project (a global key, its audit records) belongs to the global admins.
 */
async function loadNode(ctx: Context, id: string): Promise<Node | null> {
  requireAuth(ctx);
  const { type, key } = parseGlobalId(id);
  const spec = nodeTypeSpec(type);
  const row = await spec.load(ctx.loaders, key);
  if (!row) return null;
  const projectId = await spec.projectOf(row, ctx.loaders);
  if (projectId === null) requireGlobalRole(ctx, Role.ADMIN);
  else requireProjectRole(ctx, projectId, spec.readRole ?? Role.VIEWER);
  return row as Node;
}

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Any object by global id; null when it does not exist.' })
  node(@Arg('id', () => ID, { description: 'A global id, as any object\'s `id` field gives it.' }) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    return loadNode(ctx, id);
  }

  @Query(() => [Node], { nullable: 'items', description: 'Several objects by global id, in the order asked (at most 100).' })
  nodes(@Arg('ids', () => [ID], { description: 'Global ids, at most 100; a bad one fails only its own entry.' }) ids: string[], @Ctx() ctx: Context): Promise<(Node | null)[]> {
    if (ids.length > 100) throw badInput('ids takes at most 100 ids', 'ids');
    // One bad id fails only its own entry: the rest still resolve, batched.
    return Promise.all(ids.map((id) => loadNode(ctx, id).catch((e: Error) => e as never)));
  }
}
