import { encodeCursor } from '../src/core/graphql/pagination';
import { POINT_PAGE, registryEventCursor } from '../src/modules/live/event-streams';
import { TestServer, createModel, createProject, startTestServer } from './support/harness';
import { follow } from './support/subscription';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const POINTS = `subscription($s: String!, $filter: MetricStreamFilter!, $since: String) {
  metricPoints(projectSlug: $s, filter: $filter, since: $since) { cursor series { name } points { value } } }`;
const EVENTS = `subscription($s: String!, $since: String) { registryEvents(projectSlug: $s, since: $since) { cursor type } }`;
const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
const LOWEST_UUID = '00000000-0000-0000-0000-000000000000';

type PointsEvent = { cursor: string; series: { name: string }; points: { value: number }[] };

/** Takes events until they hold `total` points. */
async function takePoints(sub: ReturnType<typeof follow<any>>, total: number): Promise<PointsEvent[]> {
  const events: PointsEvent[] = [];
  let n = 0;
  while (n < total) {
    const [r] = await sub.take(1);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    events.push(r.data.metricPoints);
    n += r.data.metricPoints.points.length;
  }
  return events;
}

/** 20,000 points of series "a" and 1,000 of "b", interleaved, in batches of 10,000 (values count up per series). */
async function seed(slug: string): Promise<string> {
  let a = 0;
  let b = 0;
  for (let batch = 0; batch < 2; batch++) {
    const points = [];
    for (let i = 0; i < 10_500; i++) points.push(i % 21 === 20 ? { name: 'b', value: b++ } : { name: 'a', value: a++ });
    await t.ok(RECORD, { input: { projectSlug: slug, points: points.slice(0, 10_000) } });
    await t.ok(RECORD, { input: { projectSlug: slug, points: points.slice(10_000) } });
  }
  expect([a, b]).toEqual([20_000, 1_000]);
  const [{ end }] = await t.server.db.query(
    `SELECT max(p.id)::text AS end FROM metric_point p JOIN project pr ON pr.id = p.project_id WHERE pr.slug = $1`, [slug],
  );
  return end;
}

/** The values each series received, in the order received. */
function valuesBySeries(events: PointsEvent[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of events) (out[e.series.name] ??= []).push(...e.points.map((p) => p.value));
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('a forged cursor naming a huge batch is replayed in pages: every event at most a page, every point once, in order', async () => {
  const { slug } = await createProject(t, 'replay');
  const end = await seed(slug);
  // "Inside a batch" of every point the project has: once answered as one event of all of them.
  const forged = encodeCursor(['p', '0', end, LOWEST_UUID]);
  const sub = follow(t.ws(), POINTS, { s: slug, filter: {}, since: forged });
  const events = await takePoints(sub, 21_000);
  sub.stop();
  expect(Math.max(...events.map((e) => e.points.length))).toBeLessThanOrEqual(POINT_PAGE);
  expect(events.length).toBeGreaterThanOrEqual(21_000 / POINT_PAGE);
  expect(valuesBySeries(events)).toEqual({ a: range(20_000), b: range(1_000) });

  // Each cursor handed out during that replay resumes exactly after its event, pages nested in the forged batch included.
  for (const k of [0, Math.floor(events.length / 2), events.length - 2]) {
    const resumed = follow(t.ws(), POINTS, { s: slug, filter: {}, since: events[k].cursor });
    const rest = events.slice(k + 1);
    const got = await takePoints(resumed, rest.reduce((n, e) => n + e.points.length, 0));
    resumed.stop();
    expect(got).toEqual(rest);
  }
});

test('cursors past the end of a stream, or malformed, are BAD_USER_INPUT', async () => {
  const { slug } = await createProject(t, 'replay');
  await createModel(t, slug);
  await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'a', value: 1 }] } });
  const [{ events, points }] = await t.server.db.query(
    `SELECT (SELECT max(id) FROM registry_event)::text AS events, (SELECT max(id) FROM metric_point)::text AS points`,
  );
  const far = (id: string) => String(BigInt(id) + 1_000_000n);
  const failure = async (query: string, variables: Record<string, unknown>) => (await follow(t.ws(), query, variables).failure())?.[0].extensions;

  // Resuming from there would skip everything committed below it.
  expect(await failure(EVENTS, { s: slug, since: registryEventCursor(far(events)) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'since' });
  for (const key of [['p', far(points), far(points), ''], ['p', '0', far(points), LOWEST_UUID], ['p', '0', points, LOWEST_UUID, far(points), LOWEST_UUID]]) {
    expect({ key, error: await failure(POINTS, { s: slug, filter: {}, since: encodeCursor(key) }) })
      .toMatchObject({ key, error: { code: 'BAD_USER_INPUT', field: 'since' } });
  }
  const malformed = [
    ['p', '0', '0'], ['p', '0', '1', LOWEST_UUID, '2'], ['p', '5', '4', LOWEST_UUID], ['p', '0', '4', LOWEST_UUID, '3', ''],
    ['p', '0', '1', 'not-a-uuid'], ['p', '-1', '0', ''], ['p', '0', ...Array.from({ length: 17 }, (_, i) => [String(i + 1), LOWEST_UUID]).flat()],
  ];
  for (const key of malformed) {
    expect({ key, error: await failure(POINTS, { s: slug, filter: {}, since: encodeCursor(key) }) })
      .toMatchObject({ key, error: { code: 'BAD_USER_INPUT', field: 'since' } });
  }

  // At the end of each stream, both resume and go live.
  const ok = follow(t.ws(), POINTS, { s: slug, filter: {}, since: encodeCursor(['p', points, points, '']) });
  const okEvents = follow(t.ws(), EVENTS, { s: slug, since: registryEventCursor(events) });
  await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'a', value: 2 }] } });
  expect((await ok.take(1))[0].data.metricPoints.points).toEqual([{ value: 2 }]);
  await createModel(t, slug);
  expect((await okEvents.take(1))[0].data.registryEvents.type).toBe('MODEL_CREATED');
  ok.stop();
  okEvents.stop();
});
