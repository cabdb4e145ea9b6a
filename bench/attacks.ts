/**
 * `npm run bench:attacks`: how much each known attack slows OTHER callers. A victim (its own
 * key and project) sends one simple read at a time and records its latency, first alone
 * (baseline), then while an attacker (another key, another project) repeats one attack with a
 * few requests in flight. The report gives, per attack, the victim's p50/p95/max against the
 * baseline measured in the same run, and what the attacker got back. Everything runs on
 * 127.0.0.1, bounded in time; the server runs as deployed (`node dist/src/app/main.js`).
 */
import 'reflect-metadata';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { freePort } from '../src/core/db/embedded-postgres';
import { createBenchDatabase } from './database';
import { ChildProcesses, waitForPort } from './processes';

const ROOT = path.resolve(__dirname, '..', '..');
const ADMIN_KEY = `bench-admin-${Date.now()}-attacks`;
const PHASE_MS = Number(process.env.BENCH_DURATION ?? 5) * 1000;
const IN_FLIGHT = 4;
const log = (m: string) => console.log(`[attacks] ${m}`);

interface Answer { status: number; code?: string; ms: number }

/** One GraphQL POST, timed; a network failure or an abort is status 0, code NETWORK. */
async function call(url: string, key: string | null, body: string, signal?: AbortSignal): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body, signal });
    const json = (await res.json().catch(() => ({}))) as { errors?: { extensions?: { code?: string } }[] };
    return { status: res.status, code: json.errors?.[0]?.extensions?.code, ms: performance.now() - t0 };
  } catch {
    return { status: 0, code: 'NETWORK', ms: performance.now() - t0 };
  }
}

interface AttackJob { url: string; key: string | null; body: string; ms: number }

/**
 * The attacker runs in a worker thread: sending and answering megabyte bodies on the victim's
 * own event loop would delay the victim's probe in this process and count against the server.
 */
async function attackInWorker(job: AttackJob): Promise<Answer[]> {
  const until = performance.now() + job.ms;
  const answers: Answer[] = [];
  // The attacker gives up on its requests when the phase ends, as a client with a timeout
  // would. One signal per request: a phase-wide signal would collect a listener per request.
  const stop = () => AbortSignal.timeout(Math.max(1, Math.ceil(until - performance.now())));
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < until) answers.push(await call(job.url, job.key, job.body, stop()));
  }));
  return answers;
}

function runAttacker(job: AttackJob): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: job });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`attacker worker exited ${code}`)); });
  });
}

