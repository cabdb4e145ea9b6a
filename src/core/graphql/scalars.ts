import { GraphQLError, GraphQLScalarType, GraphQLSchema, ValueNode } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver, SafeIntResolver } from 'graphql-scalars';

/**
 * Years PostgreSQL's timestamptz and JavaScript's Date both hold without surprises. Year 0000
 * parses in JavaScript but is out of PostgreSQL's range, which would fail inside a statement
 * as an internal error; it is refused at the edge instead.
 */
const MIN_YEAR = 1;
const MAX_YEAR = 9999;

function inRange(date: Date): Date {
  const year = date.getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new GraphQLError(`DateTime must be within the years ${MIN_YEAR} to ${MAX_YEAR}, got ${date.toISOString()}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return date;
}

/** The contract's scalars, taken from graphql-scalars rather than written again. DateTime adds the range check. */
export const DateTimeScalar = new GraphQLScalarType<Date | null, unknown>({
  ...DateTimeResolver.toConfig(),
  parseValue: (value: unknown) => inRange(DateTimeResolver.parseValue(value) as Date),
  parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) => inRange(DateTimeResolver.parseLiteral(ast, variables) as Date),
});
export const JSONScalar = JSONResolver;
export const JSONObjectScalar = JSONObjectResolver;
export const SafeIntScalar = SafeIntResolver;

/**
 * Bounds every JSON and JSONObject input value to `maxBytes` of JSON text. The scalars come from
 * graphql-scalars and are used by many inputs (configs, signatures, labels, metadata); bounding
 * them here covers every argument at once, where a size check per field would be forgotten.
 */
export function boundJsonScalars(schema: GraphQLSchema, maxBytes: number): void {
  for (const name of ['JSON', 'JSONObject']) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLScalarType)) continue;
    const state = type as GraphQLScalarType & { __mgBound?: { maxBytes: number } };
    if (state.__mgBound) { state.__mgBound.maxBytes = maxBytes; continue; }
    const bound = { maxBytes };
    state.__mgBound = bound;
    const check = (value: unknown) => {
      const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
      if (bytes > bound.maxBytes) {
        throw new GraphQLError(`A ${name} value may hold at most ${bound.maxBytes} bytes of JSON (limit maxJsonBytes), this one has ${bytes}`, {
          extensions: { code: 'BAD_USER_INPUT', limit: 'maxJsonBytes', max: bound.maxBytes },
        });
      }
      return value;
    };
    const parseValue = type.parseValue.bind(type);
    const parseLiteral = type.parseLiteral.bind(type);
    type.parseValue = (value: unknown) => check(parseValue(value));
    type.parseLiteral = (ast: ValueNode, variables?: Record<string, unknown> | null) => check(parseLiteral(ast, variables));
  }
}
