import fc from 'fast-check';
import {
  GraphQLField, GraphQLInputType, GraphQLNamedType, GraphQLObjectType, GraphQLOutputType, GraphQLSchema, getNamedType,
  isEnumType, isInputObjectType, isInterfaceType, isLeafType, isListType, isNonNullType, isObjectType, isUnionType,
} from 'graphql';
import { getSchema } from '../src/app/schema';
import { TestServer, createModel, createProject, createVersion, startTestServer } from './support/harness';

/**
 * Property-based fuzzing from the schema: fast-check generates, for every root field, documents
 * with arguments of the declared types — hostile strings, edge numbers, forged ids and cursors,
 * odd JSON — passed as variables. Whatever arrives, the server must answer without a 5xx, with a
 * public error code, without a stack trace or SQL in the answer, and a refused mutation must
 * leave the database as it was.
 */
const PUBLIC_CODES = new Set(['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'TIMEOUT']);
const LEAKS = /\.ts:\d+|\bat [\w.<>]+ \(|\bSELECT\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|relation "|syntax error at or near|violates .* constraint|QueryFailedError/;

const HOSTILE = [
  '', ' ', 'a'.repeat(10_000), "'; DROP TABLE model; --", "' OR '1'='1", '" OR ""="', '\\', '%', '_', '${x}', '{{x}}',
  '__proto__', 'constructor', 'prototype', '../../etc/passwd', '<script>alert(1)</script>', '\u202e', '😀', 'NaN', 'Infinity',
  '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '-0', '1e400', 'null', 'undefined', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-13-45T99:99:99Z',
];

/** `hostile`: every string the generator makes is one of the known attack strings. */
interface Fixture { slug: string; ids: string[]; hostile?: boolean }

function stringArb(fx: Fixture): fc.Arbitrary<string> {
  if (fx.hostile) return fc.constantFrom(...HOSTILE);
  return fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...HOSTILE), fc.constantFrom(fx.slug, 'production', 'accuracy'));
}

/** A generator of values for an input type; `depth` bounds recursive inputs (ModelVersionFilter.or). */
function valueArb(type: GraphQLInputType, fx: Fixture, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueArb(type.ofType, fx, depth);
  const inner = (): fc.Arbitrary<unknown> => {
    if (isListType(type)) return depth <= 0 ? fc.constant([]) : fc.array(valueArb(type.ofType, fx, depth - 1), { maxLength: 4 });
    if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((v) => v.name));
    if (isInputObjectType(type)) {
      if (depth <= 0) return fc.constant({});
      const fields = Object.values(type.getFields());
      const shape = Object.fromEntries(fields.map((f) => [f.name, valueArb(f.type, fx, depth - 1)]));
      return fc.record(shape, { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) });
    }
    switch (getNamedType(type).name) {
      case 'String': return stringArb(fx);
      case 'ID': return fx.hostile ? stringArb(fx) : fc.oneof(fc.constantFrom(...fx.ids), stringArb(fx), fc.base64String({ maxLength: 60 }));
      case 'Int': return fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, -1, 1, 100, 101, 10_000, 2 ** 31 - 1));
      case 'SafeInt': return fc.oneof(fc.maxSafeInteger(), fc.constantFrom(2 ** 53, -(2 ** 53)));
      case 'Float': return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e308, -1e308, 5e-324));
      case 'Boolean': return fc.boolean();
      case 'DateTime': return fc.oneof(fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), stringArb(fx));
      case 'JSON': return fc.jsonValue({ maxDepth: 3 });
      case 'JSONObject': return fc.oneof(fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor')), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }), fc.jsonValue({ maxDepth: 2 }));
      default: return stringArb(fx);
    }
  };
  return fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: inner() });
}

