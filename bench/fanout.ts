/**
 * Fan-out benchmark (`npm run bench:fanout`): `metricPoints` subscribers of one model version
 * on ModelGraph against a bare `ws` broadcast server sending the same payloads, at 1,000 and
 * 10,000 subscribers, in one run:
 *
 *  - latency: one point a second, from the write's acknowledgement (recordMetrics answered;
 *    the peer's POST answered) to each subscriber's receipt of it, p50/p99 over every pair;
 *  - throughput: writes back to back; point deliveries a second (points times subscribers,
 *    over the time from the first write to the last receipt);
 *  - memory: the server's RSS with the subscribers connected and idle, less its RSS before,
 *    per subscriber.
 *
 * Subscribers are graphql-ws clients in a few forked processes, 100 subscriptions a socket (as
 * a dashboard multiplexes its panels over one socket). Each server is a fresh process per
 * scale, started as deployed. Writes `<!-- fanout:start -->`..`<!-- fanout:end -->` in
 * BENCHMARKS.md (appended when absent) and bench/results/fanout-*.json.
 */
import { ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../src/core/db/embedded-postgres';
import { createBenchDatabase } from './database';
import { ChildProcesses, waitForPort } from './processes';
import { writeSection } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
const ADMIN_KEY = `bench-fanout-admin-${process.pid}-0123456789abcdef`;
const PER_SOCKET = 100;
const log = (msg: string) => process.stderr.write(`[fanout] ${msg}\n`);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function int(name: string, dflt: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number.parseInt(v, 10);
}
const SCALES = (process.env.BENCH_FANOUT_SCALES ?? '1000,10000').split(',').map(Number);
const WRITES = int('BENCH_FANOUT_WRITES', 20);
const INTERVAL_MS = int('BENCH_FANOUT_INTERVAL_MS', 1000);
const BURST = int('BENCH_FANOUT_BURST', 100);
const CLIENT_PROCS = int('BENCH_FANOUT_CLIENTS', 2);
const BURST_IN_FLIGHT = int('BENCH_FANOUT_BURST_IN_FLIGHT', 16);
const MEMORY_SUBSCRIBERS = int('BENCH_FANOUT_MEMORY_SUBSCRIBERS', 2000);

const QUERY = `subscription($s: String!, $filter: MetricStreamFilter!) { metricPoints(projectSlug: $s, filter: $filter) { cursor points { timestamp value } } }`;

/** The Node flags of the Dockerfile's CMD, so that the server runs as it ships. */
function deployedNodeFlags(): string[] {
  try {
    const m = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    const cmd: unknown = m ? JSON.parse(m[1]) : null;
    if (Array.isArray(cmd) && cmd[0] === 'node') return cmd.slice(1, -1).map(String);
  } catch {
    // No Dockerfile: plain node.
  }
  return [];
}

function peerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(MODELGRAPH_|DATABASE_|BENCH_)/.test(k) || ['PORT', 'HOST', 'LOG_LEVEL', 'NODE_ENV'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, NODE_ENV: 'production', HOST: '127.0.0.1', ...extra };
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** A forked process of subscribers, driven over IPC. */
class ClientProcess {
  private readonly proc: ChildProcess;
  private readonly waiting = new Map<string, (m: any) => void>();
  closes: number[] = [];
  constructor() {
    this.proc = fork(path.join(__dirname, 'fanout-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    process.on('exit', () => this.proc.kill('SIGKILL'));
    this.proc.on('message', (m: any) => {
      if (m.type === 'fatal') {
        log(`client failed: ${m.error}`);
        process.exitCode = 1;
      } else if (m.type === 'closed') {
        this.closes.push(m.code);
      }
      const w = this.waiting.get(m.type);
      if (w) {
        this.waiting.delete(m.type);
        w(m);
      }
    });
  }
  ask<T = any>(message: Record<string, unknown>, answer: string): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.set(answer, resolve);
      this.proc.send(message);
    });
  }
  kill() { this.proc.kill('SIGKILL'); }
}

interface Target {
  label: string;
  pid: number;
  wsUrl: string;
  authorization: string | null;
  variables: Record<string, unknown>;
  /** Writes point `value`; resolves when acknowledged. */
  write(value: number): Promise<void>;
}

