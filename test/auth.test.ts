import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { GqlResponse, TestServer, createProject, startTestServer, testDatabaseUrl, unique } from './support/harness';

type Role = 'VIEWER' | 'EDITOR' | 'ADMIN';
type Scope = 'A' | 'B' | 'global';

let t: TestServer;
let A: { id: string; slug: string };
let B: { id: string; slug: string };

beforeAll(async () => {
  t = await startTestServer();
  A = await createProject(t, 'auth-a');
  B = await createProject(t, 'auth-b');
});
afterAll(async () => { await t.stop(); });

const VIEWER_Q = `{ viewer { name role } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { id name role prefix createdAt lastUsedAt revokedAt project { slug } } }
}`;
const REVOKE_KEY = `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id revokedAt } } }`;
const API_KEYS = `query($slug: String) { apiKeys(projectSlug: $slug) { id name role prefix lastUsedAt revokedAt project { slug } } }`;
const PROJECT_Q = `query($slug: String!) { project(slug: $slug) { slug name } }`;
const MODEL_Q = `query($slug: String!, $name: String!) { project(slug: $slug) { model(name: $name) { id name } } }`;
const CREATE_MODEL = `mutation($slug: String!, $name: String!) {
  createModel(input: { projectSlug: $slug, name: $name, kind: INTERNAL }) { model { id name } }
}`;
const CREATE_PROJECT = `mutation($slug: String!) { createProject(input: { slug: $slug, name: $slug }) { project { id slug } } }`;

interface Key { id: string; name: string; secret: string; prefix: string }

/** A key made by the admin key, with everything a test needs to recognise it. */
async function makeKey(role: Role, projectSlug: string | null, by = t.adminKey): Promise<Key> {
  const name = unique(`auth-${role.toLowerCase()}`);
  const data = await t.ok(CREATE_KEY, { input: { name, role, projectSlug } }, by);
  const { secret, apiKey } = data.createApiKey;
  return { id: apiKey.id, name, secret, prefix: apiKey.prefix };
}

