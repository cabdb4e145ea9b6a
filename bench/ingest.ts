/**
 * `npm run bench:ingest`: metric ingestion through GraphQL against binary COPY, in one run.
 *
 * The server runs as deployed (`node dist/src/app/main.js`) on a database made for the run
 * (DATABASE_URL's server, else the embedded PostgreSQL). Every phase writes the same shape:
 * batches of 5,000 points over 1,000 series (one model version, 10 names x 100 `shard`
 * labels), 4 batches in flight, BATCHES batches per phase. Phases alternate, ROUNDS times:
 *
 *  - recordMetrics: point objects, one HTTP request per batch, answered after commit;
 *  - recordMetricColumns: the same points as 1,000 series blocks of 5 timestamps and values;
 *  - recordUsage: batches of 5,000 usage records (requests of one priced model version, 1 ms apart,
 *    one in ten an error), 4 in flight, as recordMetrics' batches of 5,000 points: records/s side by
 *    side with recordMetrics' points/s (target: at least USAGE_TARGET of it). Each call stores the
 *    records and writes their usage.* points (5,000 latency points and the per-second totals);
 *  - COPY: binary COPY of the same rows, 4 connections, one transaction per batch, into
 *    `bench_copy_point`, made LIKE metric_point INCLUDING ALL (identity, indexes) plus the same
 *    foreign key to metric_series: the same table shape doing the same checks.
 *
 * Request bodies and COPY buffers are not built inside the timing: the client's own cost is
 * not the server's. The COPY peer encodes its rows inside the timing (as the server does).
 *
 * Then the write path alone (SQL, no HTTP), same rows, alternating: binary COPY against one
 * typed `INSERT ... SELECT FROM unnest($::uuid[], $::timestamptz[], $::float8[])`.
 *
 * Then NOTIFY at commit: 8 writers, 10 points per transaction, for NOTIFY_SECONDS each:
 * (a) pg_notify inside the writing transaction (what recordMetrics did), (b) no notification,
 * (c) no notification in the transaction and the after-commit PointsAnnouncer (coalesced, not
 * awaited by the writer, as in the server).
 *
 * Writes `bench/results/ingest-<time>.json` and the `ingest` section of BENCHMARKS.md.
 */
import 'reflect-metadata';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { freePort } from '../src/core/db/embedded-postgres';
import { createDataSource } from '../src/app/database';
import { SqlStatementCounter } from '../src/core/db/data-source';
import { PointsAnnouncer } from '../src/core/events/points-announcer';
import { POINTS_CHANNEL } from '../src/core/events/channels';
import { encodePoints, uuidBytes } from '../src/modules/monitoring/points-copy';
import { createBenchDatabase } from './database';
import { ChildProcesses, waitForPort } from './processes';
import { describeMachine, writeSection } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
const ADMIN_KEY = `bench-admin-${Date.now()}-ingest`;
const BATCH = 5000;
const SERIES = 1000;
const IN_FLIGHT = 4;
const BATCHES = Number(process.env.BENCH_INGEST_BATCHES ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NOTIFY_SECONDS = Number(process.env.BENCH_NOTIFY_SECONDS ?? 5);
/**
 * Batches each path writes, untimed, before the first timed round: the server's JIT, the
 * database's caches and today's partitions warm up for every path alike. Without it the first
 * timed phase (recordMetrics) paid for all of that: its first rounds ran 0.54x and 0.58x of COPY
 * where its second ran 0.83x and 0.91x.
 */
const WARMUP_BATCHES = Number(process.env.BENCH_INGEST_WARMUP_BATCHES ?? 10);
const WRITERS = 8;
const SMALL = 10;
const TARGET = 0.6;
/** recordUsage's records/s against recordMetrics' points/s (issue 8). */
const USAGE_TARGET = 0.5;
/** Extra node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes. */
const SERVER_FLAGS = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const log = (m: string) => console.log(`[ingest] ${m}`);
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s. */
const CLOCK_TICKS = 100;

/** Runs `n` tasks, `width` at a time; resolves with the elapsed ms. */
async function inFlight(n: number, width: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await task(next++);
  }));
  return performance.now() - t0;
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 if it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at index 2 of this split: utime, stime are 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds of each process, summed per group, between start() and the returned stop(). */
function cpuMeter(groups: () => Promise<Record<string, number[]>>) {
  return async () => {
    const before = new Map<number, number>();
    for (const pids of Object.values(await groups())) for (const pid of pids) before.set(pid, await cpuSeconds(pid));
    return async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const [group, pids] of Object.entries(await groups())) {
        let sum = 0;
        for (const pid of pids) sum += (await cpuSeconds(pid)) - (before.get(pid) ?? 0);
        out[group] = sum;
      }
      return out;
    };
  };
}

