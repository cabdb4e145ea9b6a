import { Field, ID, InterfaceType } from 'type-graphql';
import { resolveNodeType } from './ids';

/**
 * Every object with an id. Entities keep their database key in `id` and expose the opaque
 * global id through `nodeId`, which the schema calls `id`. The concrete type comes from the
 * node registry, which each module fills with its entity classes.
 */
@InterfaceType('Node', {
  description: 'An object with a global id that `node(id:)` resolves.',
  resolveType: resolveNodeType,
})
export abstract class Node {
  @Field(() => ID, { name: 'id', description: 'Opaque global id; the type is encoded in it.' })
  nodeId: string;
}