/** POSTs a query with exactly the headers given: for Authorization values gql() cannot send. */
async function postRaw(query: string, headers: Record<string, string>): Promise<GqlResponse> {
  const res = await fetch(t.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { ...((await res.json()) as GqlResponse), status: res.status };
}

const codeOf = (res: GqlResponse) => res.errors?.[0]?.extensions.code;

describe('without a usable key', () => {
  test('no key at all is UNAUTHENTICATED for queries and mutations, and changes nothing', async () => {
    const viewer = await t.gql(VIEWER_Q, {}, null);
    expect(codeOf(viewer)).toBe('UNAUTHENTICATED');
    expect(viewer.data ?? null).toBeNull();

    const read = await t.gql(PROJECT_Q, { slug: A.slug }, null);
    expect(codeOf(read)).toBe('UNAUTHENTICATED');
    expect(read.data?.project ?? null).toBeNull();

    const slug = unique('auth-anon');
    const write = await t.gql(CREATE_PROJECT, { slug }, null);
    expect(codeOf(write)).toBe('UNAUTHENTICATED');
    expect((await t.ok(PROJECT_Q, { slug })).project).toBeNull();
  });

  test.each([
    ['a scheme other than Bearer', (s: string) => `Basic ${s}`],
    ['the secret without a scheme', (s: string) => s],
    ['Bearer without a secret', () => 'Bearer'],
    ['two tokens after Bearer', (s: string) => `Bearer ${s} ${s}`],
  ])('a malformed Authorization header (%s) is UNAUTHENTICATED', async (_label, header) => {
    // A valid secret inside a malformed header must not authenticate either.
    const res = await postRaw(VIEWER_Q, { authorization: header(t.adminKey) });
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
    expect(res.data ?? null).toBeNull();
  });

  test('an unknown key is UNAUTHENTICATED', async () => {
    for (const secret of [`mg_${randomBytes(32).toString('base64url')}`, 'not-a-key', t.adminKey.slice(0, -1)]) {
      const res = await t.gql(VIEWER_Q, {}, secret);
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
      expect(res.data ?? null).toBeNull();
    }
  });

  test('a revoked key is UNAUTHENTICATED from the next request on', async () => {
    const key = await makeKey('ADMIN', A.slug);
    expect((await t.ok(VIEWER_Q, {}, key.secret)).viewer).toEqual({ name: key.name, role: 'ADMIN' });

    const revoked = await t.ok(REVOKE_KEY, { id: key.id });
    expect(revoked.revokeApiKey.apiKey.id).toBe(key.id);
    expect(revoked.revokeApiKey.apiKey.revokedAt).toEqual(expect.any(String));

    const viewer = await t.gql(VIEWER_Q, {}, key.secret);
    expect(codeOf(viewer)).toBe('UNAUTHENTICATED');
    const write = await t.gql(CREATE_MODEL, { slug: A.slug, name: unique('m') }, key.secret);
    expect(codeOf(write)).toBe('UNAUTHENTICATED');
    const listed = (await t.ok(API_KEYS, { slug: A.slug })).apiKeys.find((k: Key) => k.id === key.id);
    expect(listed.revokedAt).toEqual(revoked.revokeApiKey.apiKey.revokedAt);
  });

  test('a key revoked through one server stops working on another server of the same database', async () => {
    const other = await startTestServer();
    try {
      const key = await makeKey('EDITOR', A.slug);
      // Both servers have now authenticated (and cached) the key.
      expect((await other.ok(VIEWER_Q, {}, key.secret)).viewer.name).toBe(key.name);
      expect((await t.ok(VIEWER_Q, {}, key.secret)).viewer.name).toBe(key.name);
      await t.ok(REVOKE_KEY, { id: key.id });
      expect(codeOf(await t.gql(VIEWER_Q, {}, key.secret))).toBe('UNAUTHENTICATED');
      // The other server hears of it through NOTIFY, delivered after the commit: bounded wait.
      let code: string | undefined;
      for (let i = 0; i < 100 && code !== 'UNAUTHENTICATED'; i++) {
        code = codeOf(await other.gql(VIEWER_Q, {}, key.secret));
        if (code !== 'UNAUTHENTICATED') await new Promise((r) => setTimeout(r, 50));
      }
      expect(code).toBe('UNAUTHENTICATED');
    } finally {
      await other.stop();
    }
  });
});

const SCOPE_LABEL: Record<Scope, string> = { A: 'project A', B: 'project B', global: 'every project' };

describe.each(
  (['VIEWER', 'EDITOR', 'ADMIN'] as Role[]).flatMap((role) =>
    (['A', 'B', 'global'] as Scope[]).map((scope) => ({ role, scope, label: SCOPE_LABEL[scope] }))),
)('a $role key of $label', ({ role, scope }) => {
  let key: Key;
  const inA = scope !== 'B';
  const canRead = inA;
  const canWrite = inA && role !== 'VIEWER';
  const canManageKeys = inA && role === 'ADMIN';
  const canCreateProject = scope === 'global' && role !== 'VIEWER';
  const canCreateGlobalKey = scope === 'global' && role === 'ADMIN';
  // Project A does not exist for a key of B: it gets what a missing project answers. Too low a
  // role where the key is valid is FORBIDDEN.
  const refusedInA = scope === 'B' ? 'NOT_FOUND' : 'FORBIDDEN';

  beforeAll(async () => {
    key = await makeKey(role, scope === 'global' ? null : scope === 'A' ? A.slug : B.slug);
  });

  test(`reads project A: ${canRead ? 'yes' : 'null, as for a missing slug'}`, async () => {
    const res = await t.gql(PROJECT_Q, { slug: A.slug }, key.secret);
    if (canRead) {
      expect(res.errors).toBeUndefined();
      expect(res.data.project).toEqual({ slug: A.slug, name: A.slug });
    } else {
      expect(res.errors).toBeUndefined();
      expect(res.data.project).toBeNull();
      expect(await t.gql(PROJECT_Q, { slug: unique('auth-none') }, key.secret)).toEqual(res);
    }
  });

  test(`creates a model in project A: ${canWrite ? 'yes' : `${refusedInA}, and no model`}`, async () => {
    const name = unique('m');
    const res = await t.gql(CREATE_MODEL, { slug: A.slug, name }, key.secret);
    const stored = (await t.ok(MODEL_Q, { slug: A.slug, name })).project.model;
    if (canWrite) {
      expect(res.errors).toBeUndefined();
      expect(res.data.createModel.model.name).toBe(name);
      expect(stored).toEqual(res.data.createModel.model);
    } else {
      expect(codeOf(res)).toBe(refusedInA);
      expect(res.data ?? null).toBeNull();
      expect(stored).toBeNull();
    }
  });

  test(`manages the keys of project A: ${canManageKeys ? 'yes' : `${refusedInA}, and no key`}`, async () => {
    const name = unique('made-by');
    const created = await t.gql(CREATE_KEY, { input: { name, role: 'VIEWER', projectSlug: A.slug } }, key.secret);
    const listed = await t.gql(API_KEYS, { slug: A.slug }, key.secret);
    const asAdmin = (await t.ok(API_KEYS, { slug: A.slug })).apiKeys.filter((k: Key) => k.name === name);
    if (canManageKeys) {
      expect(created.errors).toBeUndefined();
      expect(created.data.createApiKey.apiKey).toMatchObject({ name, role: 'VIEWER', project: { slug: A.slug } });
      expect(listed.errors).toBeUndefined();
      expect(listed.data.apiKeys.map((k: Key) => k.name)).toContain(name);
      expect(asAdmin).toHaveLength(1);
    } else {
      expect(codeOf(created)).toBe(refusedInA);
      expect(created.data ?? null).toBeNull();
      expect(codeOf(listed)).toBe(refusedInA);
      expect(asAdmin).toHaveLength(0);
    }
  });

  test(`creates a project: ${canCreateProject ? 'yes' : 'FORBIDDEN, and no project'}`, async () => {
    const slug = unique('auth-new');
    const res = await t.gql(CREATE_PROJECT, { slug }, key.secret);
    const stored = (await t.ok(PROJECT_Q, { slug })).project;
    if (canCreateProject) {
      expect(res.errors).toBeUndefined();
      expect(res.data.createProject.project.slug).toBe(slug);
      expect(stored).toEqual({ slug, name: slug });
    } else {
      expect(codeOf(res)).toBe('FORBIDDEN');
      expect(res.data ?? null).toBeNull();
      expect(stored).toBeNull();
    }
  });

  test(`creates a key of every project: ${canCreateGlobalKey ? 'yes' : 'FORBIDDEN, and no key'}`, async () => {
    const name = unique('global-by');
    const res = await t.gql(CREATE_KEY, { input: { name, role: 'VIEWER' } }, key.secret);
    const [{ n }] = await t.server.db.query(`SELECT count(*)::int AS n FROM api_key WHERE name = $1`, [name]);
    if (canCreateGlobalKey) {
      expect(res.errors).toBeUndefined();
      expect(res.data.createApiKey.apiKey).toMatchObject({ name, role: 'VIEWER', project: null });
      expect(n).toBe(1);
    } else {
      expect(codeOf(res)).toBe('FORBIDDEN');
      expect(res.data ?? null).toBeNull();
      expect(n).toBe(0);
    }
  });
});

describe('API keys', () => {
  test('the secret is returned once, works as a bearer, and is never listed', async () => {
    const name = unique('shown-once');
    const data = await t.ok(CREATE_KEY, { input: { name, role: 'EDITOR', projectSlug: A.slug } });
    const { secret, apiKey } = data.createApiKey;
    expect(secret).toEqual(expect.any(String));
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(apiKey).toMatchObject({ name, role: 'EDITOR', project: { slug: A.slug }, lastUsedAt: null, revokedAt: null });
    // The prefix is the secret's beginning: enough to recognise it, far too little to use it.
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    expect(apiKey.prefix.length).toBeGreaterThanOrEqual(4);
    expect(apiKey.prefix.length).toBeLessThan(secret.length / 2);

    expect((await t.ok(VIEWER_Q, {}, secret)).viewer).toEqual({ name, role: 'EDITOR' });
    // Using a key stamps lastUsedAt.
    const listed = await t.gql(API_KEYS, { slug: A.slug });
    const mine = listed.data.apiKeys.find((k: Key) => k.id === apiKey.id);
    expect(mine).toMatchObject({ name, prefix: apiKey.prefix, revokedAt: null });
    expect(mine.lastUsedAt).toEqual(expect.any(String));
    // Booleans, so that a failure does not print the secret.
    expect(JSON.stringify(listed).includes(secret)).toBe(false);
    expect(JSON.stringify(await t.gql(API_KEYS, {})).includes(secret)).toBe(false);

    // Nothing in the schema can return a secret again.
    const type = await t.ok(`{ __type(name: "ApiKey") { fields { name } } }`);
    const fields = type.__type.fields.map((f: { name: string }) => f.name);
    expect(fields.filter((f: string) => /secret|hash/i.test(f))).toEqual([]);
    const asked = await t.gql(`{ apiKeys { id secret } }`);
    expect(codeOf(asked)).toBe('BAD_USER_INPUT');
  });

  test('a key cannot revoke a key of another project (NOT_FOUND), and that key keeps working', async () => {
    const target = await makeKey('VIEWER', A.slug);
    const adminOfB = await makeKey('ADMIN', B.slug);
    const res = await t.gql(REVOKE_KEY, { id: target.id }, adminOfB.secret);
    expect(codeOf(res)).toBe('NOT_FOUND');
    expect(res.data ?? null).toBeNull();
    expect((await t.ok(VIEWER_Q, {}, target.secret)).viewer.name).toBe(target.name);

    const editorOfA = await makeKey('EDITOR', A.slug);
    expect(codeOf(await t.gql(REVOKE_KEY, { id: target.id }, editorOfA.secret))).toBe('FORBIDDEN');
    expect((await t.ok(VIEWER_Q, {}, target.secret)).viewer.name).toBe(target.name);
  });

  test('a project ADMIN can revoke a key of its project', async () => {
    const target = await makeKey('EDITOR', A.slug);
    const adminOfA = await makeKey('ADMIN', A.slug);
    const res = await t.ok(REVOKE_KEY, { id: target.id }, adminOfA.secret);
    expect(res.revokeApiKey.apiKey.revokedAt).toEqual(expect.any(String));
    expect(codeOf(await t.gql(VIEWER_Q, {}, target.secret))).toBe('UNAUTHENTICATED');
  });

  test('viewer names the key; a scoped key sees only its project, a global key sees them all', async () => {
    const scoped = await makeKey('VIEWER', A.slug);
    const data = await t.ok(`{ viewer { name role projects { nodes { slug } pageInfo { hasNextPage } } } }`, {}, scoped.secret);
    expect(data.viewer).toEqual({ name: scoped.name, role: 'VIEWER', projects: { nodes: [{ slug: A.slug }], pageInfo: { hasNextPage: false } } });
    const top = await t.ok(`{ projects { nodes { slug } } }`, {}, scoped.secret);
    expect(top.projects.nodes).toEqual([{ slug: A.slug }]);

    const global = await makeKey('VIEWER', null);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await t.ok(
        `query($after: String) { viewer { role projects(first: 100, after: $after) { nodes { slug } pageInfo { hasNextPage endCursor } } } }`,
        { after }, global.secret,
      );
      seen.push(...page.viewer.projects.nodes.map((p: { slug: string }) => p.slug));
      if (!page.viewer.projects.pageInfo.hasNextPage) break;
      after = page.viewer.projects.pageInfo.endCursor;
    }
    expect(seen).toEqual(expect.arrayContaining([A.slug, B.slug]));
  });
});

