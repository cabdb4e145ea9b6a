import { TestServer, createKey, createModel, createProject, createVersion, startTestServer } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const RECORD = `mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { accepted } }`;
const ENGAGEMENT = `query($id: ID!, $from: DateTime, $to: DateTime) { node(id: $id) { ... on ModelVersion {
  engagement(from: $from, to: $to) { feedbackCount positiveRate meanRating sessions } } } }`;

async function version() {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  return { slug, v: await createVersion(t, model.id) };
}

test('feedback rolls up into engagement: counts, thumbs-up share, mean rating, sessions', async () => {
  const { v } = await version();
  // Within the default window (the last 30 days), which the first query relies on.
  const base = Date.now() - 3600_000;
  const at = (min: number) => new Date(base + min * 60_000).toISOString();
  const inputs = [
    { kind: 'THUMBS', value: 1, sessionId: 's1', at: at(0) },
    { kind: 'THUMBS', value: 1, sessionId: 's1', at: at(1) },
    { kind: 'THUMBS', value: 0, sessionId: 's2', at: at(2) },
    { kind: 'RATING', value: 4, sessionId: 's2', at: at(3) },
    { kind: 'RATING', value: 2, sessionId: 's3', at: at(4) },
    { kind: 'TEXT', comment: 'too long', sessionId: 's3', userId: 'u9', at: at(5) },
    { kind: 'EVENT', comment: 'copied', at: at(6) },
  ];
  for (const input of inputs) expect((await t.ok(RECORD, { input: { modelVersionId: v.id, ...input } })).recordFeedback.accepted).toBe(true);
  const all = await t.ok(ENGAGEMENT, { id: v.id });
  expect(all.node.engagement).toEqual({ feedbackCount: 7, positiveRate: 2 / 3, meanRating: 3, sessions: 3 });
  // [from, to): the first two thumbs only.
  const early = await t.ok(ENGAGEMENT, { id: v.id, from: at(0), to: at(2) });
  expect(early.node.engagement).toEqual({ feedbackCount: 2, positiveRate: 1, meanRating: null, sessions: 1 });
  const none = await t.ok(ENGAGEMENT, { id: v.id, from: at(30) });
  expect(none.node.engagement).toEqual({ feedbackCount: 0, positiveRate: null, meanRating: null, sessions: 0 });
  expect((await t.gql(ENGAGEMENT, { id: v.id, from: at(5), to: at(1) })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
});

test('each kind needs its fields; bad feedback stores nothing', async () => {
  const { v } = await version();
  const bad: [Record<string, unknown>, string][] = [
    [{ kind: 'THUMBS', value: 0.5 }, 'value'],
    [{ kind: 'THUMBS' }, 'value'],
    [{ kind: 'RATING' }, 'value'],
    [{ kind: 'TEXT', comment: '  ' }, 'comment'],
    [{ kind: 'EVENT' }, 'comment'],
    [{ kind: 'RATING', value: 3, at: new Date(Date.now() + 3600_000).toISOString() }, 'at'],
    [{ kind: 'THUMBS', value: 1, requestId: '' }, 'requestId'],
    [{ kind: 'THUMBS', value: 1, requestId: 'r'.repeat(257) }, 'requestId'],
  ];
  for (const [input, field] of bad) {
    const res = await t.gql(RECORD, { input: { modelVersionId: v.id, ...input } });
    // The service's checks name one `field`; class-validator's (lengths) list `fields`.
    const ext = res.errors?.[0].extensions as { field?: string; fields?: { field: string }[] } | undefined;
    const named = ext?.field ?? ext?.fields?.[0].field;
    expect({ input, code: res.errors?.[0].extensions.code, field: named }).toEqual({ input, code: 'BAD_USER_INPUT', field });
  }
  expect((await t.ok(ENGAGEMENT, { id: v.id })).node.engagement.feedbackCount).toBe(0);
  const missing = Buffer.from('ModelVersion:00000000-0000-4000-8000-000000000000').toString('base64url');
  expect((await t.gql(RECORD, { input: { modelVersionId: missing, kind: 'THUMBS', value: 1 } })).errors?.[0].extensions.code).toBe('NOT_FOUND');
});

test('recording needs EDITOR on the version\'s project; it is audited without the comment text', async () => {
  const { slug, v } = await version();
  const viewer = await createKey(t, 'VIEWER', slug);
  expect((await t.gql(RECORD, { input: { modelVersionId: v.id, kind: 'THUMBS', value: 1 } }, viewer)).errors?.[0].extensions.code).toBe('FORBIDDEN');
  const other = await createProject(t);
  const outsider = await createKey(t, 'EDITOR', other.slug);
  expect((await t.gql(RECORD, { input: { modelVersionId: v.id, kind: 'THUMBS', value: 1 } }, outsider)).errors?.[0].extensions.code).toBe('NOT_FOUND');
  const editor = await createKey(t, 'EDITOR', slug);
  await t.ok(RECORD, { input: { modelVersionId: v.id, kind: 'TEXT', comment: 'private words' } }, editor);
  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "feedback.record" }) { nodes { targetId details } } } }`, { s: slug });
  expect(audit.project.auditEvents.nodes).toHaveLength(1);
  expect(audit.project.auditEvents.nodes[0].targetId).toBe(v.id);
  expect(JSON.stringify(audit.project.auditEvents.nodes[0].details)).not.toContain('private words');
});

test('engagement of many versions is one statement', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  for (let i = 0; i < 6; i++) {
    const v = await createVersion(t, model.id);
    await t.ok(RECORD, { input: { modelVersionId: v.id, kind: 'RATING', value: i } });
  }
  const q = `query($s: String!, $m: String!, $n: Int!) { project(slug: $s) { model(name: $m) { versions(first: $n) { nodes { engagement { meanRating } } } } } }`;
  const count = async (n: number) => {
    const [statements, data] = await t.countStatements(() => t.ok(q, { s: slug, m: model.name, n }));
    expect(data.project.model.versions.nodes).toHaveLength(n);
    return statements;
  };
  await count(1);
  expect(await count(6)).toBe(await count(2));
});

test('feedback keeps the request it rates, which ties it to the usage record (and route) of that request', async () => {
  const { slug, v } = await version();
  await t.ok(RECORD, { input: { modelVersionId: v.id, kind: 'THUMBS', value: 1, requestId: 'req-41' } });
  await t.ok(RECORD, { input: { modelVersionId: v.id, kind: 'RATING', value: 4 } });
  const rows = await t.server.db.query(
    `SELECT f.kind, f.request_id FROM feedback f JOIN project p ON p.id = f.project_id WHERE p.slug = $1 ORDER BY f.id`, [slug]);
  expect(rows).toEqual([{ kind: 'THUMBS', request_id: 'req-41' }, { kind: 'RATING', request_id: null }]);
  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "feedback.record" }) { nodes { details } } } }`, { s: slug });
  expect(audit.project.auditEvents.nodes.map((n: { details: { after: { requestId: string | null } } }) => n.details.after.requestId).sort()).toEqual([null, 'req-41'].sort());
});
