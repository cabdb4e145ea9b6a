import { Client } from 'pg';
import { TestServer, createModel, createProject, startTestServer, testDatabaseUrl } from './support/harness';

/**
 * Every pooled session has a statement timeout and a lock timeout, so one caller cannot hold a
 * connection or wait on a lock without bound; the cancelled request answers a retryable code
 * (TIMEOUT) and changes nothing. The slow work here is a wait on a row another session holds.
 */
const CREATE_VERSION = `mutation($m: ID!) { createModelVersion(input: { modelId: $m, artifact: { uri: "s3://x/1" } }) { modelVersion { number } } }`;

async function withLockedModel<T>(modelId: string, fn: () => Promise<T>): Promise<T> {
  const blocker = new Client({ connectionString: testDatabaseUrl() });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    // Version numbering locks the model row first: holding it makes createModelVersion wait.
    await blocker.query(`SELECT 1 FROM model WHERE id = $1 FOR UPDATE`, [modelId]);
    return await fn();
  } finally {
    await blocker.query('ROLLBACK').catch(() => undefined);
    await blocker.end();
  }
}

const rowKey = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

describe.each([
  ['lock_timeout', { MODELGRAPH_LOCK_TIMEOUT_MS: '300', MODELGRAPH_STATEMENT_TIMEOUT_MS: '0' }],
  ['statement_timeout', { MODELGRAPH_LOCK_TIMEOUT_MS: '0', MODELGRAPH_STATEMENT_TIMEOUT_MS: '300' }],
])('a %s', (_name, env) => {
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer(env); });
  afterAll(() => t?.stop());

  test('answers TIMEOUT with retryable: true, stores nothing, and the retry succeeds', async () => {
    const { slug } = await createProject(t, 'timeout');
    const model = await createModel(t, slug);
    const res = await withLockedModel(rowKey(model.id), () => t.gql(CREATE_VERSION, { m: model.id }));
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(res.errors?.[0].message).not.toMatch(/canceling|lock_timeout|statement_timeout|SELECT/i);
    const [{ n }] = await t.server.db.query(`SELECT count(*)::int AS n FROM model_version WHERE model_id = $1`, [rowKey(model.id)]);
    expect(n).toBe(0);
    const again = await t.ok(CREATE_VERSION, { m: model.id });
    expect(again.createModelVersion.modelVersion.number).toBe(1);
  });
});
