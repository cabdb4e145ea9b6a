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

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digits = (s: string, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
};

/**
 * The Date of a string in the canonical form `YYYY-MM-DDTHH:MM:SS.sssZ` (what toISOString
 * writes, and what metric writers send 10,000 at a time), or null for any other string. It
 * accepts only what graphql-scalars' DateTime accepts with the same result, so null means
 * "ask graphql-scalars", which then accepts or refuses exactly as before: a year below 100
 * (Date.UTC would read it as 19xx), second 60, or a day the month lacks all go that way. The
 * general path runs three regular expressions, Date.parse and substrings for every value.
 */
export function parseCanonicalDateTime(s: string): Date | null {
  if (s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return null;
  const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2), ms = digits(s, 20, 3);
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0) return null;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > (mo === 2 && leap ? 29 : DAYS[mo - 1])) return null;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, sec, ms));
}

/** The contract's scalars, taken from graphql-scalars rather than written again. DateTime adds the range check. */
export const DateTimeScalar = new GraphQLScalarType<Date | null, unknown>({
  ...DateTimeResolver.toConfig(),
  parseValue: (value: unknown) =>
    (typeof value === 'string' ? parseCanonicalDateTime(value) : null) ?? inRange(DateTimeResolver.parseValue(value) as Date),
  parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) => inRange(DateTimeResolver.parseLiteral(ast, variables) as Date),
});
export const JSONScalar = JSONResolver;
export const JSONObjectScalar = JSONObjectResolver;
export const SafeIntScalar = SafeIntResolver;

/**
 * True when `value` is an object of strings, numbers, booleans and nulls whose JSON text cannot
 * exceed `maxBytes`, known without writing it: a JSON character takes at most 6 bytes (`\u001f`
 * for a control character; 3 for any other code unit in UTF-8). Metric labels, 10,000 of them
 * in a batch, are such objects; anything else is measured exactly.
 */
function flatWithin(value: unknown, maxBytes: number): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  let bound = 2;
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === 'string') bound += 6 * v.length + 2;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) bound += 25;
    else return false;
    bound += 6 * k.length + 4;
    if (bound > maxBytes) return false;
  }
  return true;
}

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
      if (flatWithin(value, bound.maxBytes)) return value;
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
