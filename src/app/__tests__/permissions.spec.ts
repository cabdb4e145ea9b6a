import 'reflect-metadata';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { GraphQLField, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema } from 'graphql';
import { getSchema } from '../schema';
import { permissionOf } from '../../core/auth/permission';
import type { Principal } from '../../core/auth/principal';
import { Role } from '../../core/auth/role';
import type { Context } from '../../core/graphql/context';
import { toGlobalId } from '../../core/graphql/ids';
import { Model } from '../../modules/model/model.entity';

const SRC = path.resolve(__dirname, '..', '..');
const PROJECT_A = '00000000-0000-4000-8000-00000000000a';
const PROJECT_B = '00000000-0000-4000-8000-00000000000b';

let schema: GraphQLSchema;
beforeAll(async () => { schema = await getSchema(); });

type RootField = { op: 'Query' | 'Mutation' | 'Subscription'; field: GraphQLField<unknown, Context> };
const rootFields = (): RootField[] => (['Query', 'Mutation', 'Subscription'] as const).flatMap((op) => {
  const type = schema.getType(op) as GraphQLObjectType | undefined;
  return Object.values(type?.getFields() ?? {}).map((field) => ({ op, field }));
});

/** Fails the test if the resolver body (or a stream) touches it: the permission must decide first. */
const untouchable = (what: string) => new Proxy({}, { get: (_t, prop) => { throw new Error(`${what}.${String(prop)} was touched`); } });

/** A context with a caller, whose loaders hold `models`; the database and event hub must stay untouched. */
function contextFor(principal: Principal | null, models: Model[] = []): Context {
  const byId = new Map(models.map((m) => [m.id, m]));
  return {
    requestId: 'test',
    principal,
    loaders: principal ? { modelById: { load: async (id: string) => byId.get(id) ?? null } } : untouchable('loaders'),
    db: untouchable('db'),
    events: untouchable('events'),
  } as unknown as Context;
}

const key = (role: Role, projectId: string | null): Principal => ({ keyId: 'k', name: 'k', role, projectId });
const model = (id: string, projectId: string) => Object.assign(new Model(), { id, projectId });

/** Runs a root field as graphql-js would: `subscribe` for a subscription, else `resolve`. */
function run(op: RootField['op'], name: string, args: Record<string, unknown>, ctx: Context): Promise<unknown> {
  const field = (schema.getType(op) as GraphQLObjectType).getFields()[name];
  const fn = op === 'Subscription' ? field.subscribe! : field.resolve!;
  return Promise.resolve().then(() => fn(undefined, args, ctx, {} as GraphQLResolveInfo));
}

async function codeOf(p: Promise<unknown>): Promise<{ code: unknown; [k: string]: unknown }> {
  try {
    await p;
  } catch (e) {
    return (e as { extensions: { code: unknown } }).extensions;
  }
  throw new Error('expected a refusal');
}

describe('every root field declares its permission', () => {
  test('no Query, Mutation or Subscription field lacks a declared permission', () => {
    const fields = rootFields();
    expect(fields.length).toBeGreaterThan(30);
    expect(fields.filter(({ field }) => !permissionOf(field)).map(({ op, field }) => `${op}.${field.name}`)).toEqual([]);
  });

  test('the declaration can be read from the built schema', () => {
    const declared = (op: string, name: string) => permissionOf((schema.getType(op) as GraphQLObjectType).getFields()[name])?.toJSON();
    expect(declared('Mutation', 'updateModel')).toEqual({ role: 'EDITOR', scopes: ['Model at input.id'] });
    expect(declared('Mutation', 'createProject')).toEqual({ role: 'EDITOR', scopes: ['every project'] });
    expect(declared('Query', 'viewer')).toEqual({ role: 'AUTHENTICATED', scopes: [] });
    expect(declared('Subscription', 'alerts')).toEqual({ role: 'VIEWER', scopes: ['Project at projectSlug'] });
    // Field resolvers on object types need none: their parent was authorized.
    expect(permissionOf((schema.getType('Project') as GraphQLObjectType).getFields().models)).toBeUndefined();
  });

  test.each(['Query', 'Mutation', 'Subscription'] as const)('every %s field refuses a caller without a key before it reads anything', async (op) => {
    const names = rootFields().filter((f) => f.op === op).map((f) => f.field.name);
    const codes = await Promise.all(names.map(async (name) => [name, (await codeOf(run(op, name, {}, contextFor(null)))).code]));
    expect(Object.fromEntries(codes)).toEqual(Object.fromEntries(names.map((n) => [n, 'UNAUTHENTICATED'])));
  });
});

