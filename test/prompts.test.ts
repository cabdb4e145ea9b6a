import { registryEventCursor } from '../src/modules/live/event-streams';
import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const CREATE = `mutation($input: CreatePromptInput!) { createPrompt(input: $input) { prompt { id name } } }`;
const VERSION = `mutation($input: CreatePromptVersionInput!) {
  createPromptVersion(input: $input) { promptVersion { id number template variables parameters description createdBy modelVersion { id } prompt { id } } } }`;
const SET = `mutation($input: SetPromptAliasInput!) { setPromptAlias(input: $input) { alias { name revision updatedBy version { number } } } }`;
const REMOVE = `mutation($input: RemovePromptAliasInput!) { removePromptAlias(input: $input) { prompt { aliases { name } } } }`;
const RENDER = `query($id: ID!, $version: Int, $alias: String, $vars: JSONObject!) {
  renderPrompt(promptId: $id, version: $version, alias: $alias, variables: $vars) { text promptVersion { number } } }`;
const PROMPT = `query($id: ID!) { node(id: $id) { ... on Prompt { name latestVersion { number } versions(first: 100, orderBy: NUMBER_ASC) { nodes { number } } } } }`;

const TEMPLATE = 'You are {{persona}}. Answer {{user.name}}:\n{{question}}';
const VARS = ['persona', 'question', 'user'];

async function newPrompt(slug?: string) {
  const project = slug ? { slug } : await createProject(t, 'prompts');
  const prompt = (await t.ok(CREATE, { input: { projectSlug: project.slug, name: unique('p') } })).createPrompt.prompt as { id: string; name: string };
  return { slug: project.slug, prompt };
}

const addVersion = async (promptId: string, extra: Record<string, unknown> = {}, key?: string) =>
  (await t.ok(VERSION, { input: { promptId, template: TEMPLATE, variables: VARS, ...extra } }, key)).createPromptVersion.promptVersion;

const codeOf = (r: GqlResponse) => r.errors?.[0]?.extensions.code;

test('createPrompt: unique name per project (CONFLICT), the same name in another project is fine', async () => {
  const { slug, prompt } = await newPrompt();
  const again = await t.gql(CREATE, { input: { projectSlug: slug, name: prompt.name } });
  expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
  const other = await createProject(t, 'prompts');
  await t.ok(CREATE, { input: { projectSlug: other.slug, name: prompt.name } });
  const bad = await t.gql(CREATE, { input: { projectSlug: slug, name: 'Not Valid' } });
  expect(codeOf(bad)).toBe('BAD_USER_INPUT');
  const read = await t.ok(`query($s: String!, $n: String!) { project(slug: $s) { prompt(name: $n) { id } prompts { nodes { name } } } }`, { s: slug, n: prompt.name });
  expect(read.project).toEqual({ prompt: { id: prompt.id }, prompts: { nodes: [{ name: prompt.name }] } });
});

