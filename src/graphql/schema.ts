import 'reflect-metadata';
import { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ApiKeyResolver, ViewerResolver } from '../modules/auth/auth.resolver';
import { AliasEventResolver, ModelAliasResolver } from '../modules/model/alias.resolver';
import { ModelVersionResolver } from '../modules/model/model-version.resolver';
import { ModelResolver } from '../modules/model/model.resolver';
import { ProjectResolver } from '../modules/project/project.resolver';
import { NodeResolver } from './node.resolver';
import { DateTimeScalar } from './scalars';

export const RESOLVERS = [
  NodeResolver, ProjectResolver, ViewerResolver, ApiKeyResolver,
  ModelResolver, ModelVersionResolver, ModelAliasResolver, AliasEventResolver,
] as const;

let built: Promise<GraphQLSchema> | null = null;

/** Builds the schema once per process; type-graphql's metadata is global anyway. */
export function getSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // class-validator on every input; failures reach formatError as BAD_USER_INPUT.
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
  });
  return built;
}