interface ScaleResult {
  peer: string;
  subscribers: number;
  rssBeforeMiB: number;
  rssIdleMiB: number;
  kibPerSubscriber: number;
  p50: number;
  p99: number;
  max: number;
  delivered: number;
  expected: number;
  deliveriesPerSec: number;
  /** WebSocket messages a second in the burst (ModelGraph puts the points that arrive together in one event per series). */
  messagesPerSec: number;
  /** How long a write took to be acknowledged during the burst (median). */
  burstWriteP50: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function runScale(target: Target, subscribers: number): Promise<ScaleResult> {
  const procs = Math.max(1, Math.min(CLIENT_PROCS, Math.ceil(subscribers / 1000)));
  const sockets = Math.ceil(subscribers / PER_SOCKET);
  const clients = Array.from({ length: procs }, () => new ClientProcess());
  const total = async () => {
    const s = await Promise.all(clients.map((c) => c.ask<{ received: number; messages: number; lastAt: number }>({ type: 'stats' }, 'stats')));
    return { received: s.reduce((a, b) => a + b.received, 0), messages: s.reduce((a, b) => a + b.messages, 0), lastAt: Math.max(...s.map((x) => x.lastAt)) };
  };
  const waitFor = async (n: number, what: string, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await total();
      if (t.received >= n) return t;
      if (Date.now() > deadline) throw new Error(`${target.label}: ${what}: ${t.received} of ${n} points arrived`);
      await sleep(20);
    }
  };
  try {
    await sleep(1000);
    const rssBefore = rssKiB(target.pid);
    let seq = 0;
    const perProc = clients.map((_, i) => Math.floor(sockets / procs) + (i < sockets % procs ? 1 : 0));
    await Promise.all(clients.map((c, i) => c.ask({
      type: 'open',
      setup: { url: target.wsUrl, authorization: target.authorization, sockets: perProc[i], perSocket: PER_SOCKET, query: QUERY, variables: target.variables },
    }, 'opened')));
    const n = sockets * PER_SOCKET;
    // Until a probe reaches every subscriber, some subscriptions may not be live yet.
    let expected = 0;
    for (let probe = 0; ; probe++) {
      await target.write(++seq);
      try {
        await waitFor(expected + n, 'probe', 5000);
        expected += n;
        break;
      } catch (err) {
        const t = await total();
        expected = t.received;
        if (probe > 20) throw err;
      }
    }
    // Idle: nothing written; let the server settle, then read its memory.
    await sleep(3000);
    const rssIdle = rssKiB(target.pid);

    // Latency: one point a second.
    const acks = new Map<number, number>();
    const first = seq + 1;
    for (let i = 0; i < WRITES; i++) {
      const v = ++seq;
      const started = now();
      await target.write(v);
      acks.set(v, now());
      await sleep(Math.max(0, INTERVAL_MS - (now() - started)));
    }
    expected += WRITES * n;
    await waitFor(expected, 'latency writes');
    const latencies: number[] = [];
    for (const c of clients) {
      const { arrivals } = await c.ask<{ arrivals: Record<number, number[]> }>({ type: 'arrivals', from: first, to: seq }, 'arrivals');
      for (const [v, times] of Object.entries(arrivals)) for (const at of times) latencies.push(at - acks.get(Number(v))!);
    }
    latencies.sort((a, b) => a - b);

    // Throughput: writes back to back.
    const messagesBefore = (await total()).messages;
    const burstStart = now();
    const base = seq;
    seq += BURST;
    let nextWrite = 0;
    const writeMs: number[] = [];
    await Promise.all(Array.from({ length: BURST_IN_FLIGHT }, async () => {
      while (nextWrite < BURST) {
        const started = now();
        await target.write(base + ++nextWrite);
        writeMs.push(now() - started);
      }
    }));
    writeMs.sort((a, b) => a - b);
    expected += BURST * n;
    const done = await waitFor(expected, 'burst', 300_000);
    const deliveriesPerSec = (BURST * n) / ((done.lastAt - burstStart) / 1000);
    const messagesPerSec = (done.messages - messagesBefore) / ((done.lastAt - burstStart) / 1000);
    const closes = clients.flatMap((c) => c.closes);
    if (closes.length) log(`${target.label}: ${closes.length} sockets closed during the run (codes ${[...new Set(closes)].join(', ')})`);
    return {
      peer: target.label, subscribers: n,
      rssBeforeMiB: rssBefore / 1024, rssIdleMiB: rssIdle / 1024, kibPerSubscriber: (rssIdle - rssBefore) / n,
      p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies[latencies.length - 1],
      delivered: latencies.length, expected: WRITES * n, deliveriesPerSec, messagesPerSec, burstWriteP50: pct(writeMs, 50),
    };
  } finally {
    for (const c of clients) c.kill();
  }
}

