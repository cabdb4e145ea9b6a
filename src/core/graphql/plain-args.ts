import { ArgumentValidationError, Extensions, getMetadataStorage } from 'type-graphql';
import { ValidationTypes, getMetadataStorage as validationMetadata, validateOrReject, type ValidatorOptions } from 'class-validator';
import type { GraphQLField, GraphQLFieldResolver, GraphQLObjectType, GraphQLSchema } from 'graphql';
import type { Context } from './context';

/**
 * Bulk inputs without type-graphql's instance conversion.
 *
 * Before a resolver runs, type-graphql turns every input object of its arguments into an
 * instance of its class, nested list items included. Per object it looks every field's type up
 * in its metadata by a linear search and allocates an instance: about 2 µs a point, 10 ms for a
 * 5,000-point `recordMetrics` batch, 14% of the server's CPU per ingested point in a profile of
 * the ingest benchmark (the JSON parse of the same body costs 5 ms). The library offers no way
 * to skip it, and nothing on these paths needs an instance: their services check the items in
 * one pass and name `points.<i>.<field>` themselves.
 *
 * `@PlainArgs()` declares that the resolver takes its arguments as graphql-js coerced them:
 * each argument's top-level object becomes an instance of its declared class and is validated
 * with class-validator as type-graphql would, while what it holds (the 10,000 points) stays
 * plain objects. `usePlainArgs` applies the declarations to the built schema. What it refuses at
 * build: a parameter other than `@Arg` and `@Ctx` (there is nothing else to hand over), a list
 * argument, an argument with validation settings of its own, and a top-level class with
 * `@ValidateNested` (their checks would silently stop running).
 */

const PLAIN_ARGS = 'plainArgs';

/** The resolver method a declaration names, as recorded in the field's extensions. */
class PlainArgsDeclaration {
  constructor(readonly owner: new () => object, readonly method: string) {}
}

/** Declares that a Query or Mutation resolver takes its arguments plain (see the file's comment). */
export function PlainArgs(): MethodDecorator {
  return (prototype, key, descriptor) => {
    const owner = (prototype as { constructor: new () => object }).constructor;
    Extensions({ [PLAIN_ARGS]: new PlainArgsDeclaration(owner, String(key)) })(prototype, key, descriptor);
  };
}

/** type-graphql's instance of an input class, made shallow: the class's own fields, as given. */
function shallowInstance(Target: new () => object, value: Record<string, unknown>): object {
  const instance = new Target() as Record<string, unknown>;
  // As type-graphql's conversion does: a field the caller left out is absent, not `undefined`.
  for (const key of Object.keys(instance)) if (instance[key] === undefined && !(key in value)) delete instance[key];
  return Object.assign(instance, value);
}

type Param = (args: Record<string, unknown>, ctx: Context) => unknown;

/**
 * Replaces the resolver of every field declared `@PlainArgs()` with a direct call of its
 * method. Runs on the built schema before the permission and size checks wrap the resolvers,
 * so those still run first. `options` are the schema's class-validator settings.
 */
export function usePlainArgs(schema: GraphQLSchema, options: ValidatorOptions): void {
  // type-graphql's own defaults for argument validation.
  const validatorOptions: ValidatorOptions = { skipMissingProperties: true, forbidUnknownValues: false, ...options };
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((t): t is GraphQLObjectType => !!t);
  for (const field of roots.flatMap((t) => Object.values(t.getFields())) as GraphQLField<unknown, Context>[]) {
    const declared = field.extensions?.[PLAIN_ARGS];
    if (!(declared instanceof PlainArgsDeclaration)) continue;
    const { owner, method } = declared;
    const where = `${owner.name}.${method}`;
    const params = getMetadataStorage().params
      .filter((p) => p.target === owner && p.methodName === method)
      .sort((a, b) => a.index - b.index);
    const takes: Param[] = params.map((p): Param => {
      if (p.kind === 'context' && !p.propertyName) return (_args, ctx) => ctx;
      if (p.kind !== 'arg') throw new Error(`${where}: @PlainArgs hands over only @Arg and @Ctx parameters, not ${p.kind}`);
      // A list of inputs would need an instance and a validation per item, as type-graphql makes them.
      if (p.typeOptions.array) throw new Error(`${where}: @PlainArgs takes input objects, not lists of them (${p.name})`);
      // The schema's settings are applied below; an argument's own would silently stop counting.
      if (p.validateSettings !== undefined || p.validateFn) throw new Error(`${where}: @PlainArgs applies the schema's validation, not ${p.name}'s own settings`);
      const Target = p.getType() as new () => object;
      const nested = validationMetadata().getTargetValidationMetadatas(Target, '', true, false)
        .filter((m) => m.type === ValidationTypes.NESTED_VALIDATION);
      if (nested.length) throw new Error(`${where}: @ValidateNested on ${Target.name}.${nested[0].propertyName} would not run on a plain argument`);
      const isClass = typeof Target === 'function' && Target.prototype !== undefined && getMetadataStorage().inputTypes.some((t) => t.target === Target);
      return async (args) => {
        const value = args[p.name];
        if (!isClass || value === null || value === undefined) return value;
        const instance = shallowInstance(Target, value as Record<string, unknown>);
        try {
          await validateOrReject(instance, validatorOptions);
        } catch (err) {
          throw new ArgumentValidationError(err as ConstructorParameters<typeof ArgumentValidationError>[0]);
        }
        return instance;
      };
    });
    const target = new owner() as Record<string, (...values: unknown[]) => unknown>;
    if (typeof target[method] !== 'function') throw new Error(`${where} is not a method`);
    const resolve: GraphQLFieldResolver<unknown, Context> = async (_source, args, ctx) =>
      target[method](...(await Promise.all(takes.map((take) => take(args, ctx)))));
    field.resolve = resolve;
  }
}
