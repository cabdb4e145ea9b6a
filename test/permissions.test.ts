import { TestServer, createKey, createModel, createProject, createVersion, startTestServer } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

/**
 * A declared permission locates its project through the request's loaders, and the resolver
 * then loads the same rows: those must be cache hits, so a check costs no statement of its own.
 */
describe('a declared permission shares its lookups with the resolver', () => {
  let slug: string;
  let key: string;
  let modelId: string;
  let versions: string[];

  beforeAll(async () => {
    ({ slug } = await createProject(t, 'perm'));
    // A key of the project: its check compares project ids, so a global key would not need the lookup at all.
    key = await createKey(t, 'VIEWER', slug);
    modelId = (await createModel(t, slug)).id;
    versions = [(await createVersion(t, modelId)).id, (await createVersion(t, modelId)).id];
    // Warm-up: the key's first use authenticates through SQL and may write lastUsedAt.
    await t.ok('{ viewer { name } }', {}, key);
  });

  const statements = async (query: string, variables: Record<string, unknown>) => {
    const [n, res] = await t.countStatements(() => t.gql(query, variables, key));
    expect(res.errors).toBeUndefined();
    return n;
  };

  test('by slug: project(slug:) is one statement', async () => {
    expect(await statements('query($s: String!) { project(slug: $s) { id name } }', { s: slug })).toBe(1);
  });

  test('by id: node(id:) is one statement', async () => {
    expect(await statements('query($id: ID!) { node(id: $id) { id } }', { id: modelId })).toBe(1);
  });

  test('by a list of ids: compareModelVersions loads the versions once, in one batch, then the metrics', async () => {
    expect(await statements('query($ids: [ID!]!) { compareModelVersions(ids: $ids) { metrics } }', { ids: versions })).toBe(2);
  });
});