interface MemoryShare { heapPerSubscriber: number; externalPerSubscriber: number; rssPerSubscriber: number }
/** The first N subscribers' share of the server's growth, and (marginal) what N more added. */
interface MemoryResult extends MemoryShare { subscribers: number; marginal: MemoryShare }

/** The in-process heap measurement (bench/fanout-memory.ts), in a process of its own with --expose-gc. */
function measureHeap(databaseUrl: string, subscribers: number, nodeFlags: string[]): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(path.join(__dirname, 'fanout-memory.js'), [], {
      cwd: ROOT, execArgv: ['--expose-gc', ...nodeFlags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: peerEnv({ FANOUT_MEMORY_DATABASE_URL: databaseUrl, FANOUT_MEMORY_SUBSCRIBERS: String(subscribers), FANOUT_MEMORY_KEY: ADMIN_KEY }),
    });
    process.on('exit', () => proc.kill('SIGKILL'));
    let result: MemoryResult | null = null;
    proc.on('message', (m: any) => { if (m.type === 'memory') result = m; });
    proc.on('exit', (code) => (result ? resolve(result) : reject(new Error(`memory measurement exited with ${code}`))));
  });
}

async function gql(url: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function main() {
  const db = await createBenchDatabase(process.env.DATABASE_URL || null, log);
  const children = new ChildProcesses();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'modelgraph-fanout-'));
  const results: ScaleResult[] = [];
  let heap: MemoryResult | null = null;
  try {
    const nodeFlags = deployedNodeFlags();
    log(`heap per idle subscriber, ${MEMORY_SUBSCRIBERS} subscribers`);
    heap = await measureHeap(db.url, MEMORY_SUBSCRIBERS, nodeFlags);
    log(JSON.stringify(heap));
    for (const scale of SCALES) {
      // The raw broadcast first, then ModelGraph; each a fresh process for this scale.
      const rawPort = await freePort();
      const raw = children.start(`raw ws ${scale}`, process.execPath, [path.join(__dirname, 'fanout-raw.js')], { cwd: ROOT, env: peerEnv({ PORT: String(rawPort) }) });
      await waitForPort(raw, rawPort, 30_000);
      let cursorLike = '';
      const rawTarget: Target = {
        label: 'raw ws broadcast', pid: raw.proc.pid!, wsUrl: `ws://127.0.0.1:${rawPort}/graphql`, authorization: null, variables: {},
        write: async (value) => {
          const res = await fetch(`http://127.0.0.1:${rawPort}/write`, {
            method: 'POST', body: JSON.stringify({ value, cursor: cursorLike, timestamp: new Date().toISOString() }),
          });
          await res.text();
        },
      };

      const port = await freePort();
      const mg = children.start(`ModelGraph ${scale}`, process.execPath, [...nodeFlags, path.join(ROOT, 'dist', 'src', 'app', 'main.js')], {
        cwd: ROOT,
        env: peerEnv({
          DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: 'warn', MODELGRAPH_ADMIN_KEY: ADMIN_KEY, MODELGRAPH_DATA_DIR: dataDir,
          MODELGRAPH_RATE_LIMIT_PER_MINUTE: '1000000000', MODELGRAPH_MAX_SUBSCRIPTIONS: '100000', MODELGRAPH_MAX_SUBSCRIPTIONS_PER_KEY: '100000',
          MODELGRAPH_SHUTDOWN_TIMEOUT_MS: '2000',
        }),
      });
      await waitForPort(mg, port, 60_000);
      const url = `http://127.0.0.1:${port}/graphql`;
      const slug = `fanout-${scale}-${Date.now()}`;
      await gql(url, `mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { id } } }`, { s: slug });
      const model = (await gql(url, `mutation($s: String!) { createModel(input: { projectSlug: $s, name: "ranker", kind: INTERNAL }) { model { id } } }`, { s: slug })).createModel.model;
      const version = (await gql(url, `mutation($m: ID!) { createModelVersion(input: { modelId: $m, artifact: { uri: "s3://m/1" } }) { modelVersion { id } } }`, { m: model.id })).createModelVersion.modelVersion;
      const record = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
      const mgTarget: Target = {
        label: 'ModelGraph', pid: mg.proc.pid!, wsUrl: `ws://127.0.0.1:${port}/graphql`, authorization: `Bearer ${ADMIN_KEY}`,
        variables: { s: slug, filter: { modelVersionId: version.id } },
        write: async (value) => { await gql(url, record, { input: { projectSlug: slug, points: [{ name: 'latency', modelVersionId: version.id, value }] } }); },
      };
      // Warm both up (JIT, pools) before measuring memory.
      for (let i = 0; i < 20; i++) { await mgTarget.write(-1); await rawTarget.write(-1); }
      // The raw peer sends a cursor as long as ModelGraph's.
      cursorLike = Buffer.from(JSON.stringify(['p', '1234567', '1234567', ''])).toString('base64url');

      log(`${scale} subscribers: raw ws broadcast`);
      results.push(await runScale(rawTarget, scale));
      log(JSON.stringify(results[results.length - 1]));
      log(`${scale} subscribers: ModelGraph`);
      results.push(await runScale(mgTarget, scale));
      log(JSON.stringify(results[results.length - 1]));
      await children.stopAll();
    }
  } finally {
    await children.stopAll();
    await rm(dataDir, { recursive: true, force: true });
    await db.dispose();
  }
  await report(results, heap!, db.serverVersion);
}

