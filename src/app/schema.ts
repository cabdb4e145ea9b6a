import 'reflect-metadata';
import { GraphQLSchema, isAbstractType } from 'graphql';
import { buildSchema, type BuildSchemaOptions } from 'type-graphql';
import { NodeResolver } from '../core/graphql/node.resolver';
import { resolveNodeType } from '../core/graphql/ids';
import { enforcePermissions } from '../core/auth/permission';
import { enforceSizedArgs } from '../core/graphql/sized-args';
import { usePlainArgs } from '../core/graphql/plain-args';
import { DateTimeScalar } from '../core/graphql/scalars';
import { composeModules } from './modules';

/** Every resolver class: the kernel's `node`/`nodes`, then each module's, in the declared order. */
export const resolverClasses = () => [NodeResolver, ...composeModules().flatMap((m) => m.resolvers)];

/**
 * type-graphql wraps every resolveType in an async function; graphql-jit (our executor) needs
 * the type name synchronously, so the abstract types get their plain functions back.
 */
const syncResolveTypes = (): Record<string, (value: object) => string> =>
  Object.assign({ Node: resolveNodeType }, ...composeModules().map((m) => m.resolveTypes ?? {}));

/** class-validator's settings for every input (type-graphql's, and the @PlainArgs resolvers' own). */
const VALIDATE = { forbidUnknownValues: false };

let built: Promise<GraphQLSchema> | null = null;

/** Builds the schema once per process; type-graphql's metadata is global anyway. */
export function getSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: resolverClasses() as unknown as BuildSchemaOptions['resolvers'],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // class-validator on every input; failures reach formatError as BAD_USER_INPUT.
    validate: VALIDATE,
    emitSchemaFile: false,
    // Every subscription brings its own `subscribe` (streams read from the database, woken by
    // LISTEN); type-graphql still insists on a pub/sub for topic-based ones, of which there are none.
    pubSub: { publish: () => undefined, subscribe: () => { throw new Error('no topic-based subscriptions'); } },
  }).then((schema) => {
    const SYNC_RESOLVE_TYPE = syncResolveTypes();
    for (const type of Object.values(schema.getTypeMap())) {
      if (isAbstractType(type)) {
        const sync = SYNC_RESOLVE_TYPE[type.name];
        if (!sync) throw new Error(`abstract type ${type.name} needs a synchronous resolveType in its module descriptor (resolveTypes)`);
        type.resolveType = sync;
      }
    }
    // type-graphql gives the root types no description; codegen users and the API reference read them.
    schema.getQueryType()!.description = 'Reads: start from `viewer`, a project by slug, or any object by id (`node`, `nodes`). Every call needs `Authorization: Bearer <key>`.';
    schema.getMutationType()!.description = 'Writes: each runs in one transaction, together with its audit record; one that fails changes nothing.';
    schema.getSubscriptionType()!.description = 'Live streams over WebSocket (graphql-ws protocol, same path): each event carries a `cursor`; pass it as `since` to resume with nothing missed and nothing twice.';
    // The bulk writers' resolvers take their items plain; before the wrappers below capture them.
    usePlainArgs(schema, VALIDATE);
    // Every root field's @Allow now runs before its resolver (or its subscribe).
    enforcePermissions(schema);
    // Outside the permission: repeats are gone and sizes checked before the permission loads anything.
    enforceSizedArgs(schema);
    return schema;
  });
  return built;
}
