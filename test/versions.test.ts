import { TestServer, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const CREATE = `mutation($input: CreateModelVersionInput!) {
  createModelVersion(input: $input) { modelVersion { id number status createdBy source { __typename } } }
}`;

test('50 concurrent registrations on one model get exactly 1..50', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => t.gql(CREATE, { input: { modelId: model.id, artifact: { uri: `s3://m/${i}` } } })),
  );
  for (const r of results) expect(r.errors).toBeUndefined();
  const numbers = results.map((r) => r.data.createModelVersion.modelVersion.number).sort((a, b) => a - b);
  expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  const data = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { latestVersion { number } versions(first: 100) { nodes { number } } } } }`, { id: model.id });
  expect(data.node.latestVersion.number).toBe(50);
  expect(data.node.versions.nodes.map((v: { number: number }) => v.number)).toEqual(Array.from({ length: 50 }, (_, i) => 50 - i));
});

test('a retry with the same idempotencyKey returns the first version, even when concurrent', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  const input = { modelId: model.id, artifact: { uri: 's3://m/a' }, idempotencyKey: unique('key') };
  const [a, b] = await Promise.all([t.ok(CREATE, { input }), t.ok(CREATE, { input })]);
  const c = await t.ok(CREATE, { input });
  expect(a.createModelVersion.modelVersion.id).toBe(b.createModelVersion.modelVersion.id);
  expect(c.createModelVersion.modelVersion).toEqual(a.createModelVersion.modelVersion);
  const next = await t.ok(CREATE, { input: { ...input, idempotencyKey: unique('key') } });
  expect(next.createModelVersion.modelVersion.number).toBe(2);
});

test('a failed registration leaves no gap in the numbering', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  await createVersion(t, model.id);
  const bad = await t.gql(CREATE, { input: { modelId: model.id, artifact: { uri: 's3://x' }, externalApi: { provider: 'openai', modelId: 'gpt' } } });
  expect(bad.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  const missingBase = await t.gql(CREATE, {
    input: { modelId: model.id, artifact: { uri: 's3://x' }, baseVersionId: Buffer.from('ModelVersion:00000000-0000-4000-8000-000000000000').toString('base64url') },
  });
  expect(missingBase.errors?.[0].extensions.code).toBe('NOT_FOUND');
  expect((await createVersion(t, model.id)).number).toBe(2);
});

test('sources: artifact or external API, exactly one', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug, unique('llm'), { kind: 'PROPRIETARY_API' });
  const data = await t.ok(
    `mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion {
       source { __typename ... on ExternalApiSource { provider modelId endpoint inputCostPerMillionTokens outputCostPerMillionTokens } }
       config signature parameterCount framework } } }`,
    { input: {
      modelId: model.id,
      externalApi: { provider: 'anthropic', modelId: 'claude-x', endpoint: 'https://api.example.test/v1', inputCostPerMillionTokens: 3, outputCostPerMillionTokens: 15 },
      config: { temperature: 0.2, prompt: 'You are {role}' }, signature: { inputs: [{ name: 'text', type: 'string' }] },
      parameterCount: 70_000_000_000, framework: 'api',
    } },
  );
  expect(data.createModelVersion.modelVersion).toEqual({
    source: { __typename: 'ExternalApiSource', provider: 'anthropic', modelId: 'claude-x', endpoint: 'https://api.example.test/v1', inputCostPerMillionTokens: 3, outputCostPerMillionTokens: 15 },
    config: { temperature: 0.2, prompt: 'You are {role}' },
    signature: { inputs: [{ name: 'text', type: 'string' }] },
    parameterCount: 70_000_000_000,
    framework: 'api',
  });
  const neither = await t.gql(CREATE, { input: { modelId: model.id } });
  expect(neither.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
});

test('lineage: baseVersion and derivedVersions, across models of the project', async () => {
  const { slug } = await createProject(t);
  const base = await createModel(t, slug, unique('llama'), { kind: 'OPEN_WEIGHTS' });
  const tuned = await createModel(t, slug, unique('support-bot'));
  const b1 = await createVersion(t, base.id);
  const t1 = await createVersion(t, tuned.id, { baseVersionId: b1.id, fineTuningMethod: 'lora' });
  await new Promise((r) => setTimeout(r, 2)); // derivedVersions orders by millisecond creation time
  const t2 = await createVersion(t, tuned.id, { baseVersionId: b1.id, fineTuningMethod: 'full' });
  const data = await t.ok(
    `query($a: ID!, $b: ID!) {
       base: node(id: $a) { ... on ModelVersion { derivedVersions { nodes { id fineTuningMethod model { name } } } } }
       tuned: node(id: $b) { ... on ModelVersion { baseVersion { id number model { name } } fineTuningMethod } }
     }`,
    { a: b1.id, b: t1.id },
  );
  expect(data.tuned).toEqual({ baseVersion: { id: b1.id, number: 1, model: { name: base.name } }, fineTuningMethod: 'lora' });
  expect(data.base.derivedVersions.nodes.map((v: { id: string }) => v.id)).toEqual([t2.id, t1.id]);
  const filtered = await t.ok(
    `query($s: String!, $b: ID!) { project(slug: $s) { searchModelVersions(filter: { baseVersionId: $b }) { nodes { id } } } }`,
    { s: slug, b: b1.id },
  );
  expect(filtered.project.searchModelVersions.nodes.map((v: { id: string }) => v.id).sort()).toEqual([t1.id, t2.id].sort());

  // A version of another project is no base.
  const other = await createProject(t);
  const foreign = await createModel(t, other.slug);
  const res = await t.gql(CREATE, { input: { modelId: foreign.id, artifact: { uri: 's3://x' }, baseVersionId: b1.id } });
  expect(res.errors?.[0].extensions.code).toBe('NOT_FOUND');
});

test('status transitions follow PENDING -> READY|FAILED -> ARCHIVED', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  const v = await createVersion(t, model.id, { status: 'PENDING' });
  const UPDATE = `mutation($input: UpdateModelVersionInput!) { updateModelVersion(input: $input) { modelVersion { status statusMessage } } }`;
  expect((await t.ok(UPDATE, { input: { id: v.id, status: 'READY', statusMessage: 'uploaded' } })).updateModelVersion.modelVersion)
    .toEqual({ status: 'READY', statusMessage: 'uploaded' });
  expect((await t.gql(UPDATE, { input: { id: v.id, status: 'PENDING' } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  // An aliased version cannot be archived until the alias moves.
  await t.ok(`mutation($m: ID!) { setModelAlias(input: { modelId: $m, alias: "production", versionNumber: 1 }) { alias { revision } } }`, { m: model.id });
  expect((await t.gql(UPDATE, { input: { id: v.id, status: 'ARCHIVED' } })).errors?.[0].extensions.code).toBe('CONFLICT');
  await t.ok(`mutation($m: ID!) { removeModelAlias(input: { modelId: $m, alias: "production" }) { model { id } } }`, { m: model.id });
  expect((await t.ok(UPDATE, { input: { id: v.id, status: 'ARCHIVED' } })).updateModelVersion.modelVersion.status).toBe('ARCHIVED');
  expect((await t.gql(UPDATE, { input: { id: v.id, status: 'READY' } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  expect((await t.gql(CREATE, { input: { modelId: model.id, artifact: { uri: 's3://x' }, status: 'ARCHIVED' } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
});

test('an archived model takes no new versions and leaves the default list', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  await t.ok(`mutation($id: ID!) { archiveModel(input: { id: $id }) { model { archived } } }`, { id: model.id });
  expect((await t.gql(CREATE, { input: { modelId: model.id, artifact: { uri: 's3://x' } } })).errors?.[0].extensions.code).toBe('CONFLICT');
  const lists = await t.ok(
    `query($s: String!) { project(slug: $s) {
       active: models { nodes { id } } archived: models(filter: { archived: true }) { nodes { id } }
       all: models(filter: { archived: null }) { nodes { id } } byName: model(name: "${model.name}") { archived } } }`,
    { s: slug },
  );
  expect(lists.project).toEqual({ active: { nodes: [] }, archived: { nodes: [{ id: model.id }] }, all: { nodes: [{ id: model.id }] }, byName: { archived: true } });
});