async function main() {
  const db = await createBenchDatabase(process.env.DATABASE_URL ?? null, log);
  const children = new ChildProcesses();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'modelgraph-attacks-'));
  try {
    const port = await freePort();
    const server = children.start('ModelGraph', process.execPath, ['--max-semi-space-size=64', path.join(ROOT, 'dist', 'src', 'app', 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: 'error', MODELGRAPH_ADMIN_KEY: ADMIN_KEY, MODELGRAPH_DATA_DIR: dataDir },
    });
    await waitForPort(server, port, 60_000);
    const url = `http://127.0.0.1:${port}/graphql`;
    const gql = async (key: string, query: string, variables: Record<string, unknown> = {}) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
      const json = (await res.json()) as { data?: any; errors?: unknown[] };
      if (json.errors) throw new Error(JSON.stringify(json.errors).slice(0, 500));
      return json.data;
    };

    // Two tenants, each with its own key: the attacker's project holds a large metric series.
    const tenant = async (slug: string) => {
      await gql(ADMIN_KEY, `mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { id } } }`, { s: slug });
      const key = (await gql(ADMIN_KEY, `mutation($s: String!) { createApiKey(input: { name: $s, role: EDITOR, projectSlug: $s }) { secret } }`, { s: slug })).createApiKey.secret as string;
      const model = (await gql(key, `mutation($s: String!) { createModel(input: { projectSlug: $s, name: "m", kind: INTERNAL }) { model { id } } }`, { s: slug })).createModel.model.id;
      const version = (await gql(key, `mutation($m: ID!) { createModelVersion(input: { modelId: $m, artifact: { uri: "s3://m/1" } }) { modelVersion { id } } }`, { m: model })).createModelVersion.modelVersion.id;
      return { slug, key, version };
    };
    const victim = await tenant('victim');
    const attacker = await tenant('attacker');
    const POINTS = 100_000;
    for (let i = 0; i < POINTS; i += 5000) {
      const points = Array.from({ length: 5000 }, (_, j) => ({ modelVersionId: attacker.version, name: 'loss', timestamp: new Date(Date.UTC(2026, 0, 1) + (i + j) * 1000).toISOString(), value: Math.sin(i + j) }));
      await gql(attacker.key, `mutation($i: RecordMetricsInput!) { recordMetrics(input: $i) { accepted } }`, { i: { projectSlug: attacker.slug, points } });
    }
    await gql(attacker.key, `mutation($s: String!) { createFeatureSet(input: { projectSlug: $s, name: "fs", entityKey: "id", features: [{ name: "x", dtype: FLOAT }] }) { featureSet { id } } }`, { s: attacker.slug });
    const series = (await gql(attacker.key, `query($s: String!) { project(slug: $s) { metricSeries(first: 1) { nodes { id } } } }`, { s: attacker.slug })).project.metricSeries.nodes[0].id;
    log(`seeded two tenants; the attacker's series has ${POINTS} points`);

    const probeBody = JSON.stringify({ query: `query($s: String!) { project(slug: $s) { id models(first: 5) { nodes { id name } } } }`, variables: { s: victim.slug } });
    const probe = async (until: number) => {
      const ms: number[] = [];
      while (performance.now() < until) ms.push((await call(url, victim.key, probeBody)).ms);
      return ms;
    };
    const stats = (ms: number[]) => {
      const s = [...ms].sort((a, b) => a - b);
      const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
      return { n: s.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? NaN };
    };

    const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });
    const ATTACKS: { name: string; key: string | null; body: string }[] = [
      { name: '30,000 operations, no key', key: null, body: body(Array.from({ length: 30000 }, (_, i) => `query q${i} { viewer { name } }`).join('\n')) },
      { name: '30,000 operations, with a key', key: attacker.key, body: body(Array.from({ length: 30000 }, (_, i) => `query q${i} { viewer { name } }`).join('\n')) },
      { name: 'alias bomb (1,000 aliases)', key: attacker.key, body: body(`{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`) },
      { name: 'filter explosion (8,000 metric bounds)', key: attacker.key, body: body(`query($s: String!, $f: ModelVersionFilter!) { project(slug: $s) { searchModelVersions(filter: $f) { nodes { id } } } }`,
        { s: attacker.slug, f: { or: Array.from({ length: 8000 }, (_, i) => ({ metric: { name: `m${i}`, gte: i } })) } }) },
      { name: 'deep filter (2,000 levels)', key: attacker.key, body: `{"query":"query($s: String!, $f: ModelVersionFilter!) { project(slug: $s) { searchModelVersions(filter: $f) { nodes { id } } } }","variables":{"s":"attacker","f":${'{"or":['.repeat(2000)}{"status":"READY"}${']}'.repeat(2000)}}}` },
      { name: 'pool starvation (39 × points(maxPoints: 10000))', key: attacker.key, body: body(`query($id: ID!) { node(id: $id) { ... on MetricSeries { ${Array.from({ length: 39 }, (_, i) => `p${i}: points(from: "${new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()}", maxPoints: 10000) { value }`).join(' ')} } } }`, { id: series }) },
      { name: 'feature amplification (50 × 1,000 keys × 1,000 features)', key: attacker.key, body: body(`query($s: String!, $k: [String!]!, $f: [String!]!) { project(slug: $s) { featureSet(name: "fs") { ${Array.from({ length: 50 }, (_, i) => `a${i}: onlineFeatures(entityKeys: $k, features: $f) { entityKey }`).join(' ')} } } }`,
        { s: attacker.slug, k: Array.from({ length: 1000 }, (_, i) => `e${i}`), f: Array.from({ length: 1000 }, () => 'x') }) },
      { name: 'NUL bytes in every string', key: attacker.key, body: body(`query($s: String!) { project(slug: $s) { id } }`, { s: 'a\u0000'.repeat(1000) }) },
    ];

    const baseline = stats(await probe(performance.now() + PHASE_MS));
    log(`baseline: victim p50 ${baseline.p50.toFixed(1)} ms, p95 ${baseline.p95.toFixed(1)} ms over ${baseline.n} reads`);
    const rows: Record<string, unknown>[] = [];
    for (const a of ATTACKS) {
      const until = performance.now() + PHASE_MS;
      const [victimMs, answers] = await Promise.all([probe(until), runAttacker({ url, key: a.key, body: a.body, ms: PHASE_MS })]);
      // Work the server still does for abandoned requests must not count against the next attack.
      const settled = performance.now() + 60_000;
      let calm = 0;
      while (calm < 5 && performance.now() < settled) calm = (await call(url, victim.key, probeBody)).ms < 3 * baseline.p95 ? calm + 1 : 0;
      const v = stats(victimMs);
      const codes = [...new Set(answers.map((x) => `${x.status}${x.code ? ` ${x.code}` : ''}`))].join(', ');
      const row = { attack: a.name, attacks: answers.length, attackerGot: codes, attackerP50: stats(answers.map((x) => x.ms)).p50, victimN: v.n, victimP50: v.p50, victimP95: v.p95, victimMax: v.max, p95Ratio: v.p95 / baseline.p95 };
      rows.push(row);
      log(`${a.name}: attacker ${answers.length}× (${codes}), victim p50 ${v.p50.toFixed(1)} ms, p95 ${v.p95.toFixed(1)} ms (${row.p95Ratio.toFixed(2)}x baseline), max ${v.max.toFixed(0)} ms`);
    }
    console.log('\n| attack | attacker got | victim p50 ms | victim p95 ms | p95 vs baseline | victim max ms |\n| --- | --- | ---: | ---: | ---: | ---: |');
    console.log(`| (none: baseline) | | ${baseline.p50.toFixed(1)} | ${baseline.p95.toFixed(1)} | 1.00x | ${baseline.max.toFixed(0)} |`);
    for (const r of rows as { attack: string; attackerGot: string; victimP50: number; victimP95: number; p95Ratio: number; victimMax: number }[]) {
      console.log(`| ${r.attack} | ${r.attackerGot} | ${r.victimP50.toFixed(1)} | ${r.victimP95.toFixed(1)} | ${r.p95Ratio.toFixed(2)}x | ${r.victimMax.toFixed(0)} |`);
    }
    await mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true });
    await writeFile(path.join(ROOT, 'bench', 'results', `attacks-${Date.now()}.json`), JSON.stringify({ baseline, rows }, null, 2));
  } finally {
    await children.stopAll();
    await db.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
} else {
  void attackInWorker(workerData as AttackJob).then((answers) => parentPort!.postMessage(answers));
}
