import { TestServer, createKey, createModel, createProject, startTestServer, unique } from './support/harness';
import { follow, until } from './support/subscription';

// registryEventsCursor / metricPointsCursor: a start fixed before subscribing, so a client that
// loses its socket before its first event resumes with nothing missed and nothing twice.

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const EVENTS = `subscription($s: String!, $since: String) { registryEvents(projectSlug: $s, since: $since) { cursor type subject { ... on Model { name } } } }`;
const POINTS = `subscription($s: String!, $since: String) { metricPoints(projectSlug: $s, filter: {}, since: $since) { cursor points { value } } }`;
const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;

/** Subscribes from `since` on a socket of its own, waits until the server holds the subscription, then drops the socket. */
async function subscribeAndDrop(query: string, vars: Record<string, unknown>) {
  const client = t.ws();
  const before = t.server.subscriptions.active().total;
  const sub = follow(client, query, vars);
  await until(() => t.server.subscriptions.active().total > before, 'the server holds the subscription');
  await client.dispose();
  await until(() => t.server.subscriptions.active().total === before, 'the server dropped the subscription');
  sub.stop();
}

test('registryEventsCursor: subscribe, drop before any event, resume from the cursor: exactly the events after it', async () => {
  const { slug } = await createProject(t, 'cursor');
  const earlier = await createModel(t, slug);
  const { registryEventsCursor: since } = await t.ok(`query($s: String!) { registryEventsCursor(projectSlug: $s) }`, { s: slug });
  await subscribeAndDrop(EVENTS, { s: slug, since });

  const names = [unique('m'), unique('m')];
  for (const name of names) await createModel(t, slug, name);
  const resumed = follow(t.ws(), EVENTS, { s: slug, since });
  const got = (await resumed.take(2)).map((r) => r.data.registryEvents);
  expect(got.map((e) => [e.type, e.subject.name])).toEqual(names.map((n) => ['MODEL_CREATED', n]));
  expect(got.map((e) => e.subject.name)).not.toContain(earlier.name);

  // Nothing twice: the next event is the next change, not a repeat.
  const last = await createModel(t, slug);
  expect((await resumed.take(1))[0].data.registryEvents.subject.name).toBe(last.name);
  resumed.stop();
});

test('metricPointsCursor: subscribe, drop before any event, resume from the cursor: exactly the points after it', async () => {
  const { slug } = await createProject(t, 'cursor');
  await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'loss', value: -1 }] } });
  const { metricPointsCursor: since } = await t.ok(`query($s: String!) { metricPointsCursor(projectSlug: $s) }`, { s: slug });
  await subscribeAndDrop(POINTS, { s: slug, since });

  await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'loss', value: 1 }, { name: 'loss', value: 2 }] } });
  await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'loss', value: 3 }] } });
  const resumed = follow(t.ws(), POINTS, { s: slug, since });
  const values: number[] = [];
  while (values.length < 3) values.push(...(await resumed.take(1))[0].data.metricPoints.points.map((p: { value: number }) => p.value));
  expect(values).toEqual([1, 2, 3]);

  await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'loss', value: 4 }] } });
  expect((await resumed.take(1))[0].data.metricPoints.points).toEqual([{ value: 4 }]);
  resumed.stop();
});

test('a cursor taken now is accepted by its stream at once, and live from there', async () => {
  const { slug } = await createProject(t, 'cursor');
  const { metricPointsCursor, registryEventsCursor } = await t.ok(
    `query($s: String!) { metricPointsCursor(projectSlug: $s) registryEventsCursor(projectSlug: $s) }`, { s: slug },
  );
  const points = follow(t.ws(), POINTS, { s: slug, since: metricPointsCursor });
  const events = follow(t.ws(), EVENTS, { s: slug, since: registryEventsCursor });
  await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'acc', value: 0.5 }] } });
  const model = await createModel(t, slug);
  expect((await points.take(1))[0].data.metricPoints.points).toEqual([{ value: 0.5 }]);
  expect((await events.take(1))[0].data.registryEvents.subject.name).toBe(model.name);
  points.stop();
  events.stop();
});

test('the cursors need a key (UNAUTHENTICATED) that can view the project; another project is NOT_FOUND like a missing one', async () => {
  const { slug } = await createProject(t, 'cursor');
  const other = await createProject(t, 'cursor');
  const viewer = await createKey(t, 'VIEWER', slug);
  const otherViewer = await createKey(t, 'VIEWER', other.slug);
  for (const field of ['registryEventsCursor', 'metricPointsCursor']) {
    const q = `query($s: String!) { ${field}(projectSlug: $s) }`;
    expect(typeof (await t.ok(q, { s: slug }, viewer))[field]).toBe('string');
    expect((await t.gql(q, { s: slug }, null)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await t.gql(q, { s: slug }, otherViewer)).errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await t.gql(q, { s: unique('missing') })).errors?.[0].extensions.code).toBe('NOT_FOUND');
  }
});
