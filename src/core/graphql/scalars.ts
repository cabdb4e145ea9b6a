import { DateTimeResolver, JSONObjectResolver, JSONResolver, SafeIntResolver } from 'graphql-scalars';

/** The contract's scalars, taken from graphql-scalars rather than written again. */
export const DateTimeScalar = DateTimeResolver;
export const JSONScalar = JSONResolver;
export const JSONObjectScalar = JSONObjectResolver;
export const SafeIntScalar = SafeIntResolver;
