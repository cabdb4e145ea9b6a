import { TestServer, createModel, createProject, createVersion, startTestServer } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

test('a version can be registered and read back', async () => {
  const project = await createProject(t);
  const model = await createModel(t, project.slug);
  const v = await createVersion(t, model.id);
  expect(v.number).toBe(1);
  const data = await t.ok(`query($s: String!) { project(slug: $s) { models { nodes { name latestVersion { number } } } } }`, { s: project.slug });
  expect(data.project.models.nodes).toEqual([{ name: model.name, latestVersion: { number: 1 } }]);
});
