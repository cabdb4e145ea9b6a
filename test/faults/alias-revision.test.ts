import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer } from '../support/harness';

/**
 * Fifty writers race for one alias revision. The moves queue on the model's row lock, so the
 * first to take it wins and every later one sees the new revision: no deadlock, no lost update.
 * No lock or statement timeout here: on a loaded machine the queue could outlast one, and the
 * test is about who wins, not how long the queue takes.
 */
let t: TestServer;
beforeAll(async () => { t = await startTestServer({ MODELGRAPH_LOCK_TIMEOUT_MS: '0', MODELGRAPH_STATEMENT_TIMEOUT_MS: '0' }); });
afterAll(async () => { await t.stop(); });

const SET = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { revision version { number } } } }`;
const STATE = `query($id: ID!) { node(id: $id) { ... on Model {
  aliases { name revision version { number } }
  aliasHistory(name: "production", first: 100) { nodes { reason toVersion { number } } } } } }`;

test('50 parallel alias moves with the same expectedRevision: exactly one wins, 49 are CONFLICT, the history gains one event', async () => {
  const { slug } = await createProject(t, 'revision-race');
  const model = await createModel(t, slug);
  for (let i = 0; i < 3; i++) await createVersion(t, model.id);
  const editor = await createKey(t, 'EDITOR', slug);
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } }, editor);

  const answers: GqlResponse[] = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2 + (i % 2), expectedRevision: 1, reason: `mover ${i}` } }, editor)));

  const winners = answers.flatMap((a, i) => (a.errors ? [] : [{ i, ...a.data.setModelAlias.alias }]));
  expect(winners).toHaveLength(1);
  const [winner] = winners;
  expect(winner).toMatchObject({ revision: 2, version: { number: 2 + (winner.i % 2) } });
  // Every loser is told the revision it lost to; none is a deadlock or a timeout (retryable).
  const losers = answers.filter((a) => a.errors).map((a) => a.errors![0].extensions);
  expect(losers).toEqual(Array(49).fill({ code: 'CONFLICT', currentRevision: 2 }));

  const state = (await t.ok(STATE, { id: model.id })).node;
  expect(state.aliases).toEqual([{ name: 'production', revision: 2, version: { number: winner.version.number } }]);
  expect(state.aliasHistory.nodes).toEqual([
    { reason: `mover ${winner.i}`, toVersion: { number: winner.version.number } },
    { reason: null, toVersion: { number: 1 } },
  ]);
});
