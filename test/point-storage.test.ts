import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { TestServer, createKey, createProject, scratchDatabase, startTestServer } from './support/harness';
import { STORAGE_LOCK, createPartition, listPartitions, partitionName, retentionCutoff, storageRound } from '../src/modules/monitoring/point-storage';
import { ROLLUP_LOCK, rollupRound, rollupWatermark } from '../src/modules/monitoring/rollups';
import { planWindow } from '../src/modules/monitoring/history';
import { SKETCH_RELATIVE_ACCURACY } from '../src/modules/monitoring/sketch';

let t: TestServer;
// The rounds run when this test says so (other test files' servers may run theirs on the same database: the rounds' locks order them).
beforeAll(async () => { t = await startTestServer({ MODELGRAPH_STORAGE_INTERVAL_MS: '0', MODELGRAPH_ROLLUP_INTERVAL_MS: '0', MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0' }); });
afterAll(async () => { await t.stop(); });

const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
const POINTS = `query($id: ID!, $from: DateTime, $to: DateTime, $n: Int, $agg: Aggregation) { node(id: $id) { ... on MetricSeries {
  points(from: $from, to: $to, maxPoints: $n, aggregation: $agg) { timestamp value min max count } } } }`;
const RETENTION = `mutation($id: ID!, $days: Int) { setMetricRetention(projectId: $id, days: $days) { id metricRetentionDays } }`;
const DAY = 86_400_000;

async function record(slug: string, points: { name: string; timestamp: string; value: number }[]) {
  for (let i = 0; i < points.length; i += 5000) {
    await t.ok(RECORD, { input: { projectSlug: slug, points: points.slice(i, i + 5000) } });
  }
}
async function seriesOf(slug: string, name: string): Promise<{ id: string; key: string }> {
  const data = await t.ok(`query($s: String!, $n: String) { project(slug: $s) { metricSeries(name: $n) { nodes { id } } } }`, { s: slug, n: name });
  const id = data.project.metricSeries.nodes[0].id as string;
  const [{ key }] = await t.server.db.query(
    `SELECT s.id AS key FROM metric_series s JOIN project p ON p.id = s.project_id WHERE p.slug = $1 AND s.name = $2`, [slug, name]);
  return { id, key };
}

/**
 * Runs the storage round until this process ran it (another test server may hold its lock for a
 * moment). Its DDL steps may wait up to a minute for their locks, not the server's 1 s: other
 * test files' servers read and write metric_point in this database meanwhile, and on a loaded
 * machine one of their statements can outlast a second. What these tests check is what the
 * round does once it has its locks.
 */
async function storage(db: DataSource) {
  for (;;) {
    const r = await storageRound(db, { lockTimeoutMs: 60_000 });
    if (r.ran) return r;
    await sleep(20);
  }
}
/**
 * Runs `fn` while holding the storage round's lock on a connection of its own: the rounds of other
 * test files' servers (same database) then skip, and cannot move or drop what `fn` sets up.
 */
async function storageLocked<T>(fn: (runner: ReturnType<DataSource['createQueryRunner']>) => Promise<T>, lock = STORAGE_LOCK): Promise<T> {
  const runner = t.server.db.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock($1)`, [lock]);
    try {
      return await fn(runner);
    } finally {
      await runner.query(`SELECT pg_advisory_unlock($1)`, [lock]);
    }
  } finally {
    await runner.release();
  }
}
/** Rolls up until the watermark passes every point committed so far. */
async function rollUpAll(db: DataSource) {
  const [{ max }] = await db.query(`SELECT coalesce(max(id), 0)::text AS max FROM metric_point`);
  while (BigInt(await rollupWatermark(db)) < BigInt(max)) {
    const r = await rollupRound(db);
    if (!r.ran) await sleep(20);
  }
}

describe('partitions', () => {
  test('the round creates today and the days ahead, once, whatever rounds run at the same time', async () => {
    // Two at once (and maybe other test files' servers too): the ones that do not get the lock skip, none fails.
    await Promise.all([storageRound(t.server.db), storageRound(t.server.db)]);
    await storage(t.server.db);
    const names = (await listPartitions(t.server.db)).map((p) => p.name);
    const today = new Date(Math.floor(Date.now() / DAY) * DAY);
    for (let k = 0; k <= 3; k++) expect(names).toContain(partitionName(new Date(today.getTime() + k * DAY)));
    expect((await storage(t.server.db)).created).toEqual([]);
  });

  test('a point of a day without partition lands in DEFAULT and is moved into its new partition', async () => {
    const { slug } = await createProject(t, 'part');
    const where = async (key: string) => t.server.db.query(
      `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM metric_point WHERE series_id = $1 GROUP BY 1`, [key]);
    const { key } = await storageLocked(async () => {
      await record(slug, [{ name: 'm', timestamp: '2002-05-06T07:08:09.010Z', value: 1 }, { name: 'm', timestamp: '2002-05-06T23:59:59.999Z', value: 2 }]);
      const s = await seriesOf(slug, 'm');
      expect(await where(s.key)).toEqual([{ part: 'metric_point_default', n: 2 }]);
      return s;
    });
    await storage(t.server.db);
    expect((await listPartitions(t.server.db)).map((p) => p.name)).toContain('metric_point_p20020506');
    expect(await where(key)).toEqual([{ part: 'metric_point_p20020506', n: 2 }]);
  });

  test('a reader that waits on the move reads every point once, before or after it', async () => {
    const { slug } = await createProject(t, 'move');
    const day = new Date('2002-07-08T00:00:00Z');
    const expected = { n: 500, s: (499 * 500) / 2 };
    const key = await storageLocked(async (mover) => {
      await record(slug, Array.from({ length: 500 }, (_, i) => ({ name: 'm', timestamp: new Date(day.getTime() + i * 1000).toISOString(), value: i })));
      const { key } = await seriesOf(slug, 'm');
      await mover.startTransaction();
      try {
        expect(await createPartition(mover.manager, day)).toBe(500);
        // Planned against the old partitions, it must wait for the commit and then still find every point.
        const read = t.server.db.query(`SELECT count(*)::int AS n, sum(value)::float8 AS s FROM metric_point WHERE series_id = $1`, [key]);
        const waiting = async () => (await t.server.db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT count(*)::int AS n, sum(value)::float8 AS s FROM metric_point%'`))[0].n;
        while ((await waiting()) === 0) await sleep(10);
        await mover.commitTransaction();
        expect(await read).toEqual([expected]);
      } finally {
        if (mover.isTransactionActive) await mover.rollbackTransaction();
      }
      return key;
    });
    expect(await t.server.db.query(`SELECT count(*)::int AS n, sum(value)::float8 AS s FROM metric_point WHERE series_id = $1`, [key])).toEqual([expected]);
    expect((await listPartitions(t.server.db)).map((p) => p.name)).toContain('metric_point_p20020708');
  });
});