describe('the declared permission is enforced before the resolver', () => {
  const inA = model('00000000-0000-4000-8000-000000000001', PROJECT_A);
  const inB = model('00000000-0000-4000-8000-000000000002', PROJECT_B);
  const idOf = (m: Model) => toGlobalId('Model', m.id);

  test('a key of another project gets NOT_FOUND as for a missing object, too low a role FORBIDDEN; the body never runs', async () => {
    const input = { id: idOf(inB), description: 'x' };
    const missing = toGlobalId('Model', '00000000-0000-4000-8000-0000000000ff');
    const admin = contextFor(key(Role.ADMIN, PROJECT_A), [inB]);
    const notYours = await codeOf(run('Mutation', 'updateModel', { input }, admin));
    const absent = await codeOf(run('Mutation', 'updateModel', { input: { ...input, id: missing } }, admin));
    expect(notYours).toEqual({ code: 'NOT_FOUND', id: input.id });
    expect(absent).toEqual({ code: 'NOT_FOUND', id: missing });
    const viewer = await codeOf(run('Mutation', 'updateModel', { input }, contextFor(key(Role.VIEWER, PROJECT_B), [inB])));
    expect(viewer.code).toBe('FORBIDDEN');
  });

  test('node(id) answers null for another project\'s node, as for a missing one, without running the body', async () => {
    const ctx = contextFor(key(Role.ADMIN, PROJECT_A), [inB]);
    (ctx as unknown as Record<string, unknown>).loaders = { modelById: { load: async (id: string) => (id === inB.id ? inB : null) } };
    expect(await run('Query', 'node', { id: idOf(inB) }, ctx)).toBeNull();
    const global = contextFor(key(Role.VIEWER, null), [inB]);
    expect(await run('Query', 'node', { id: idOf(inB) }, global)).toBe(inB);
  });

  test('a missing object is NOT_FOUND and a malformed id BAD_USER_INPUT naming the field', async () => {
    const admin = contextFor(key(Role.ADMIN, null));
    const missing = toGlobalId('Model', '00000000-0000-4000-8000-0000000000ff');
    expect(await codeOf(run('Mutation', 'createModelVersion', { input: { modelId: missing } }, admin))).toEqual({ code: 'NOT_FOUND', id: missing });
    expect(await codeOf(run('Mutation', 'createModelVersion', { input: { modelId: 'nope' } }, admin))).toEqual({ code: 'BAD_USER_INPUT', field: 'modelId' });
    expect(await codeOf(run('Query', 'compareModelVersions', { ids: [toGlobalId('ModelVersion', inA.id), 'nope'] }, admin))).toEqual({ code: 'BAD_USER_INPUT', field: 'ids.1' });
  });

  test('GLOBAL refuses a key scoped to one project, whatever its role', async () => {
    expect(await codeOf(run('Mutation', 'createProject', { input: { slug: 's', name: 's' } }, contextFor(key(Role.ADMIN, PROJECT_A)))))
      .toEqual({ code: 'FORBIDDEN' });
  });

  test('a subscription is refused at subscribe time, before any stream starts', async () => {
    const ctx = contextFor(key(Role.ADMIN, PROJECT_A));
    (ctx.loaders as unknown as Record<string, unknown>).projectBySlug = { load: async () => ({ id: PROJECT_B, slug: 'b' }) };
    expect(await codeOf(run('Subscription', 'registryEvents', { projectSlug: 'b' }, ctx))).toEqual({ code: 'NOT_FOUND', id: 'b' });
    const viewer = contextFor(key(Role.VIEWER, PROJECT_A));
    (viewer.loaders as unknown as Record<string, unknown>).projectBySlug = { load: async () => ({ id: PROJECT_A, slug: 'a' }) };
    expect(await codeOf(run('Mutation', 'createModel', { input: { projectSlug: 'a' } }, viewer))).toEqual({ code: 'FORBIDDEN' });
  });

  test('nodes decides each entry alone: another project\'s is null like a missing one, a bad id its own error', async () => {
    const ctx = contextFor(key(Role.VIEWER, PROJECT_A), [inA, inB]);
    const missing = toGlobalId('Model', '00000000-0000-4000-8000-0000000000ff');
    const result = (await run('Query', 'nodes', { ids: [idOf(inA), idOf(inB), 'nope', missing] }, ctx)) as unknown[];
    expect(result[0]).toBe(inA);
    expect(result[1]).toBeNull();
    expect(result[2]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
    expect(result[3]).toBeNull();
  });
});

describe('resolver files stay thin', () => {
  const resolverFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === '__tests__' ? [] : resolverFiles(p);
    return e.name.endsWith('.resolver.ts') ? [p] : [];
  });
  const files = resolverFiles(SRC).map((f) => ({ file: path.relative(SRC, f), text: readFileSync(f, 'utf8') }));
  const offending = (re: RegExp) => files.filter((f) => re.test(f.text)).map((f) => f.file);

  test('there are resolver files to check', () => {
    expect(files.length).toBeGreaterThan(15);
  });

  test('no resolver file calls the role checks by hand', () => {
    expect(offending(/\b(requireAuth|requireProjectRole|requireGlobalRole|loadModelFor)\b|core\/auth\/access/)).toEqual([]);
  });

  test('no resolver file holds SQL', () => {
    expect(offending(/\.query\(|createQueryBuilder|getRepository|\bSELECT\b|pageSpec\(/)).toEqual([]);
  });

  test('no resolver file imports another resolver file', () => {
    expect(offending(/from\s+['"][^'"]*\.resolver['"]/)).toEqual([]);
  });
});
