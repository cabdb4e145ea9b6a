import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Allow } from '../auth/permission';
import { eachNode, fromNode } from '../auth/locators';
import { Role } from '../auth/role';
import type { Context } from './context';
import { nodeTypeSpec, parseGlobalId } from './ids';
import { Node } from './node';
import { SizedArgs } from './sized-args';

const MAX_NODES = 100;

/**
 * Loads any node by global id through its registered spec. Who may see it is declared on the
 * fields: the node's own project, with the role its type asks for (see `fromNode`).
 */
async function loadNode(ctx: Context, id: string): Promise<Node | null> {
  const { type, key } = parseGlobalId(id);
  return (await nodeTypeSpec(type).load(ctx.loaders, key)) as Node | null;
}

@Resolver()
export class NodeResolver {
  @Allow(Role.VIEWER, fromNode('id'))
  @Query(() => Node, { nullable: true, description: 'Any object by global id; null when it does not exist.' })
  node(@Arg('id', () => ID, { description: 'A global id, as any object\'s `id` field gives it.' }) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    return loadNode(ctx, id);
  }

  @Allow(Role.VIEWER, eachNode('ids', { max: MAX_NODES, field: 'id' }))
  @SizedArgs({ ids: { max: MAX_NODES, duplicates: 'kept', sizes: [''] } })
  @Query(() => [Node], { nullable: 'items', description: `Several objects by global id, in the order asked (at most ${MAX_NODES}).` })
  nodes(
    @Arg('ids', () => [ID], { description: `Global ids, at most ${MAX_NODES}; a bad one fails only its own entry. Repeats are answered again, read once.` }) ids: string[],
    @Ctx() ctx: Context,
  ): Promise<(Node | null)[]> {
    // One bad id fails only its own entry: the rest still resolve, batched. Entries the key may
    // not read are replaced by their refusal before the list leaves the field.
    return Promise.all(ids.map((id) => loadNode(ctx, id).catch((e: Error) => e as never)));
  }
}