async function copyInto(c: Client, table: string, data: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = c.query(copyFrom(`COPY ${table} (project_id, series_id, ts, value) FROM STDIN (FORMAT binary)`));
    s.on('error', reject);
    s.on('finish', () => resolve());
    s.end(data);
  });
}

async function main() {
  const db = await createBenchDatabase(process.env.DATABASE_URL ?? null, log);
  const children = new ChildProcesses();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'modelgraph-ingest-'));
  const clients: Client[] = [];
  let agent: http.Agent | undefined;
  try {
    const port = await freePort();
    const server = children.start('ModelGraph', process.execPath, ['--max-semi-space-size=64', ...SERVER_FLAGS, path.join(ROOT, 'dist', 'src', 'app', 'main.js')], {
      cwd: ROOT,
      env: {
        ...process.env, DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: 'error', MODELGRAPH_ADMIN_KEY: ADMIN_KEY,
        MODELGRAPH_DATA_DIR: dataDir, MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0',
      },
    });
    await waitForPort(server, port, 60_000);
    // node:http with bodies encoded ahead: the client's own work is kept small, since it runs on
    // the same cores as the server and the database (fetch cost about a third of a core here).
    // Idle sockets are dropped after 4 s, before the server's keep-alive timeout (Node's 5 s)
    // closes them: otherwise a request sent on a socket as the server closes it fails with
    // "socket hang up" (seen when the COPY phase between two GraphQL phases took over 5 s).
    agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT, timeout: 4000 });
    const post = (key: string, body: string | Buffer) => new Promise<any>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString()) as { data?: any; errors?: unknown[] };
            if (json.errors) reject(new Error(JSON.stringify(json.errors).slice(0, 500)));
            else resolve(json.data);
          } catch (err) { reject(err); }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    const gql = (key: string, query: string, variables: Record<string, unknown> = {}) => post(key, JSON.stringify({ query, variables }));

    const slug = 'ingest';
    await gql(ADMIN_KEY, `mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { id } } }`, { s: slug });
    const key = (await gql(ADMIN_KEY, `mutation($s: String!) { createApiKey(input: { name: $s, role: EDITOR, projectSlug: $s }) { secret } }`, { s: slug })).createApiKey.secret as string;
    const model = (await gql(key, `mutation($s: String!) { createModel(input: { projectSlug: $s, name: "m", kind: INTERNAL }) { model { id } } }`, { s: slug })).createModel.model.id;
    const version = (await gql(key, `mutation($m: ID!) { createModelVersion(input: { modelId: $m, artifact: { uri: "s3://m/1" } }) { modelVersion { id } } }`, { m: model })).createModelVersion.modelVersion.id as string;

    const priced = (await gql(key, `mutation($m: ID!) { createModelVersion(input: { modelId: $m, artifact: null,
      externalApi: { provider: "bench", modelId: "m", inputCostPerMillionTokens: 2, outputCostPerMillionTokens: 6 } }) { modelVersion { id } } }`, { m: model }))
      .createModelVersion.modelVersion.id as string;
    let usageBatch = 0;
    const usageBody = (t0: number) => {
      const b = usageBatch++;
      return JSON.stringify({
        query: `mutation($i: RecordUsageInput!) { recordUsage(input: $i) { accepted } }`,
        variables: { i: { projectSlug: slug, records: Array.from({ length: BATCH }, (_, j) => ({
          requestId: `u${b}-${j}`, modelVersionId: priced, inputTokens: 200 + (j % 800), outputTokens: 50 + (j % 300), latencyMs: 20 + (j % 500),
          error: j % 10 === 0, timestamp: new Date(t0 + j).toISOString(),
        })) } },
      });
    };

    const name = (s: number) => `bench.metric_${s % 10}`;
    const shard = (s: number) => String(Math.floor(s / 10));
    // Recent times, as live writers send: today's partition exists, so nothing lands in DEFAULT.
    // (Times 20 days back went to DEFAULT, and the storage round's move of them into a new
    // partition held metric_point locked for seconds, timing writers out: a backfill, not ingest.)
    // The phases' points end at most now: batch b, point j is at base + 5,000 b + j ms, and the
    // warm-up, the timed rounds and the write-path phase take 5,000 ms of that clock a batch.
    const plannedBatches = 1 + 4 * WARMUP_BATCHES + 4 * ROUNDS * BATCHES + 2 * 3 * ROUNDS;
    const base = Date.now() - plannedBatches * BATCH - 60_000;
    // Batch b, point j: series (j % 1000), one millisecond apart; every phase writes its own times.
    let clock = 0;
    const batchTimes = () => { const t0 = base + clock; clock += BATCH; return t0; };
    const pointsBody = (t0: number) => JSON.stringify({
      query: `mutation($i: RecordMetricsInput!) { recordMetrics(input: $i) { accepted } }`,
      variables: { i: { projectSlug: slug, points: Array.from({ length: BATCH }, (_, j) => ({
        modelVersionId: version, name: name(j % SERIES), labels: { shard: shard(j % SERIES) }, timestamp: new Date(t0 + j).toISOString(), value: Math.sin(t0 + j),
      })) } },
    });
    const columnsBody = (t0: number) => JSON.stringify({
      query: `mutation($i: RecordMetricColumnsInput!) { recordMetricColumns(input: $i) { accepted } }`,
      variables: { i: { projectSlug: slug, series: Array.from({ length: SERIES }, (_, s) => {
        const js = Array.from({ length: BATCH / SERIES }, (_, k) => s + k * SERIES);
        return { modelVersionId: version, name: name(s), labels: { shard: shard(s) }, timestamps: js.map((j) => new Date(t0 + j).toISOString()), values: js.map((j) => Math.sin(t0 + j)) };
      }) } },
    });

    // One warm-up batch creates the 1,000 series; the COPY peer then writes the same series ids.
    await post(key, pointsBody(batchTimes()));
    for (let i = 0; i < IN_FLIGHT; i++) {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      clients.push(c);
    }
    const [admin] = clients;
    await admin.query(`CREATE TABLE bench_copy_point (LIKE metric_point INCLUDING ALL)`);
    await admin.query(`ALTER TABLE bench_copy_point ADD FOREIGN KEY (project_id, series_id) REFERENCES metric_series (project_id, id) ON DELETE CASCADE`);
    const [{ project_id: projectId }] = (await admin.query(`SELECT project_id FROM metric_series LIMIT 1`)).rows;
    const ids: { id: string; name: string; shard: string }[] = (await admin.query(`SELECT id, name, labels->>'shard' AS shard FROM metric_series WHERE project_id = $1`, [projectId])).rows;
    const idOf = new Map(ids.map((r) => [`${r.name}|${r.shard}`, r.id]));
    const seriesIds = Array.from({ length: SERIES }, (_, s) => idOf.get(`${name(s)}|${shard(s)}`)!);
    if (seriesIds.some((x) => !x)) throw new Error('warm-up did not create the 1,000 series');
    const seriesBytes = seriesIds.map(uuidBytes);
    const projectBytes = uuidBytes(projectId);
    const seriesOf = Int32Array.from({ length: BATCH }, (_, j) => j % SERIES);

    const phases = { points: [] as number[], columns: [] as number[], copy: [] as number[], usage: [] as number[] };
    // CPU seconds a phase costs, split by who spent them: the ModelGraph process, the database
    // sessions serving it (its pool: requests, rollup rounds, announcements), and the sessions of
    // the COPY peer. Sessions of other databases on the server are not counted, nor PostgreSQL's
    // own background processes (WAL writer, checkpointer, autovacuum). Unlike points/s, this does
    // not move with whatever else the machine runs.
    const peerPids = new Set<number>();
    for (const c of clients) peerPids.add((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const cpu = cpuMeter(async () => {
      const pids: number[] = (await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`)).rows.map((r) => r.pid);
      return { server: [server.proc.pid!], serverSessions: pids.filter((p) => !peerPids.has(p)), peerSessions: pids.filter((p) => peerPids.has(p)) };
    });
    const cpuPerMillion = { points: [] as Record<string, number>[], columns: [] as Record<string, number>[], copy: [] as Record<string, number>[], usage: [] as Record<string, number>[] };
    /** Waits until the rollup round has merged every point of metric_point, so that a phase's CPU includes its rollups. */
    const rolledUp = async () => {
      for (;;) {
        const [{ behind }] = (await admin.query(
          `SELECT (SELECT coalesce(max(id), 0) FROM metric_point) > (SELECT watermark FROM metric_rollup_state WHERE name = 'points') AS behind`)).rows;
        if (!behind) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const measure = async (phase: keyof typeof phases, batches = BATCHES, timed = true) => {
      const starts = Array.from({ length: batches }, batchTimes);
      let ms: number;
      const stopCpu = await cpu();
      if (phase === 'copy') {
        ms = await inFlight(batches, IN_FLIGHT, async (i) => {
          const c = clients[i % IN_FLIGHT];
          const t0 = starts[i];
          const ts = new Float64Array(BATCH), vs = new Float64Array(BATCH);
          for (let j = 0; j < BATCH; j++) { ts[j] = t0 + j; vs[j] = Math.sin(t0 + j); }
          await c.query('BEGIN');
          await copyInto(c, 'bench_copy_point', encodePoints(projectBytes, seriesBytes, seriesOf, ts, vs));
          await c.query('COMMIT');
        });
      } else {
        const bodies = starts.map((t0) => Buffer.from(phase === 'points' ? pointsBody(t0) : phase === 'usage' ? usageBody(t0) : columnsBody(t0)));
        ms = await inFlight(batches, IN_FLIGHT, async (i) => { await post(key, bodies[i]); });
      }
      const rate = (batches * BATCH) / (ms / 1000);
      if (phase !== 'copy') await rolledUp();
      const spent = await stopCpu();
      if (!timed) return;
      phases[phase].push(rate);
      const perMillion = Object.fromEntries(Object.entries(spent).map(([k, v]) => [k, v / ((BATCHES * BATCH) / 1e6)]));
      cpuPerMillion[phase].push(perMillion);
      const unit = phase === 'usage' ? 'records' : 'points';
      log(`${phase}: CPU s per million ${unit}: ${Object.entries(perMillion).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
      log(`${phase}: ${BATCHES} x ${BATCH} ${unit} in ${ms.toFixed(0)} ms = ${Math.round(rate)} ${unit}/s`);
    };
    try {
      await rolledUp();
      for (const p of ['points', 'usage', 'copy', 'columns'] as const) await measure(p, WARMUP_BATCHES, false);
      for (let r = 0; r < ROUNDS; r++) for (const p of ['points', 'usage', 'copy', 'columns'] as const) await measure(p);
    } catch (err) {
      console.error(`the server's last output:\n${server.output()}`);
      throw err;
    }
    // The points of the bench.* series: recordUsage's usage.* points are counted by its own check below.
    const [{ n: stored }] = (await admin.query(`SELECT count(*)::int AS n FROM metric_point p JOIN metric_series s ON s.id = p.series_id WHERE s.name LIKE 'bench.%'`)).rows;
    const expected = (1 + 2 * (ROUNDS * BATCHES + WARMUP_BATCHES)) * BATCH;
    if (stored !== expected) throw new Error(`metric_point holds ${stored} points, expected ${expected}`);
    const [{ n: usageStored }] = (await admin.query(`SELECT count(*)::int AS n FROM usage_record`)).rows;
    const usageExpected = (ROUNDS * BATCHES + WARMUP_BATCHES) * BATCH;
    if (usageStored !== usageExpected) throw new Error(`usage_record holds ${usageStored} records, expected ${usageExpected}`);

    // The write path alone: COPY against a typed unnest, same rows, same table, one connection each in turn.
    const pathRates = { copy: [] as number[], unnest: [] as number[] };
    for (let r = 0; r < 3 * ROUNDS; r++) {
      for (const kind of ['copy', 'unnest'] as const) {
        const t0 = batchTimes();
        const ts = new Float64Array(BATCH), vs = new Float64Array(BATCH);
        for (let j = 0; j < BATCH; j++) { ts[j] = t0 + j; vs[j] = Math.sin(t0 + j); }
        const start = performance.now();
        await admin.query('BEGIN');
        if (kind === 'copy') await copyInto(admin, 'bench_copy_point', encodePoints(projectBytes, seriesBytes, seriesOf, ts, vs));
        else {
          await admin.query(`INSERT INTO bench_copy_point (project_id, series_id, ts, value) SELECT $1::uuid, k.* FROM unnest($2::uuid[], $3::timestamptz[], $4::float8[]) k`,
            [projectId, Array.from(seriesOf, (s) => seriesIds[s]), Array.from(ts, (x) => new Date(x).toISOString()), Array.from(vs)]);
        }
        await admin.query('COMMIT');
        pathRates[kind].push(BATCH / ((performance.now() - start) / 1000));
      }
    }

    // NOTIFY at commit, 8 writers of 10 points a transaction.
    const writers: Client[] = [];
    for (let i = 0; i < WRITERS; i++) {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      writers.push(c);
    }
    const ds = createDataSource(db.url, 4, new SqlStatementCounter());
    await ds.initialize();
    const notify = { inTx: [] as number[], none: [] as number[], afterCommit: [] as number[] };
    try {
      // Three rounds, each in another order: the table grows as the phases write, so a fixed
      // order would favour whichever mode runs first.
      const modes = ['inTx', 'none', 'afterCommit'] as const;
      for (let r = 0; r < 3; r++) {
        for (const mode of [...modes.slice(r), ...modes.slice(0, r)]) {
          const announcer = new PointsAnnouncer(ds);
          let txs = 0;
          const until = performance.now() + NOTIFY_SECONDS * 1000;
          const t0 = performance.now();
          await Promise.all(writers.map(async (c, w) => {
            while (performance.now() < until) {
              const tb = batchTimes();
              const sids = Array.from({ length: SMALL }, (_, j) => seriesIds[(w * SMALL + j) % SERIES]);
              await c.query('BEGIN');
              await c.query(
                `INSERT INTO metric_point (project_id, series_id, ts, value) SELECT $1::uuid, k.* FROM unnest($2::uuid[], $3::timestamptz[], $4::float8[]) k`,
                [projectId, sids, sids.map((_, j) => new Date(tb + j).toISOString()), sids.map((_, j) => j)]);
              if (mode === 'inTx') await c.query(`SELECT pg_notify('${POINTS_CHANNEL}', $1::text)`, [projectId]);
              await c.query('COMMIT');
              // As the server does: announced after commit, not waited for.
              if (mode === 'afterCommit') void announcer.announce(projectId);
              txs++;
            }
          }));
          const rate = txs / ((performance.now() - t0) / 1000);
          notify[mode].push(rate);
          log(`NOTIFY ${mode}: ${WRITERS} writers, ${Math.round(rate)} transactions/s (${Math.round(rate * SMALL)} points/s)`);
        }
      }
    } finally {
      await ds.destroy();
      for (const c of writers) await c.end();
    }

    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const mean = (xs: number[]) => sum(xs) / xs.length;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const result = {
      machine: describeMachine(db.serverVersion, db.origin),
      batches: BATCHES, batch: BATCH, series: SERIES, inFlight: IN_FLIGHT, rounds: ROUNDS, warmupBatches: WARMUP_BATCHES,
      pointsPerSecond: { recordMetrics: mean(phases.points), recordMetricColumns: mean(phases.columns), copy: mean(phases.copy) },
      ratio: { recordMetrics: mean(phases.points) / mean(phases.copy), recordMetricColumns: mean(phases.columns) / mean(phases.copy) },
      usage: { recordsPerSecond: mean(phases.usage), perRecordMetricsPoint: mean(phases.usage) / mean(phases.points) },
      writePath: { copy: mean(pathRates.copy), unnest: mean(pathRates.unnest) },
      cpuPerMillion: Object.fromEntries(Object.entries(cpuPerMillion).map(([phase, runs]) => [phase, {
        server: mean(runs.map((x) => x.server)), serverSessions: mean(runs.map((x) => x.serverSessions)), peerSessions: mean(runs.map((x) => x.peerSessions)),
      }])) as Result['cpuPerMillion'],
      // Medians: a 5-second phase that meets a checkpoint or an autovacuum of the table drops far
      // below the others, and one such phase would move a mean of three.
      notify: { inTx: median(notify.inTx), none: median(notify.none), afterCommit: median(notify.afterCommit) },
      raw: { phases, pathRates, notify },
    };
    console.log(JSON.stringify(result, null, 2));
    await mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true });
    await writeFile(path.join(ROOT, 'bench', 'results', `ingest-${Date.now()}.json`), JSON.stringify(result, null, 2));
    await writeIngestSection(result);
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
    agent?.destroy();
    await children.stopAll();
    await db.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

type Result = {
  machine: ReturnType<typeof describeMachine>; batches: number; rounds: number; warmupBatches: number;
  pointsPerSecond: { recordMetrics: number; recordMetricColumns: number; copy: number };
  ratio: { recordMetrics: number; recordMetricColumns: number };
  usage: { recordsPerSecond: number; perRecordMetricsPoint: number };
  writePath: { copy: number; unnest: number };
  cpuPerMillion: Record<'points' | 'columns' | 'copy' | 'usage', { server: number; serverSessions: number; peerSessions: number }>;
  notify: { inTx: number; none: number; afterCommit: number };
  raw: { phases: { points: number[]; columns: number[]; copy: number[]; usage: number[] } };
};

/** Replaces (or appends) the section between the ingest markers of BENCHMARKS.md. */
async function writeIngestSection(r: Result): Promise<void> {
  const k = (n: number) => Math.round(n).toLocaleString('en-US');
  const met = (x: number) => (x >= TARGET ? 'met' : 'MISSED');
  const m = r.machine;
  const section = `<!-- ingest:start -->
## Ingest: recordMetrics against binary COPY

\`npm run bench:ingest\`, ${new Date().toISOString().slice(0, 10)}; ${m.postgres.split(' ').slice(0, 2).join(' ')} (${m.postgresOrigin}); ${m.cpu}, ${m.cores} cores.
Batches of 5,000 points over 1,000 series (one model version, 10 names x 100 labels), 4 in flight, ${r.batches} batches a phase,
phases alternating, ${r.rounds} rounds after an untimed warm-up of ${r.warmupBatches} batches per path, server started as deployed (\`node dist/src/app/main.js\`). The COPY peer writes the same
rows with binary COPY, one transaction per batch, 4 connections, into a table made \`LIKE metric_point INCLUDING ALL\` with the
same foreign key to metric_series.

| Path | points/s | / COPY | Target | |
| --- | ---: | ---: | ---: | --- |
| binary COPY (peer) | ${k(r.pointsPerSecond.copy)} | 1.00x | | |
| recordMetrics (point objects) | ${k(r.pointsPerSecond.recordMetrics)} | **${r.ratio.recordMetrics.toFixed(2)}x** | >= ${TARGET}x | ${met(r.ratio.recordMetrics)} |
| recordMetricColumns (columns) | ${k(r.pointsPerSecond.recordMetricColumns)} | **${r.ratio.recordMetricColumns.toFixed(2)}x** | >= ${TARGET}x | ${met(r.ratio.recordMetricColumns)} |

recordUsage, side by side (same run, phases alternating): batches of 5,000 usage records of one priced model version
(4 in flight, as above), each stored with its price and cost and feeding the usage.* series (a latency point per record,
per-second totals for the rest; about 5,025 points a batch). The records go in with one binary COPY (an INSERT that
skips taken request ids only when the COPY meets one), so a record costs about a point's work twice: its row and its latency point.

| Path | records/s | / recordMetrics points/s | Target | |
| --- | ---: | ---: | ---: | --- |
| recordUsage (record objects) | ${k(r.usage.recordsPerSecond)} | **${r.usage.perRecordMetricsPoint.toFixed(2)}x** | >= ${USAGE_TARGET}x | ${r.usage.perRecordMetricsPoint >= USAGE_TARGET ? 'met' : 'MISSED'} |

Per round (recordUsage / recordMetrics): ${r.raw.phases.usage.map((u, i) => `${(u / r.raw.phases.points[i]).toFixed(2)}x`).join('; ')}.

What separates recordMetrics from COPY, per 5,000-point batch: the server parses and coerces the
request (JSON and GraphQL variables; the points stay plain objects, not type-graphql instances:
\`@PlainArgs\`), checks them in one pass, takes the series ids it already
knows from its cache (a batch of new series looks them up), writes the audit row, COPYs the same
rows as the peer, and moves each series' newest point (1,000 HOT row updates); after commit it
announces the points (at most one notifying statement per 20 ms) and, every 5 s, the rollup round
reads the new points back into the minute and hour rollups. The server's JavaScript and
PostgreSQL share the machine's 2 cores, so the CPU table below says where the difference goes.

CPU seconds per million points, by who spent them (from /proc, same run; a GraphQL phase counts until the
rollup round has merged its points, since that work is part of taking them in; PostgreSQL's background
processes are not counted):

| Path | ModelGraph process | its database sessions | COPY's sessions | the path's own | / COPY |
| --- | ---: | ---: | ---: | ---: | ---: |
${(['copy', 'points', 'columns', 'usage'] as const).map((p) => {
    const c = r.cpuPerMillion[p];
    // Each path's own: COPY is its sessions; a GraphQL path, the server and its sessions (the
    // other column shows what idled alongside: the server's empty rounds, the peer's polling).
    const own = (x: typeof c, q: typeof p) => (q === 'copy' ? x.peerSessions : x.server + x.serverSessions);
    const total = own(c, p);
    const copyTotal = own(r.cpuPerMillion.copy, 'copy');
    return `| ${{ copy: 'binary COPY (peer)', points: 'recordMetrics', columns: 'recordMetricColumns', usage: 'recordUsage (per million records)' }[p]} | ${c.server.toFixed(2)} | ${c.serverSessions.toFixed(2)} | ${c.peerSessions.toFixed(2)} | ${total.toFixed(2)} | ${(total / copyTotal).toFixed(2)}x |`;
  }).join('\n')}

Per round (recordMetrics / COPY, recordMetricColumns / COPY): ${r.raw.phases.points.map((p, i) => `${(p / r.raw.phases.copy[i]).toFixed(2)}x, ${(r.raw.phases.columns[i] / r.raw.phases.copy[i]).toFixed(2)}x`).join('; ')}.

Write path alone (SQL, one batch of 5,000 at a time, same run): binary COPY ${k(r.writePath.copy)} points/s, typed
\`unnest\` ${k(r.writePath.unnest)} points/s (${(r.writePath.copy / r.writePath.unnest).toFixed(2)}x); the server writes with COPY.

NOTIFY at commit, 8 writers, 10 points per transaction (SQL level, same run; three 5 s phases of each, in rotating order, median):

| Wake-up | transactions/s | / none |
| --- | ---: | ---: |
| none | ${k(r.notify.none)} | 1.00x |
| pg_notify in the writing transaction (before) | ${k(r.notify.inTx)} | ${(r.notify.inTx / r.notify.none).toFixed(2)}x |
| after commit, coalesced (PointsAnnouncer, now) | ${k(r.notify.afterCommit)} | ${(r.notify.afterCommit / r.notify.none).toFixed(2)}x |
<!-- ingest:end -->`;
  await writeSection('ingest', section);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