async function report(results: ScaleResult[], heap: MemoryResult, pgVersion: string) {
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = results.map((r) => `| ${r.peer} | ${f(r.subscribers)} | ${f(r.p50, 1)} | **${f(r.p99, 1)}** | ${f(r.max, 1)} | ${f(r.delivered)}/${f(r.expected)} | ${f(r.deliveriesPerSec)} | ${f(r.messagesPerSec)} | ${f(r.burstWriteP50, 1)} | ${f(r.rssBeforeMiB, 1)} → ${f(r.rssIdleMiB, 1)} | ${r.peer === 'ModelGraph' ? `**${f(r.kibPerSubscriber, 1)}**` : f(r.kibPerSubscriber, 1)} |`);
  const targets: string[] = [];
  for (const scale of SCALES) {
    const mg = results.find((r) => r.peer === 'ModelGraph' && r.subscribers === scale);
    const raw = results.find((r) => r.peer !== 'ModelGraph' && r.subscribers === scale);
    if (!mg || !raw) continue;
    const p99Target = scale <= 1000 ? 250 : 1000;
    const ratio = mg.deliveriesPerSec / raw.deliveriesPerSec;
    targets.push(`| p99 at ${f(scale)} | ${f(mg.p99, 1)} ms | <= ${f(p99Target)} ms | ${mg.p99 <= p99Target ? 'met' : 'MISSED'} |`);
    targets.push(`| point deliveries/s vs raw ws at ${f(scale)} | ${ratio.toFixed(2)}x | >= 0.5x | ${ratio >= 0.5 ? 'met' : 'MISSED'} |`);
    const msgRatio = mg.messagesPerSec / raw.messagesPerSec;
    targets.push(`| messages/s vs raw ws at ${f(scale)} (not a target: ModelGraph batches) | ${msgRatio.toFixed(2)}x | | |`);
    targets.push(`| RSS growth from an idle server, over ${f(scale)} subscribers (not the target's measure: holds the one-time growth) | ${f(mg.kibPerSubscriber, 1)} KiB | | |`);
  }
  const heapKb = heap.heapPerSubscriber / 1000;
  targets.push(`| heap kept per idle subscriber (first ${f(heap.subscribers)}, after full GC) | ${f(heapKb, 1)} KB | <= 20 KB | ${heapKb <= 20 ? 'met' : 'MISSED'} |`);
  const m = heap.marginal;
  const marginalKb = m.rssPerSubscriber / 1000;
  targets.push(`| server memory per further idle subscriber (${f(heap.subscribers)} → ${f(2 * heap.subscribers)}, RSS after full GC) | ${f(marginalKb, 1)} KB (heap ${f(m.heapPerSubscriber / 1000, 1)} KB, outside the heap ${f(m.externalPerSubscriber / 1000, 1)} KB) | <= 20 KB | ${marginalKb <= 20 ? 'met' : 'MISSED'} |`);
  const section = `<!-- fanout:start -->
## Scenario: fan-out (\`npm run bench:fanout\`)

Run: ${new Date().toISOString()}, ${os.cpus().length} cores, PostgreSQL ${pgVersion.split(' ')[1] ?? pgVersion}, Node ${process.version}.

\`metricPoints\` subscribers of one model version (\`${QUERY.replace(/\s+/g, ' ')}\`), graphql-ws clients in
${CLIENT_PROCS} forked processes at most, ${PER_SOCKET} subscriptions a socket, against a bare \`ws\` server that
speaks enough graphql-ws to the same clients and, on each write, sends every subscription a message of the same
shape and size (\`bench/fanout-raw.ts\`: no database, no GraphQL, no auth). Each scale starts both servers
afresh (ModelGraph as deployed, with its Dockerfile's Node flags). Latency: ${WRITES} writes, one every
${INTERVAL_MS} ms, from the write's acknowledgement (\`recordMetrics\` answered; the peer's POST answered) to
each subscriber's receipt, over every (write, subscriber) pair. Throughput: ${BURST} writes, ${BURST_IN_FLIGHT} in flight, point
deliveries (points × subscribers) a second, from the first write to the last receipt; ModelGraph sends the points
that committed together as one event per series (so fewer messages than points under load), the raw peer one message
per point, so messages/s is shown but the ratio compares point deliveries. The raw peer answers a write only after
queuing its sends to every socket, so its latency from the acknowledgement can be negative; ModelGraph answers
at commit and delivers after. Memory: the server's RSS
with the subscribers connected and idle (3 s after a probe reached all), less its RSS before they connected,
per subscriber. Heap: in a server process of its own run with \`--expose-gc\` (\`bench/fanout-memory.ts\`), the
heap after a full collection with ${f(heap.subscribers)} idle subscribers (each has had one event), less the heap after a
full collection before they connected, per subscriber: ${f(heap.heapPerSubscriber / 1000, 1)} KB heap,
${f(heap.externalPerSubscriber / 1000, 1)} KB outside the heap (socket buffers), ${f(heap.rssPerSubscriber / 1000, 1)} KB RSS in that
process. RSS also holds what the collector freed and has not given back (with \`--max-semi-space-size=64\` the
young generation alone may grow by a few hundred MB), so it overstates what a subscriber keeps. The same process
then opens ${f(heap.subscribers)} more idle subscribers: what its RSS grows by then, per subscriber, is what each further
subscriber costs (the server's one-time growth already happened), and is the figure held against the 20 KB target.
Everything, clients included, shares the machine's cores.

| Peer | Subscribers | p50 ms | p99 ms | max ms | delivered | point deliveries/s | messages/s | write ack p50 ms (burst) | RSS MiB before → idle | KiB per idle subscriber |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

| Target | Measured | Target | |
| --- | ---: | ---: | --- |
${targets.join('\n')}

Reproduce: \`npm run bench:fanout\` (\`BENCH_FANOUT_SCALES\`, \`BENCH_FANOUT_WRITES\`, \`BENCH_FANOUT_INTERVAL_MS\`,
\`BENCH_FANOUT_BURST\`, \`BENCH_FANOUT_BURST_IN_FLIGHT\`, \`BENCH_FANOUT_CLIENTS\`, \`BENCH_FANOUT_MEMORY_SUBSCRIBERS\` override the
defaults 1000,10000 / 20 / 1000 / 100 / 16 / 2 / 2000).
<!-- fanout:end -->`;
  await writeSection('fanout', section);
  const dir = path.join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `fanout-${Date.now()}.json`), JSON.stringify(results, null, 2));
  process.stdout.write(`${section}\n`);
}

main().then(() => process.exit(process.exitCode ?? 0), (err) => {
  log(String(err?.stack ?? err));
  process.exit(1);
});
