import { GraphQLError, GraphQLScalarType, ValueNode } from 'graphql';
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
