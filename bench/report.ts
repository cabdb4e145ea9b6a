import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type { LoadResult } from './load';
import type { ResponseSummary } from './nested-read';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  postgres: string;
  /** Where the database server came from: DATABASE_URL or the embedded one. */
  postgresOrigin: string;
}

export interface PeerResult {
  key: string;
  label: string;
  /** Node version the peer ran on. */
  runtime: string;
  /** Database transactions per request, from pg_stat_database over sequential requests. */
  transactionsPerRequest: number;
  responseBytes: number;
  load: LoadResult;
}

export interface Ratio {
  label: string;
  value: number;
  target: number;
}

export interface RunReport {
  date: Date;
  machine: Machine;
  connections: number;
  warmupSec: number;
  durationSec: number;
  rounds: number;
  /** Sequential requests per peer while counting database transactions. */
  probeRequests: number;
  /** How the ModelGraph peers were started (the Dockerfile's command). */
  modelGraphCommand: string;
  summary: ResponseSummary;
  peers: PeerResult[];
  ratios: Ratio[];
}

export function describeMachine(postgres: string, postgresOrigin: string): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // Not Linux: os.cpus() is as good as it gets.
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    postgres: postgres.replace(/ on .*$/, '').replace(/,.*$/, ''),
    postgresOrigin,
  };
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const verdict = (r: Ratio) => (r.value >= r.target ? 'met' : 'MISSED');

/** The console summary: one line per peer, then the ratios against their targets. */
export function consoleSummary(r: RunReport): string {
  const lines = r.peers.map((p) =>
    `  ${p.label.padEnd(34)} ${f1(p.load.requestsPerSec).padStart(8)} req/s   p95 ${f1(p.load.latencyMs.p95).padStart(7)} ms   ${f1(p.transactionsPerRequest).padStart(6)} db tx/req`,
  );
  const ratios = r.ratios.map((x) => `  ${x.label.padEnd(34)} ${f2(x.value).padStart(8)}x   target >= ${x.target}x: ${verdict(x)}`);
  return [...lines, '', ...ratios].join('\n');
}

