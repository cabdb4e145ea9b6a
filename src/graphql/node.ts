import { Field, ID, InterfaceType } from 'type-graphql';

/**
 * Every object with an id. Entities keep their database key in `id` and expose the opaque
 * global id through `nodeId`, which the schema calls `id`.
 */
/** Nodes are entity instances: the class name is the GraphQL type name. */
export const resolveNodeType = (value: object) => value.constructor.name;

@InterfaceType('Node', {
  description: 'An object with a global id that `node(id:)` resolves.',
  resolveType: resolveNodeType,
})
export abstract class Node {
  @Field(() => ID, { name: 'id', description: 'Opaque global id; the type is encoded in it.' })
  nodeId: string;
}