describe('the first ADMIN key', () => {
  /** Runs `fn` against a database made for it (empty, so the server bootstraps), dropped after. */
  async function withEmptyDatabase(fn: (url: string) => Promise<void>): Promise<void> {
    const name = `modelgraph_auth_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(testDatabaseUrl());
      url.pathname = `/${name}`;
      await fn(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }

  test('without MODELGRAPH_ADMIN_KEY, a random one is written to <dataDir>/admin-key (0600) and authenticates as ADMIN', async () => {
    await withEmptyDatabase(async (url) => {
      // An empty value is unset (the harness sets one by default).
      const first = await startTestServer({ DATABASE_URL: url, MODELGRAPH_ADMIN_KEY: '' });
      try {
        const file = path.join(first.config.dataDir, 'admin-key');
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const secret = readFileSync(file, 'utf8').trim();
        expect(secret.length).toBeGreaterThanOrEqual(32);
        // Announced once, with the file (compared, never printed: a failing match would echo the secret).
        expect(first.announced.length).toBe(1);
        expect(first.announced[0].secret === secret).toBe(true);
        expect(first.announced[0].file).toBe(file);
        expect((await first.ok(VIEWER_Q, {}, secret)).viewer).toEqual({ name: 'admin', role: 'ADMIN' });
        // ADMIN of every project: it may list every key, which only such a key can.
        const keys = await first.ok(`{ apiKeys { name role project { id } } }`, {}, secret);
        expect(keys.apiKeys).toContainEqual({ name: 'admin', role: 'ADMIN', project: null });
      } finally {
        await first.stop();
      }
      // A later start finds keys and creates no other.
      const again = await startTestServer({ DATABASE_URL: url, MODELGRAPH_ADMIN_KEY: '' });
      try {
        expect(existsSync(path.join(again.config.dataDir, 'admin-key'))).toBe(false);
        expect(again.announced).toEqual([]);
        const [{ n }] = await again.server.db.query(`SELECT count(*)::int AS n FROM api_key WHERE created_by = 'bootstrap'`);
        expect(n).toBe(1);
      } finally {
        await again.stop();
      }
    });
  });

  test('with MODELGRAPH_ADMIN_KEY, that secret authenticates as ADMIN and no file is written', async () => {
    await withEmptyDatabase(async (url) => {
      const secret = `mg_${randomBytes(24).toString('base64url')}`;
      const s = await startTestServer({ DATABASE_URL: url, MODELGRAPH_ADMIN_KEY: secret });
      try {
        expect((await s.ok(VIEWER_Q, {}, secret)).viewer).toEqual({ name: 'admin', role: 'ADMIN' });
        expect(existsSync(path.join(s.config.dataDir, 'admin-key'))).toBe(false);
        expect(s.announced).toEqual([]);
        const slug = unique('bootstrapped');
        expect((await s.ok(CREATE_PROJECT, { slug }, secret)).createProject.project.slug).toBe(slug);
      } finally {
        await s.stop();
      }
    });
  });
});