/** A small selection of the field's result: scalars without required arguments, one level down. */
function selection(type: GraphQLOutputType, depth = 1): string {
  const named = getNamedType(type) as GraphQLNamedType;
  if (isLeafType(named)) return '';
  if (isUnionType(named)) return '{ __typename }';
  const fields = (isObjectType(named) || isInterfaceType(named)) ? Object.values((named as GraphQLObjectType).getFields()) : [];
  const parts = ['__typename'];
  for (const f of fields) {
    if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    const leaf = isLeafType(getNamedType(f.type));
    if (leaf) parts.push(f.name);
    else if (depth > 0 && parts.length < 12) parts.push(`${f.name} ${selection(f.type, depth - 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

function operationArb(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, fx: Fixture) {
  const argArbs = Object.fromEntries(field.args.map((a) => [a.name, valueArb(a.type, fx, 3)]));
  const required = field.args.filter((a) => isNonNullType(a.type)).map((a) => a.name);
  return fc.record(argArbs, { requiredKeys: required }).map((vars) => {
    const given = Object.keys(vars);
    const defs = given.map((n) => `$${n}: ${field.args.find((a) => a.name === n)!.type}`).join(', ');
    const args = given.map((n) => `${n}: $${n}`).join(', ');
    const query = `${kind}${defs ? `(${defs})` : ''} { ${field.name}${args ? `(${args})` : ''} ${selection(field.type)} }`;
    return { query, variables: vars as Record<string, unknown> };
  });
}

let t: TestServer;
let schema: GraphQLSchema;
let fx: Fixture;
let projectId: string;

beforeAll(async () => {
  // Thousands of requests from one key: the rate limit (tested on its own) would cut the run short.
  t = await startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0' });
  schema = await getSchema();
  const p = await createProject(t, 'fuzz');
  projectId = Buffer.from(p.id, 'base64url').toString().split(':')[1];
  const model = await createModel(t, p.slug);
  const v = await createVersion(t, model.id);
  fx = { slug: p.slug, ids: [p.id, model.id, v.id] };
});
afterAll(() => t?.stop());

const auditCount = async () => (await t.server.db.query(`SELECT count(*)::int AS n FROM audit_event WHERE project_id = $1`, [projectId]))[0].n as number;

function checkAnswer(res: { status: number; errors?: { message: string; extensions: { code: string } }[] }, op: { query: string }) {
  if (res.status >= 500) throw new Error(`HTTP ${res.status} for ${op.query}`);
  for (const e of res.errors ?? []) {
    if (!PUBLIC_CODES.has(e.extensions?.code)) throw new Error(`code ${e.extensions?.code} (${e.message}) for ${op.query}`);
    if (LEAKS.test(e.message)) throw new Error(`leaky message "${e.message}" for ${op.query}`);
  }
}

let runs = 0;
const fields = (kind: 'query' | 'mutation') => () => Object.values((kind === 'query' ? schema.getQueryType() : schema.getMutationType())!.getFields());

test.each([['generated', false], ['attack-string', true]])('every query field, with %s arguments, answers without a 5xx, an unknown code or a leak', async (_, hostile) => {
  for (const field of fields('query')()) {
    await fc.assert(fc.asyncProperty(operationArb('query', field, { ...fx, hostile }), async (op) => {
      runs++;
      checkAnswer(await t.gql(op.query, op.variables), op);
    }), { numRuns: 25, seed: 20261202 });
  }
});

test.each([['generated', false], ['attack-string', true]])('every mutation, with %s arguments: a refused one changes nothing', async (_, hostile) => {
  for (const field of fields('mutation')()) {
    await fc.assert(fc.asyncProperty(operationArb('mutation', field, { ...fx, hostile }), async (op) => {
      runs++;
      const before = await auditCount();
      const res = await t.gql(op.query, op.variables);
      checkAnswer(res, op);
      // Every mutation writes its audit record in its own transaction: a refused one leaves none.
      if (res.errors?.length && !(res.data as Record<string, unknown> | undefined)?.[field.name]) {
        expect({ op: op.query, audit: await auditCount() }).toEqual({ op: op.query, audit: before });
      }
    }), { numRuns: 15, seed: 20261202 });
  }
});

test('the suite ran what it claims', () => {
  // A run that generated nothing would pass vacuously; the count is the figure reported.
  expect(runs).toBeGreaterThan(1200);
  console.info(`fuzz: ${runs} generated operations`);
});
