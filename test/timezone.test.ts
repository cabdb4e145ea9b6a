import { Client } from 'pg';
import { TestServer, createModel, createProject, createVersion, startTestServer, testDatabaseUrl } from './support/harness';

/**
 * Bucket labels of downsampled history must not move with the database's time zone. The
 * embedded PostgreSQL takes the OS zone at initdb; day-wide buckets are labelled with interval
 * arithmetic, which adds calendar days in the session's zone. Every pooled session pins
 * TimeZone=UTC, so across a daylight-saving change (America/New_York, 2026-03-08) each day's
 * bucket is still stamped at midnight UTC.
 */
let t: TestServer;
let admin: Client;
const runUrl = new URL(testDatabaseUrl());
const tzDb = `${runUrl.pathname.slice(1)}_tz`;

beforeAll(async () => {
  admin = new Client({ connectionString: runUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${tzDb}`);
  await admin.query(`ALTER DATABASE ${tzDb} SET timezone = 'America/New_York'`);
  const url = new URL(runUrl.toString());
  url.pathname = `/${tzDb}`;
  t = await startTestServer({ DATABASE_URL: url.toString() });
});
afterAll(async () => {
  await t?.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${tzDb} WITH (FORCE)`);
  await admin.end();
});

test('a session of the database sees New York time without the pin', async () => {
  const url = new URL(runUrl.toString());
  url.pathname = `/${tzDb}`;
  const plain = new Client({ connectionString: url.toString() });
  await plain.connect();
  try {
    // The control: the zone is really not UTC here, so the next test can fail.
    expect((await plain.query('SHOW timezone')).rows[0].TimeZone).toBe('America/New_York');
    expect((await t.server.db.query('SHOW timezone'))[0].TimeZone).toBe('UTC');
  } finally {
    await plain.end();
  }
});

test('day buckets across a DST change are labelled at midnight UTC', async () => {
  const { slug } = await createProject(t, 'tz');
  const model = await createModel(t, slug);
  const v = await createVersion(t, model.id);
  const days = ['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10'];
  await t.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`, {
    input: { projectSlug: slug, points: days.map((d, i) => ({ modelVersionId: v.id, name: 'tz_probe', timestamp: `${d}T12:00:00.000Z`, value: i })) },
  });
  const data = await t.ok(`query($s: String!) { project(slug: $s) { metricSeries(name: "tz_probe") { nodes {
    points(from: "2026-03-06T00:00:00.000Z", to: "2026-03-11T00:00:00.000Z", maxPoints: 5) { timestamp value count } } } } }`, { s: slug });
  const points = data.project.metricSeries.nodes[0].points;
  expect(points).toEqual(days.map((d, i) => ({ timestamp: `${d}T00:00:00.000Z`, value: i, count: 1 })));
});