describe('partition DDL and concurrent writers', () => {
  test('a writer whose series are all known locks metric_series before metric_point, as the DDL does: they wait, never deadlock', async () => {
    // A database of its own: the DDL lock below would hold up every other test file's writers.
    const scratch = await scratchDatabase();
    const own = await startTestServer({ DATABASE_URL: scratch.url, MODELGRAPH_STORAGE_INTERVAL_MS: '0', MODELGRAPH_ROLLUP_INTERVAL_MS: '0', MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0' });
    const ddl = new Client({ connectionString: scratch.url });
    try {
      const { slug } = await createProject(own, 'ddl');
      const batch = (value: number) => ({ input: { projectSlug: slug, points: [{ name: 'm', timestamp: new Date().toISOString(), value }] } });
      // The server now knows the series' id: the next batch skips the lookup, its path with no early write to metric_series.
      await own.ok(RECORD, batch(1));
      await ddl.connect();
      const [{ pid }] = (await ddl.query(`SELECT pg_backend_pid() AS pid`)).rows;
      await ddl.query('BEGIN');
      await ddl.query(`SET LOCAL lock_timeout = '60s'`);
      // The first lock of a storage step (lockForDdl in point-storage.ts).
      await ddl.query('LOCK TABLE metric_series IN SHARE ROW EXCLUSIVE MODE');
      const write = own.gql(RECORD, batch(2));
      // pg_locks and pg_blocking_pids are read live, not from this transaction's snapshot.
      const waiting = async () => Number((await ddl.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND $1 = ANY(pg_blocking_pids(pid))`, [pid])).rows[0].n);
      while ((await waiting()) === 0) await sleep(10);
      // The step's second lock. Had the writer written its points first, it would hold
      // metric_point while waiting for metric_series, and one of the two would die of a deadlock.
      await ddl.query('LOCK TABLE metric_point IN ACCESS EXCLUSIVE MODE');
      await ddl.query('COMMIT');
      const res = await write;
      expect(res.errors).toBeUndefined();
      expect(res.data.recordMetrics.accepted).toBe(1);
      expect((await own.server.db.query(`SELECT count(*)::int AS n FROM metric_point`))[0].n).toBe(2);
    } finally {
      await ddl.end();
      await own.stop();
      await scratch.drop();
    }
  });
});

describe('retention', () => {
  test('setMetricRetention: ADMIN of the project; null keeps everything; bad days refused', async () => {
    const { id, slug } = await createProject(t, 'ret');
    const read = async () => (await t.ok(`query($s: String!) { project(slug: $s) { metricRetentionDays } }`, { s: slug })).project.metricRetentionDays;
    expect(await read()).toBeNull();
    const editor = await createKey(t, 'EDITOR', slug);
    expect((await t.gql(RETENTION, { id, days: 7 }, editor)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    const admin = await createKey(t, 'ADMIN', slug);
    expect((await t.ok(RETENTION, { id, days: 7 }, admin)).setMetricRetention.metricRetentionDays).toBe(7);
    expect(await read()).toBe(7);
    for (const days of [0, -1, 36601]) expect((await t.gql(RETENTION, { id, days })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'days' });
    expect((await t.ok(RETENTION, { id, days: null })).setMetricRetention.metricRetentionDays).toBeNull();
    expect(await read()).toBeNull();
  });

  test('a day every project lets go is dropped whole; otherwise only the rows of projects past their retention go', async () => {
    const shared = '2003-01-02';
    const alone = '2003-01-03';
    const a = await createProject(t, 'reta');
    const b = await createProject(t, 'retb');
    const c = await createProject(t, 'retc');
    const at = (d: string, i: number) => new Date(Date.parse(`${d}T00:00:00Z`) + i * 60_000).toISOString();
    await record(a.slug, [...[0, 1, 2].map((i) => ({ name: 'm', timestamp: at(shared, i), value: i })), { name: 'm', timestamp: at(alone, 0), value: 9 }]);
    await record(b.slug, [0, 1].map((i) => ({ name: 'm', timestamp: at(shared, i), value: i })));
    await record(c.slug, [{ name: 'm', timestamp: at(alone, 5), value: 1 }]);
    // Recent points of A stay: they are younger than its retention.
    await record(a.slug, [{ name: 'recent', timestamp: new Date(Date.now() - 60_000).toISOString(), value: 1 }]);
    await storage(t.server.db);
    await rollUpAll(t.server.db);
    const count = async (slug: string) => (await t.server.db.query(
      `SELECT count(*)::int AS n FROM metric_point p JOIN project pr ON pr.id = p.project_id WHERE pr.slug = $1`, [slug]))[0].n;
    const rollups = async (slug: string) => (await t.server.db.query(
      `SELECT count(*)::int AS n FROM metric_rollup_1m r JOIN project pr ON pr.id = r.project_id WHERE pr.slug = $1`, [slug]))[0].n;
    expect([await count(a.slug), await count(b.slug), await count(c.slug)]).toEqual([5, 2, 1]);
    expect(await rollups(a.slug)).toBe(5);

    await t.ok(RETENTION, { id: a.id, days: 30 });
    await t.ok(RETENTION, { id: c.id, days: 30 });
    // Whichever server's round gets there first (others share this database), the outcome is the same.
    await storage(t.server.db);
    const names = (await listPartitions(t.server.db)).map((p) => p.name);
    expect(names).not.toContain('metric_point_p20030103');
    expect(names).toContain('metric_point_p20030102');
    // A: only its recent point; B keeps everything (no retention); C: nothing left.
    expect([await count(a.slug), await count(b.slug), await count(c.slug)]).toEqual([1, 2, 0]);
    expect(await rollups(a.slug)).toBe(1);
    expect(retentionCutoff(new Date('2026-12-03T10:00:00Z'), 30).toISOString()).toBe('2026-11-03T00:00:00.000Z');
  });
});

describe('rollups', () => {
  test('a transaction left open that wrote no point does not hold the round back', async () => {
    // Idle in transaction, in this database, with a transaction id but no write to metric_point.
    const idle = t.server.db.createQueryRunner();
    await idle.connect();
    try {
      await idle.startTransaction();
      await idle.query(`SELECT pg_current_xact_id()`);
      await rollupRound(t.server.db);
      // Still open: the round did not wait for it to end (nor for the idle timeout to end it).
      await expect(idle.query(`SELECT 1 AS one`)).resolves.toEqual([{ one: 1 }]);
    } finally {
      if (idle.isTransactionActive) await idle.rollbackTransaction();
      await idle.release();
    }
  });

  type Row = { id: string; ts: Date; value: number };
  const AGGS = ['AVG', 'MIN', 'MAX', 'SUM', 'COUNT', 'LAST', 'P50', 'P95', 'P99'] as const;

  /** percentile_cont by sorting. */
  const cont = (values: number[], q: number) => {
    const s = [...values].sort((x, y) => x - y);
    const r = q * (s.length - 1);
    return s[Math.floor(r)] + (r - Math.floor(r)) * (s[Math.ceil(r)] - s[Math.floor(r)]);
  };

  /** What a read must answer, computed from the raw points on the grid of planWindow. */
  async function reference(key: string, lo: Date, hi: Date, maxPoints: number, agg: (typeof AGGS)[number]) {
    const plan = planWindow(lo.getTime(), hi.getTime(), maxPoints)!;
    expect(plan).not.toBeNull();
    const rows: Row[] = await t.server.db.query(
      `SELECT id::text AS id, ts, value FROM metric_point WHERE series_id = $1 AND ts >= $2 AND ts < $3`, [key, lo.toISOString(), hi.toISOString()]);
    const buckets = new Map<number, Row[]>();
    for (const r of rows) {
      const b = Math.floor((r.ts.getTime() - plan.origin) / plan.widthMs);
      buckets.set(b, [...(buckets.get(b) ?? []), r]);
    }
    return [...buckets.entries()].sort((x, y) => x[0] - y[0]).map(([b, rs]) => {
      const vals = rs.map((r) => r.value);
      const last = [...rs].sort((x, y) => y.ts.getTime() - x.ts.getTime() || (BigInt(y.id) > BigInt(x.id) ? 1 : -1))[0].value;
      const sum = vals.reduce((s, v) => s + v, 0);
      const value = { AVG: sum / vals.length, MIN: Math.min(...vals), MAX: Math.max(...vals), SUM: sum, COUNT: vals.length, LAST: last,
        P50: cont(vals, 0.5), P95: cont(vals, 0.95), P99: cont(vals, 0.99) }[agg];
      return { timestamp: new Date(Math.max(plan.origin + b * plan.widthMs, lo.getTime())).toISOString(), value,
        min: Math.min(...vals), max: Math.max(...vals), count: vals.length };
    });
  }

  async function expectEquivalent(series: { id: string; key: string }, from: Date | null, lo: Date, hi: Date, maxPoints: number) {
    for (const agg of AGGS) {
      const got = (await t.ok(POINTS, { id: series.id, from: from?.toISOString(), to: hi.toISOString(), n: maxPoints, agg })).node.points;
      const want = await reference(series.key, lo, hi, maxPoints, agg);
      expect(got.map((p: { timestamp: string; count: number; min: number; max: number }) => [p.timestamp, p.count, p.min, p.max]))
        .toEqual(want.map((p) => [p.timestamp, p.count, p.min, p.max]));
      got.forEach((p: { value: number }, i: number) => {
        const tol = agg.startsWith('P') ? SKETCH_RELATIVE_ACCURACY * Math.abs(want[i].value) : 1e-9 * Math.max(1, Math.abs(want[i].value));
        if (Math.abs(p.value - want[i].value) > tol) throw new Error(`${agg} bucket ${i}: ${p.value} vs ${want[i].value} (from ${lo.toISOString()}, ${maxPoints} points)`);
      });
    }
  }

  test('points read from rollups answer as the raw points do: un-rolled, rolled, with late points, at unaligned edges', async () => {
    const { slug } = await createProject(t, 'roll');
    const t0 = Date.parse('2004-03-04T10:00:17.000Z');
    const N = 1600;
    // A point every 7 s for about 3 hours, values in (1, 101); every 50th point repeats the timestamp of the one before (LAST breaks the tie by id).
    const stamp = (i: number) => new Date(t0 + (i % 50 === 1 ? i - 1 : i) * 7000 + (i % 3)).toISOString();
    await storage(t.server.db);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'lat', timestamp: stamp(0), value: 1 }] } });
    const s = await seriesOf(slug, 'lat');
    const end = new Date(t0 + N * 7000);
    const windows: [Date | null, Date, Date, number][] = [
      [new Date(t0), new Date(t0), end, 2], // an hour or more per bucket
      [new Date(t0), new Date(t0), end, 10], // minutes
      [new Date(t0 + 25 * 60_000 + 13_000), new Date(t0 + 25 * 60_000 + 13_000), new Date(t0 + 170 * 60_000 + 7_000), 1], // raw, 1m, 1h, 1m, raw pieces
      [new Date(t0 + 37_500), new Date(t0 + 37_500), new Date(end.getTime() - 13_000), 7],
      [null, new Date(t0), end, 3], // without from: from the first point of the day before `to`
      [new Date('2004-03-04T11:00:00Z'), new Date('2004-03-04T11:00:00Z'), new Date('2004-03-04T13:00:00Z'), 2], // aligned on hours: rollups only
      [new Date(t0 + 43_000), new Date(t0 + 43_000), new Date(t0 + 43_000 + 119 * 60_000), 3], // aligned on minutes
    ];
    const check = async () => { for (const [from, lo, hi, n] of windows) await expectEquivalent(s, from, lo, hi, n); };

    // While no rollup round can run (this holds their lock): the new points are read raw, from the tail.
    await storageLocked(async () => {
      await record(slug, Array.from({ length: N - 1 }, (_, j) => j + 1).map((i) => ({ name: 'lat', timestamp: stamp(i), value: 1 + ((i * 7919) % 1000) / 10 })));
      await check();
    }, ROLLUP_LOCK);
    await rollUpAll(t.server.db);
    const [{ n }] = await t.server.db.query(`SELECT count(*)::int AS n FROM metric_rollup_1m WHERE series_id = $1`, [s.key]);
    expect(n).toBeGreaterThan(150);
    expect(BigInt(await rollupWatermark(t.server.db))).toBeGreaterThanOrEqual(BigInt((await t.server.db.query(
      `SELECT max(id)::text AS m FROM metric_point WHERE series_id = $1`, [s.key]))[0].m));
    await check();

    // Late points: old timestamps, new ids, including a new newest value for a tied timestamp, and a new minimum.
    const late = [
      { name: 'lat', timestamp: stamp(100), value: 555 },
      { name: 'lat', timestamp: new Date(t0 + 61 * 60_000 + 1).toISOString(), value: -3 },
      { name: 'lat', timestamp: stamp(1401), value: 0.25 },
    ];
    await storageLocked(async () => {
      await record(slug, late);
      await check(); // the late points come from the tail
    }, ROLLUP_LOCK);
    await rollUpAll(t.server.db);
    await check(); // and now from their corrected buckets
  });
});