/** BENCHMARKS.md, rewritten whole on every run so it always holds one coherent run. */
export function markdown(r: RunReport): string {
  const m = r.machine;
  const peerRows = r.peers.map((p) =>
    `| ${p.label} | ${p.runtime} | **${f1(p.load.requestsPerSec)}** | ${f1(p.load.latencyMs.p50)} | **${f1(p.load.latencyMs.p95)}** | ${f1(p.load.latencyMs.p99)} | ${p.load.requests} | ${f1(p.transactionsPerRequest)} | ${f0(p.responseBytes / 1024)} |`,
  );
  const ratioRows = r.ratios.map((x) => `| ${x.label} | **${f2(x.value)}x** | >= ${x.target}x | ${verdict(x)} |`);
  return `# Benchmarks

Written by \`npm run bench\` (\`bench/run.ts\`): the nested read below is rewritten by every run, and
each other scenario (ingest, history, fan-out, monitor timer) rewrites its own section further down
(\`BENCH_SCENARIOS\` picks which run). Raw results also go to \`bench/results/\` (not committed).

Last run: ${r.date.toISOString()}

## Machine

- CPU: ${m.cpu}, ${m.cores} cores available to Node
- Memory: ${m.memoryGiB} GiB
- OS: ${m.kernel}
- PostgreSQL: ${m.postgres} (${m.postgresOrigin === 'embedded' ? 'the embedded server, src/db/embedded-postgres.ts' : 'the server at DATABASE_URL'}), on the same machine
- Node: ${[...new Set(r.peers.map((p) => p.runtime))].join(', ')} (per peer in the table)

Everything, load generator included, shares these cores: the numbers compare peers with each
other on one machine, they are not a capacity figure.

## Scenario: nested read

One GraphQL request reads a project by slug, its 50 most recently changed models and, per
model, its tags, its aliases with the version number each points at, and its 10 highest
versions, each with tags, the aliases pointing at it and its base version (id and number).
The answer holds ${r.summary.models} models, ${r.summary.versions} versions, ${r.summary.modelAliases} aliases and ${r.summary.baseVersions} base versions.

\`\`\`graphql
query Nested($slug: String!) { project(slug: $slug) { models(first: 50) { nodes { id name tags { key value } aliases { name version { number } } versions(first: 10) { nodes { id number tags { key value } aliases baseVersion { id number } } } } } } }
\`\`\`

The database is created for the run (\`modelgraph_bench_<timestamp>\`), built by ModelGraph's
migrations, seeded with set-based SQL (\`bench/seed.ts\`: 1 project, 50 models, 10 versions
each, lineage on 8 of every 10 versions, \`production\` on every model and \`champion\` on every
other one) and dropped at the end.

## Method

Four peers serve the same database, each in its own process on 127.0.0.1 with a pool of 10
connections:

- **PostGraphile 5** (amber preset, schema \`public\`, \`bench/peers/postgraphile/\`), on the
  Node 22 it requires, asked the same read in its own schema (\`bench/nested-read.ts\`). No auth.
- **Hand-written SQL**: one statement (json_agg over LATERAL joins, \`bench/sql-peer.ts\`) builds
  ModelGraph's exact response, served by a bare \`node:http\` server. No GraphQL, no auth: the
  practical limit.
- **ModelGraph, DataLoader off**: \`MODELGRAPH_BATCH_LOADS=false\`: no batching, no per-request cache.
- **ModelGraph**: as shipped, with an ADMIN API key sent as a bearer token.

Both ModelGraph peers run as the Dockerfile starts the server: \`${r.modelGraphCommand}\`.

Before measuring, the runner fetches one answer from every peer, normalizes them (ids reduced to
row uuids) and fails unless all four are equal model by model and hold everything seeded. Each
peer then gets ${r.probeRequests} sequential requests while \`pg_stat_database.xact_commit\` is watched (every
read statement of these peers is its own transaction, so this counts SQL round trips), and a
${r.warmupSec} s warm-up. Then ${r.rounds === 1 ? 'each peer is measured for' : `${r.rounds} rounds each measure every peer in turn for`} ${r.durationSec} s with
[autocannon](https://github.com/mcollina/autocannon), ${r.connections} connections, one peer after another in the same
run. A request counts only if it is a 2xx whose body equals the verified answer; p50/p95/p99 are
computed from every response time.

## Results

| Peer | Node | Requests/s | p50 ms | p95 ms | p99 ms | Requests | DB tx / request | Response KiB |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${peerRows.join('\n')}

Throughput ratios:

| Ratio | Measured | Target | |
| --- | ---: | ---: | --- |
${ratioRows.join('\n')}

Reproduce: \`npm run bench\` (embedded PostgreSQL) or \`DATABASE_URL=postgres://... npm run bench\`;
\`BENCH_DURATION\` (seconds, default 10), \`BENCH_WARMUP\` (default 2), \`BENCH_CONNECTIONS\`
(default 8) and \`BENCH_ROUNDS\` (default 1) override the load. The first run installs the PostGraphile peer into
\`bench/peers/postgraphile/node_modules\`.
`;
}

/**
 * Puts a scenario's section into BENCHMARKS.md: `section` starts with `<!-- name:start -->` and
 * ends with `<!-- name:end -->`; it replaces the section of that name, or is appended when the
 * file has none, so that each scenario rewrites only its own part.
 */
export async function writeSection(name: string, section: string): Promise<void> {
  const file = path.join(__dirname, '..', '..', 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from
    ? current.slice(0, from) + section + current.slice(to + end.length)
    : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(file, next);
}

/** An integer setting of a benchmark from the environment, checked against its range. */
export function envInt(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const v = env[name]?.trim();
  if (!v) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}