test('20 concurrent createPromptVersion calls are numbered 1..20 without gaps or duplicates', async () => {
  const { prompt } = await newPrompt();
  const made = await Promise.all(Array.from({ length: 20 }, (_, i) => addVersion(prompt.id, { description: `v${i}` })));
  expect(made.map((v) => v.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  const read = (await t.ok(PROMPT, { id: prompt.id })).node;
  expect(read.versions.nodes.map((v: { number: number }) => v.number)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(read.latestVersion).toEqual({ number: 20 });
});

test('a version keeps its template, sorted variables, parameters and model version; idempotencyKey replays return the first version', async () => {
  const { slug, prompt } = await newPrompt();
  const model = await createModel(t, slug);
  const mv = await createVersion(t, model.id);
  const input = { parameters: { temperature: 0.2, max_tokens: 256 }, modelVersionId: mv.id, idempotencyKey: 'release-1', description: 'first' };
  const replies = await Promise.all(Array.from({ length: 5 }, () => addVersion(prompt.id, input)));
  expect(new Set(replies.map((v) => v.id)).size).toBe(1);
  expect(replies[0]).toMatchObject({
    number: 1, template: TEMPLATE, variables: ['persona', 'question', 'user'], parameters: { temperature: 0.2, max_tokens: 256 },
    modelVersion: { id: mv.id }, prompt: { id: prompt.id }, description: 'first',
  });
  // A replay with a different body still answers the first version: the key names the attempt, not the content.
  const replay = await addVersion(prompt.id, { ...input, template: 'Other {{persona}} {{question}} {{user}}' });
  expect(replay).toEqual(replies[0]);
  const next = await addVersion(prompt.id, { idempotencyKey: 'release-2' });
  expect(next.number).toBe(2);
  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(first: 20) { nodes { action targetId } } } }`, { s: slug });
  const actions = audit.project.auditEvents.nodes.filter((e: { action: string }) => e.action.startsWith('prompt'));
  expect(actions.map((e: { action: string }) => e.action).sort()).toEqual(['prompt.create', 'promptVersion.create', 'promptVersion.create']);
});

test('a version is immutable: no mutation changes one, and the database refuses an UPDATE', async () => {
  const { prompt } = await newPrompt();
  const v = await addVersion(prompt.id);
  const res = await t.gql(`{ __schema { mutationType { fields { name args { type { ofType { name } } } } } } }`);
  const promptMutations = (res.data.__schema.mutationType.fields as { name: string }[]).map((f) => f.name).filter((n) => /prompt/i.test(n)).sort();
  expect(promptMutations).toEqual(['createPrompt', 'createPromptVersion', 'removePromptAlias', 'setPromptAlias']);
  await expect(t.server.db.query(`UPDATE prompt_version SET template = 'changed' WHERE id = $1`, [
    Buffer.from(v.id, 'base64url').toString().split(':')[1],
  ])).rejects.toThrow(/immutable/);
  // Aliases, renders and new versions leave it as it was.
  await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 1 } });
  await t.ok(RENDER, { id: prompt.id, alias: 'production', vars: { persona: 'a pirate', question: 'why?', user: { name: 'Ann' } } });
  await addVersion(prompt.id, { template: 'Hi {{persona}} {{question}} {{user}}' });
  const again = (await t.ok(`query($id: ID!) { node(id: $id) { ... on PromptVersion { id number template variables createdBy } } }`, { id: v.id })).node;
  expect(again).toEqual({ id: v.id, number: 1, template: TEMPLATE, variables: VARS, createdBy: v.createdBy });
});

test('the declared variables must match the template: an undeclared or unused variable is BAD_USER_INPUT naming it, and nothing is stored', async () => {
  const { prompt } = await newPrompt();
  const attempt = (template: string, variables: string[]) => t.gql(VERSION, { input: { promptId: prompt.id, template, variables } });
  const undeclared = await attempt('Hello {{name}}, about {{topic}}', ['name']);
  expect(undeclared.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables' });
  expect(undeclared.errors?.[0].message).toContain('"topic"');
  const unused = await attempt('Hello {{name}}', ['name', 'tone']);
  expect(unused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables' });
  expect(unused.errors?.[0].message).toContain('"tone"');
  // A section's name is a variable; names inside it may be fields of its items.
  const sectionUndeclared = await attempt('{{#docs}}- {{title}}\n{{/docs}}{{question}}', ['question']);
  expect(sectionUndeclared.errors?.[0].message).toContain('"docs"');
  const inverted = await attempt('{{^docs}}No context: {{fallback}}{{/docs}}', ['docs']);
  expect(inverted.errors?.[0].message).toContain('"fallback"');
  const partial = await attempt('{{> header}} {{q}}', ['q']);
  expect(partial.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
  const unclosed = await attempt('{{#docs}} {{title}}', ['docs']);
  expect(unclosed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
  const badName = await attempt('{{x}}', ['x', '1st']);
  expect(badName.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables.1' });
  expect((await t.ok(PROMPT, { id: prompt.id })).node.latestVersion).toBeNull();
  const ok = await addVersion(prompt.id, { template: '{{#docs}}- {{title}} ({{lang}})\n{{/docs}}{{^docs}}none{{/docs}}{{{question}}} {{&lang}}', variables: ['question', 'docs', 'lang'] });
  expect(ok).toMatchObject({ number: 1, variables: ['docs', 'lang', 'question'] });
});

test('renderPrompt by version and by alias, without HTML escaping; a missing or extra variable is BAD_USER_INPUT naming it', async () => {
  const { prompt } = await newPrompt();
  await addVersion(prompt.id);
  await addVersion(prompt.id, { template: '{{#docs}}[{{title}}] {{/docs}}Q: {{question}} <{{user.name}}> {{persona}}', variables: [...VARS, 'docs'] });
  const vars = { persona: 'a "careful" <assistant> & friend', question: 'x < y && y > z?', user: { name: 'Ann & Bo' } };
  const v1 = await t.ok(RENDER, { id: prompt.id, version: 1, vars });
  expect(v1.renderPrompt).toEqual({
    text: 'You are a "careful" <assistant> & friend. Answer Ann & Bo:\nx < y && y > z?', promptVersion: { number: 1 },
  });
  await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 2 } });
  const viaAlias = await t.ok(RENDER, { id: prompt.id, alias: 'production', vars: { ...vars, docs: [{ title: 'a' }, { title: 'b' }] } });
  expect(viaAlias.renderPrompt).toEqual({
    text: '[a] [b] Q: x < y && y > z? <Ann & Bo> a "careful" <assistant> & friend', promptVersion: { number: 2 },
  });
  const missing = await t.gql(RENDER, { id: prompt.id, version: 1, vars: { persona: 'p', user: {} } });
  expect(missing.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables.question' });
  expect(missing.errors?.[0].message).toContain('"question"');
  const extra = await t.gql(RENDER, { id: prompt.id, version: 1, vars: { ...vars, tone: 'dry' } });
  expect(extra.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables.tone' });
  expect(extra.errors?.[0].message).toContain('"tone"');
  const both = await t.gql(RENDER, { id: prompt.id, version: 1, alias: 'production', vars });
  expect(codeOf(both)).toBe('BAD_USER_INPUT');
  const neither = await t.gql(RENDER, { id: prompt.id, vars });
  expect(codeOf(neither)).toBe('BAD_USER_INPUT');
  expect(codeOf(await t.gql(RENDER, { id: prompt.id, version: 9, vars }))).toBe('NOT_FOUND');
  expect(codeOf(await t.gql(RENDER, { id: prompt.id, alias: 'staging', vars }))).toBe('NOT_FOUND');
});

test('aliases: set, move and remove with expectedRevision (a stale one is CONFLICT and changes nothing), history and asOf', async () => {
  const { prompt } = await newPrompt();
  for (let i = 0; i < 3; i++) await addVersion(prompt.id);
  const first = await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 1, expectedRevision: 0, reason: 'launch' } });
  expect(first.setPromptAlias.alias).toMatchObject({ name: 'production', revision: 1, version: { number: 1 } });
  await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 2, expectedRevision: 1 } });
  const stale = await t.gql(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 3, expectedRevision: 1 } });
  expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentRevision: 2 });
  const same = await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 2 } });
  expect(same.setPromptAlias.alias.revision).toBe(2);
  expect(codeOf(await t.gql(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 7 } }))).toBe('NOT_FOUND');
  const concurrent = await Promise.all([1, 3].map((n) => t.gql(SET, { input: { promptId: prompt.id, alias: 'candidate', versionNumber: n, expectedRevision: 0 } })));
  expect(concurrent.map(codeOf).sort()).toEqual(['CONFLICT', undefined]);
  // Either may win the race; what follows depends on which did.
  const candidateAt = [1, 3][concurrent.findIndex((r) => !r.errors)];
  const staleRemove = await t.gql(REMOVE, { input: { promptId: prompt.id, alias: 'production', expectedRevision: 1 } });
  expect(staleRemove.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentRevision: 2 });
  const removed = await t.ok(REMOVE, { input: { promptId: prompt.id, alias: 'production', expectedRevision: 2, reason: 'rollback' } });
  expect(removed.removePromptAlias.prompt.aliases.map((a: { name: string }) => a.name)).toEqual(['candidate']);
  expect(codeOf(await t.gql(REMOVE, { input: { promptId: prompt.id, alias: 'production' } }))).toBe('NOT_FOUND');
  // Set again after removal: the revision keeps counting.
  const back = await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 3, expectedRevision: 3 } });
  expect(back.setPromptAlias.alias.revision).toBe(4);

  const history = (await t.ok(`query($id: ID!) { node(id: $id) { ... on Prompt {
      aliasHistory(name: "production") { nodes { id alias at actor reason fromVersion { number } toVersion { number } prompt { id } } } } } }`,
  { id: prompt.id })).node.aliasHistory.nodes as { id: string; at: string; reason: string | null; fromVersion: { number: number } | null; toVersion: { number: number } | null }[];
  expect(history.map((e) => [e.fromVersion?.number ?? null, e.toVersion?.number ?? null])).toEqual([[null, 3], [2, null], [1, 2], [null, 1]]);
  expect(history[1].reason).toBe('rollback');
  expect(history[3].reason).toBe('launch');

  // asOf each move's time answers where the alias pointed then: the last move at or before it (moves in one millisecond: the later).
  const chronological = [...history].reverse();
  const asOf = (at: string) => t.ok(`query($id: ID!, $at: DateTime!) { node(id: $id) { ... on Prompt { alias(name: "production", asOf: $at) { number } } } }`, { id: prompt.id, at });
  for (const e of chronological) {
    const last = chronological.filter((x) => x.at <= e.at).pop()!;
    expect((await asOf(e.at)).node.alias).toEqual(last.toVersion);
  }
  const before = new Date(Date.parse(chronological[0].at) - 1).toISOString();
  expect((await asOf(before)).node.alias).toBeNull();
  const now = await t.ok(`query($id: ID!) { node(id: $id) { ... on Prompt { alias(name: "production") { number aliases } aliases { name revision version { number } } } } }`, { id: prompt.id });
  expect(now.node.alias).toEqual({ number: 3, aliases: candidateAt === 3 ? ['candidate', 'production'] : ['production'] });
});

test('every change is a registry event whose subject is the prompt object, in the order it happened', async () => {
  const { slug, prompt } = await newPrompt();
  await addVersion(prompt.id);
  await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 1 } });
  await t.ok(REMOVE, { input: { promptId: prompt.id, alias: 'production' } });
  const client = t.ws();
  const seen: { type: string; subject: { __typename: string } }[] = [];
  await new Promise<void>((resolve, reject) => {
    const stop = client.subscribe({
      query: `subscription($s: String!, $since: String, $types: [RegistryEventType!]) {
        registryEvents(projectSlug: $s, since: $since, types: $types) { type subject { __typename id } } }`,
      variables: { s: slug, since: registryEventCursor('0'), types: ['PROMPT_CREATED', 'PROMPT_VERSION_CREATED', 'PROMPT_ALIAS_SET', 'PROMPT_ALIAS_REMOVED'] },
    }, {
      next: (r) => {
        if (r.errors) reject(new Error(JSON.stringify(r.errors)));
        seen.push((r.data as { registryEvents: (typeof seen)[0] }).registryEvents);
        if (seen.length === 4) { stop(); resolve(); }
      },
      error: reject,
      complete: () => resolve(),
    });
  });
  await client.dispose();
  expect(seen.map((e) => [e.type, e.subject.__typename])).toEqual([
    ['PROMPT_CREATED', 'Prompt'], ['PROMPT_VERSION_CREATED', 'PromptVersion'],
    ['PROMPT_ALIAS_SET', 'PromptAliasEvent'], ['PROMPT_ALIAS_REMOVED', 'PromptAliasEvent'],
  ]);
});

test('another project\'s key is refused every new mutation and field; a VIEWER may read and render but not write', async () => {
  const { slug, prompt } = await newPrompt();
  const v = await addVersion(prompt.id);
  await t.ok(SET, { input: { promptId: prompt.id, alias: 'keep', versionNumber: 1 } });
  const other = await createProject(t, 'prompts-other');
  const outsider = await createKey(t, 'ADMIN', other.slug);
  const viewer = await createKey(t, 'VIEWER', slug);
  const editor = await createKey(t, 'EDITOR', slug);
  const vars = { persona: 'p', question: 'q', user: { name: 'n' } };
  const writes: [string, Record<string, unknown>][] = [
    [CREATE, { input: { projectSlug: slug, name: unique('p') } }],
    [VERSION, { input: { promptId: prompt.id, template: TEMPLATE, variables: VARS } }],
    [SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 1 } }],
    [REMOVE, { input: { promptId: prompt.id, alias: 'keep' } }],
  ];
  for (const [doc, vars2] of writes) {
    expect([doc.slice(0, 40), codeOf(await t.gql(doc, vars2, outsider))]).toEqual([doc.slice(0, 40), 'NOT_FOUND']);
    expect([doc.slice(0, 40), codeOf(await t.gql(doc, vars2, viewer))]).toEqual([doc.slice(0, 40), 'FORBIDDEN']);
  }
  expect(codeOf(await t.gql(RENDER, { id: prompt.id, version: 1, vars }, outsider))).toBe('NOT_FOUND');
  expect((await t.ok(RENDER, { id: prompt.id, version: 1, vars }, viewer)).renderPrompt.promptVersion.number).toBe(1);
  const read = await t.gql(`query($s: String!, $p: ID!, $v: ID!) {
    project(slug: $s) { prompts { nodes { id } } }
    prompt: node(id: $p) { id } version: node(id: $v) { id } }`, { s: slug, p: prompt.id, v: v.id }, outsider);
  expect(read.errors).toBeUndefined();
  expect(read.data).toEqual({ project: null, prompt: null, version: null });
  // An editor of A cannot tie a version to B's model version: it is as unknown as a missing one.
  const bModel = await createModel(t, other.slug);
  const bVersion = await createVersion(t, bModel.id);
  const cross = await t.gql(VERSION, { input: { promptId: prompt.id, template: TEMPLATE, variables: VARS, modelVersionId: bVersion.id } }, editor);
  expect(cross.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'modelVersionId' });
  expect((await t.ok(PROMPT, { id: prompt.id })).node.latestVersion).toEqual({ number: 1 });
});

test('a nested read of prompts, versions and their model versions costs the same number of statements for 2 and 20 prompts', async () => {
  const NESTED = `query($s: String!) { project(slug: $s) { prompts(first: 50) { nodes {
    id name latestVersion { number } aliases { name version { number } } production: alias(name: "production") { number }
    aliasHistory(first: 3) { nodes { toVersion { number } } }
    versions(first: 10) { nodes { id number variables aliases prompt { name } modelVersion { id number model { name } } } }
  } } } }`;
  async function seed(prompts: number): Promise<string> {
    const { slug } = await createProject(t, 'prompts-count');
    const model = await createModel(t, slug);
    const mvs = [await createVersion(t, model.id), await createVersion(t, model.id)];
    for (let i = 0; i < prompts; i++) {
      const { prompt } = await newPrompt(slug);
      await addVersion(prompt.id, { modelVersionId: mvs[i % 2].id });
      await addVersion(prompt.id, { modelVersionId: mvs[(i + 1) % 2].id });
      await t.ok(SET, { input: { promptId: prompt.id, alias: 'production', versionNumber: 2 } });
    }
    return slug;
  }
  const small = await seed(2);
  const large = await seed(20);
  const [a, da] = await t.countStatements(() => t.ok(NESTED, { s: small }));
  const [b, db] = await t.countStatements(() => t.ok(NESTED, { s: large }));
  expect(da.project.prompts.nodes).toHaveLength(2);
  expect(db.project.prompts.nodes).toHaveLength(20);
  expect(db.project.prompts.nodes[0].versions.nodes[0].modelVersion).not.toBeNull();
  expect(b).toBe(a);
});

test('evaluations name a prompt version; the leaderboard and the comparison group by prompt version as well as by model version', async () => {
  const { slug, prompt } = await newPrompt();
  const model = await createModel(t, slug);
  const [mv1, mv2] = [await createVersion(t, model.id), await createVersion(t, model.id)];
  const p1 = await addVersion(prompt.id);
  const p2 = await addVersion(prompt.id, { template: 'Be brief. {{persona}} {{question}} {{user}}' });
  const EVAL = `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id promptVersion { id number } } } }`;
  async function evaluate(modelVersionId: string, promptVersionId: string | null, accuracy: number) {
    const e = (await t.ok(EVAL, { input: { modelVersionId, promptVersionId, name: unique('run'), metrics: [{ name: 'accuracy', value: accuracy }] } })).createEvaluation.evaluation;
    await t.ok(`mutation($id: ID!) { completeEvaluation(input: { evaluationId: $id, status: COMPLETED }) { evaluation { id } } }`, { id: e.id });
    return e;
  }
  const first = await evaluate(mv1.id, p1.id, 0.70);
  expect(first.promptVersion).toEqual({ id: p1.id, number: 1 });
  await evaluate(mv1.id, p2.id, 0.80);
  await evaluate(mv2.id, p1.id, 0.75);
  await evaluate(mv2.id, p2.id, 0.60);
  const unprompted = await evaluate(mv2.id, null, 0.90);
  expect(unprompted.promptVersion).toBeNull();

  const BOARD = `query($s: String!, $g: EvaluationGrouping!) { project(slug: $s) {
    leaderboard(metric: "accuracy", groupBy: $g) { rank value modelVersion { id } promptVersion { id } } } }`;
  const byModel = (await t.ok(BOARD, { s: slug, g: 'MODEL_VERSION' })).project.leaderboard;
  expect(byModel).toEqual([
    { rank: 1, value: 0.90, modelVersion: { id: mv2.id }, promptVersion: null },
    { rank: 2, value: 0.80, modelVersion: { id: mv1.id }, promptVersion: { id: p2.id } },
  ]);
  // Leaving groupBy out keeps the ranking by model version.
  expect((await t.ok(`query($s: String!) { project(slug: $s) { leaderboard(metric: "accuracy") { rank value modelVersion { id } promptVersion { id } } } }`,
    { s: slug })).project.leaderboard).toEqual(byModel);
  const byPrompt = (await t.ok(BOARD, { s: slug, g: 'PROMPT_VERSION' })).project.leaderboard;
  expect(byPrompt).toEqual([
    { rank: 1, value: 0.80, modelVersion: { id: mv1.id }, promptVersion: { id: p2.id } },
    { rank: 2, value: 0.75, modelVersion: { id: mv2.id }, promptVersion: { id: p1.id } },
  ]);

  const COMPARE = `query($ids: [ID!]!, $g: EvaluationGrouping!) { compareModelVersions(ids: $ids, metrics: ["accuracy"], groupBy: $g) {
    metrics rows { modelVersion { id } promptVersion { number } values } } }`;
  const pairs = (await t.ok(COMPARE, { ids: [mv1.id, mv2.id], g: 'PROMPT_VERSION' })).compareModelVersions;
  expect(pairs).toEqual({
    metrics: ['accuracy'],
    rows: [
      { modelVersion: { id: mv1.id }, promptVersion: { number: 1 }, values: [0.70] },
      { modelVersion: { id: mv1.id }, promptVersion: { number: 2 }, values: [0.80] },
      { modelVersion: { id: mv2.id }, promptVersion: null, values: [0.90] },
      { modelVersion: { id: mv2.id }, promptVersion: { number: 1 }, values: [0.75] },
      { modelVersion: { id: mv2.id }, promptVersion: { number: 2 }, values: [0.60] },
    ],
  });
  const perVersion = (await t.ok(`query($ids: [ID!]!) { compareModelVersions(ids: $ids, metrics: ["accuracy"]) { rows { modelVersion { id } promptVersion { id } } } }`,
    { ids: [mv1.id, mv2.id] })).compareModelVersions.rows;
  expect(perVersion).toEqual([{ modelVersion: { id: mv1.id }, promptVersion: null }, { modelVersion: { id: mv2.id }, promptVersion: null }]);
  // A version without evaluations keeps its row of nulls when grouped by prompt version.
  const bare = await createVersion(t, model.id);
  expect((await t.ok(COMPARE, { ids: [bare.id], g: 'PROMPT_VERSION' })).compareModelVersions.rows)
    .toEqual([{ modelVersion: { id: bare.id }, promptVersion: null, values: [null] }]);

  // Another project's prompt version is as unknown as a missing one; an id of another type is bad input.
  const other = await newPrompt();
  const foreign = await addVersion(other.prompt.id);
  const cross = await t.gql(EVAL, { input: { modelVersionId: mv1.id, promptVersionId: foreign.id, name: 'cross' } });
  expect(cross.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'promptVersionId' });
  const wrongType = await t.gql(EVAL, { input: { modelVersionId: mv1.id, promptVersionId: mv2.id, name: 'wrong' } });
  expect(wrongType.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'promptVersionId' });
});
