import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { batchKey } from '../../clients/typescript/src/cli/push';
import { program } from '../../clients/typescript/src/cli/main';
import { TestServer, createKey, createProject, startTestServer, testDatabaseUrl, unique } from '../support/harness';
import { WAIT_MS, until } from '../support/subscription';
import { startProxy } from '../support/tcp-proxy';

// The modelgraph command line, run as users run it: the built CLI in a child process, against a
// real server. `npm test` builds it first (pretest); run `npm run build` before running this file alone.

const PKG = path.join(__dirname, '../../clients/typescript');
const CLI = path.join(PKG, 'bin/modelgraph.js');
const BUILT = path.join(PKG, 'dist/cli/main.js');

let t: TestServer;
let dir: string;
beforeAll(async () => {
  // A CLI older than its sources would test old code.
  const newest = (d: string): number => Math.max(...readdirSync(d, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? newest(path.join(d, e.name)) : statSync(path.join(d, e.name)).mtimeMs)));
  let built = 0;
  try { built = statSync(BUILT).mtimeMs; } catch { /* not built */ }
  if (built < newest(path.join(PKG, 'src'))) throw new Error(`${BUILT} is missing or older than its sources: run npm run build first`);
  t = await startTestServer();
  dir = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-cli-'));
});
const children = new Set<ChildProcess>();
// A test that failed midway leaves no CLI running behind it.
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});
afterAll(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run { code: number | null; stdout: string; stderr: string }

/** Starts the CLI with only the environment given (and PATH): nothing from the test's own. */
function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, MODELGRAPH_URL: t.server.url, MODELGRAPH_API_KEY: t.adminKey, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => { stdout += c; });
  child.stderr!.on('data', (c) => { stderr += c; });
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}
const cli = (args: string[], env?: Record<string, string>) => start(args, env).done;
/** Runs a --json command that must succeed; returns its parsed output. */
async function json(args: string[], env?: Record<string, string>) {
  const r = await cli([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`modelgraph ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const file = (name: string, text: string) => {
  const p = path.join(dir, `${unique('f')}-${name}`);
  writeFileSync(p, text);
  return p;
};

test('every command answers --help with its usage and exit code 0', async () => {
  const paths: string[][] = [];
  const walk = (cmd: ReturnType<typeof program>, at: string[]) => {
    paths.push(at);
    for (const sub of cmd.commands) walk(sub, [...at, sub.name()]);
  };
  const root = program();
  walk(root, []);
  expect(paths.length).toBeGreaterThanOrEqual(16);
  // The root's options are read anywhere on the line: a command's option of the same name would never reach it.
  const rootFlags = new Set(root.options.map((o) => o.long));
  const shadowed: string[] = [];
  const each = (cmd: ReturnType<typeof program>): void => {
    for (const sub of cmd.commands) {
      shadowed.push(...sub.options.filter((o) => rootFlags.has(o.long)).map((o) => `${sub.name()} ${o.long}`));
      each(sub);
    }
  };
  each(root);
  expect(shadowed).toEqual([]);
  for (const at of paths) {
    const r = await cli([...at, '--help']);
    expect({ at, code: r.code, usage: r.stdout.startsWith(`Usage: modelgraph${at.length ? ` ${at.join(' ')}` : ''}`) }).toEqual({ at, code: 0, usage: true });
  }
});

test('projects, keys, models, versions and aliases with --json; config from the environment or flags', async () => {
  const slug = unique('cli');
  const created = await json(['project', 'create', slug, '--name', 'CLI project']);
  expect(created).toMatchObject({ slug, name: 'CLI project' });
  const key = await json(['key', 'create', unique('ci'), '--role', 'EDITOR', '-p', slug]);
  expect(key).toMatchObject({ role: 'EDITOR', project: { slug } });
  // From here on with the new key, given as flags instead of the environment.
  const flags = ['--url', t.server.url, '--api-key', key.secret];
  const env = { MODELGRAPH_URL: 'http://127.0.0.1:1/graphql', MODELGRAPH_API_KEY: 'not-this-one' };
  const model = await json([...flags, 'model', 'create', 'ranker', '-p', slug, '--task', 'ranking', '--tag', 'team=search'], env);
  expect(model).toMatchObject({ name: 'ranker', kind: 'INTERNAL', task: 'ranking', tags: [{ key: 'team', value: 'search' }] });
  const v1 = await json([...flags, 'version', 'create', 'ranker', '-p', slug, '--uri', 's3://m/1', '--framework', 'xgboost'], env);
  const v2 = await json([...flags, 'version', 'create', 'ranker', '-p', slug, '--uri', 's3://m/2'], env);
  expect([v1.number, v2.number, v1.source]).toEqual([1, 2, { __typename: 'ArtifactSource', uri: 's3://m/1', digest: null, format: null, sizeBytes: null }]);

  // MODELGRAPH_PROJECT stands in for -p.
  const projectEnv = { MODELGRAPH_API_KEY: key.secret, MODELGRAPH_PROJECT: slug };
  expect(await json(['alias', 'set', 'ranker', 'production', '1', '--reason', 'launch'], projectEnv)).toMatchObject({ name: 'production', revision: 1, version: { number: 1 } });
  expect(await json(['alias', 'set', 'ranker', 'production', '2', '--expected-revision', '1'], projectEnv)).toMatchObject({ revision: 2, version: { number: 2 } });
  expect(await json(['alias', 'show', 'ranker', 'production'], projectEnv)).toMatchObject({ name: 'production', revision: 2, version: { number: 2 } });
  const history = await json(['alias', 'history', 'ranker'], projectEnv);
  expect(history.map((e: any) => [e.alias, e.fromVersion?.number ?? null, e.toVersion.number, e.reason])).toEqual([['production', 1, 2, null], ['production', null, 1, 'launch']]);
  // A stale revision is a conflict: the server's error, exit 1, and the alias stays.
  const stale = await cli(['alias', 'set', 'ranker', 'production', '1', '--expected-revision', '1', '--json'], projectEnv);
  expect([stale.code, JSON.parse(stale.stderr).error.code]).toEqual([1, 'CONFLICT']);

  // Text output for people.
  const shown = await cli(['model', 'show', 'ranker'], projectEnv);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('latest version: 2');
  expect(shown.stdout).toMatch(/production\s+2\s+2\s/);
  const listed = await cli(['alias', 'history', 'ranker', 'production'], projectEnv);
  expect(listed.stdout.split('\n')[0]).toMatch(/^AT\s+ALIAS\s+FROM\s+TO\s+BY\s+REASON$/);
  expect(listed.stdout.trim().split('\n')).toHaveLength(3);
});

test('eval log: metrics from a JSON file, completed; a rerun with the same file adds nothing', async () => {
  const { slug } = await createProject(t, 'cli');
  await json(['model', 'create', 'clf', '-p', slug]);
  await json(['version', 'create', 'clf', '-p', slug, '--uri', 's3://m/clf']);
  const metrics = file('eval.json', JSON.stringify({ name: 'nightly', evaluator: 'sklearn', params: { k: 5 },
    metrics: [{ name: 'accuracy', value: 0.91, higherIsBetter: true }, { name: 'accuracy', slice: 'en', value: 0.93 }] }));
  const first = await json(['eval', 'log', 'clf', '1', metrics, '-p', slug]);
  expect(first).toMatchObject({ name: 'nightly', evaluator: 'sklearn', status: 'COMPLETED', params: { k: 5 } });
  expect(first.metrics.map((m: any) => [m.name, m.slice, m.value]).sort()).toEqual([['accuracy', null, 0.91], ['accuracy', 'en', 0.93]]);
  const again = await json(['eval', 'log', 'clf', '1', metrics, '-p', slug]);
  expect(again.id).toBe(first.id);
  const mapForm = await json(['eval', 'log', 'clf', '1', file('m.json', JSON.stringify({ metrics: { f1: 0.5 } })), '-p', slug, '--name', 'quick', '--running']);
  expect(mapForm).toMatchObject({ name: 'quick', status: 'RUNNING', metrics: [{ name: 'f1', value: 0.5 }] });
  const count = await t.ok(`query($s: String!) { project(slug: $s) { model(name: "clf") { version(number: 1) { evaluations { nodes { id } } } } } }`, { s: slug });
  expect(count.project.model.version.evaluations.nodes).toHaveLength(2);

  // Points pushed with --model and --model-version belong to that version.
  const pushed = await json(['metrics', 'push', file('v.jsonl', '{"name":"acc","value":1}\n{"name":"acc","value":2}\n'), '-p', slug, '--model', 'clf', '--model-version', '1']);
  expect(pushed).toMatchObject({ points: 2, written: { points: 2 } });
  const series = await t.ok(`query($s: String!) { project(slug: $s) { metricSeries(name: "acc") { nodes { lastValue modelVersion { number model { name } } } } } }`, { s: slug });
  expect(series.project.metricSeries.nodes).toEqual([{ lastValue: 2, modelVersion: { number: 1, model: { name: 'clf' } } }]);
  const missing = await cli(['metrics', 'push', file('w.jsonl', '{"name":"acc","value":1}\n'), '-p', slug, '--model', 'clf', '--model-version', '9', '--json']);
  expect([missing.code, JSON.parse(missing.stderr).error.code]).toEqual([4, 'NOT_FOUND']);
});

test('exit codes: 2 usage, 3 auth, 4 not found, 5 unreachable, 1 other server errors; --json errors on stderr', async () => {
  const { slug } = await createProject(t, 'cli');
  const viewer = await createKey(t, 'VIEWER', slug);
  const cases: [string[], Record<string, string>, number, string][] = [
    [['model', 'create', 'x'], {}, 2, 'USAGE'], // no project
    [['metrics', 'push', 'f.csv', '-p', slug, '--batch-size', '0'], {}, 2, 'USAGE'],
    [['metrics', 'push', path.join(dir, 'missing.csv'), '-p', slug], {}, 2, 'USAGE'],
    [['metrics', 'push', file('bad.csv', 'name,value\nloss,abc\n'), '-p', slug], {}, 2, 'USAGE'],
    [['alias', 'set', 'm', 'prod', 'one', '-p', slug], {}, 2, 'USAGE'],
    [['project', 'create', 'Not A Slug!'], {}, 2, 'BAD_USER_INPUT'],
    [['model', 'show', 'x', '-p', slug], { MODELGRAPH_API_KEY: 'mg_wrong' }, 3, 'UNAUTHENTICATED'],
    [['model', 'create', 'x', '-p', slug], { MODELGRAPH_API_KEY: viewer }, 3, 'FORBIDDEN'],
    [['model', 'show', 'nope', '-p', slug], {}, 4, 'NOT_FOUND'],
    [['project', 'list'], { MODELGRAPH_URL: 'http://127.0.0.1:1/graphql' }, 5, 'NETWORK_ERROR'],
  ];
  for (const [args, env, code, errorCode] of cases) {
    const r = await cli([...args, '--json'], env);
    const usage = r.code === 2 && !r.stderr.startsWith('{');
    // Commander's own usage errors print its message and the help; ours print JSON.
    const got = usage ? 'USAGE' : JSON.parse(r.stderr.trim().split('\n')[0]).error.code;
    expect({ args, code: r.code, error: got, stdout: r.stdout }).toEqual({ args, code, error: errorCode, stdout: '' });
  }
  const text = await cli(['model', 'show', 'nope', '-p', slug]);
  expect([text.code, text.stderr.trim()]).toEqual([4, `modelgraph: NOT_FOUND: project "${slug}" has no model "nope"`]);
});

/** The values stored in a project's series `name`, as a sorted list (repeats kept). */
async function storedValues(slug: string, name = 'loss'): Promise<number[]> {
  const rows = await t.server.db.query(
    `SELECT p.value FROM metric_point p JOIN metric_series s ON s.id = p.series_id JOIN project pr ON pr.id = p.project_id
      WHERE pr.slug = $1 AND s.name = $2 ORDER BY p.value`, [slug, name]);
  return rows.map((r: { value: number }) => r.value);
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('metrics push from CSV in batches: stopped after 2 of 5, the rerun writes the other 3, a third run nothing; every point once', async () => {
  const { slug } = await createProject(t, 'cli');
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const csv = file('points.csv', `timestamp,name,value,label.region\n${range(2500).map((i) => `${new Date(t0 + i * 1000).toISOString()},loss,${i},${i % 2 ? 'eu' : 'us'}`).join('\n')}\n`);
  const args = ['metrics', 'push', csv, '-p', slug, '--batch-size', '500'];
  const first = await json([...args, '--stop-after', '2']);
  expect(first).toMatchObject({ points: 2500, batches: 5, sent: 2, complete: false, written: { batches: 2, points: 1000 }, duplicate: { batches: 0 } });
  expect(await storedValues(slug)).toEqual(range(1000));
  const rerun = await json(args);
  expect(rerun).toMatchObject({ sent: 5, complete: true, written: { batches: 3, points: 1500 }, duplicate: { batches: 2, points: 1000 } });
  const third = await cli([...args, '--progress']);
  expect(third.code).toBe(0);
  expect(third.stdout.trim()).toBe('pushed 2500 points in 5 batches: 0 written, 2500 already stored');
  // The progress bar, asked for where stderr is no terminal, ends full.
  expect(third.stderr).toContain('pushing [');
  expect(third.stderr).toContain('100% | 2500/2500 points | batch 5/5');
  expect(await storedValues(slug)).toEqual(range(2500));
  const series = await t.ok(`query($s: String!) { project(slug: $s) { metricSeries { nodes { labels } } } }`, { s: slug });
  expect(series.project.metricSeries.nodes.map((n: any) => n.labels.region).sort()).toEqual(['eu', 'us']);
});

test('metrics push killed mid-file (SIGKILL while a batch waits on the server), then rerun: every point stored exactly once', async () => {
  const { slug } = await createProject(t, 'cli');
  const [{ id: projectId }] = await t.server.db.query(`SELECT id FROM project WHERE slug = $1`, [slug]);
  const lines = range(10_000).map((i) => JSON.stringify({ name: 'loss', value: i, labels: { shard: String(i % 3) } }));
  const jsonl = file('points.jsonl', `${lines.join('\n')}\n`);
  const args = ['metrics', 'push', jsonl, '-p', slug, '--batch-size', '500', '--json'];

  // Batch 2's idempotency key, claimed by a transaction left open: the CLI's batch 2 waits on it,
  // so the kill lands mid-file, after batches 0 and 1 committed, whatever the machine's speed.
  const hash = createHash('sha256').update(`${lines.join('\n')}\n`).digest('hex');
  const blocker = new PgClient({ connectionString: testDatabaseUrl() });
  await blocker.connect();
  try {
    const [{ pid: blockerPid }] = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows;
    await blocker.query('BEGIN');
    await blocker.query(`INSERT INTO metric_batch (project_id, idempotency_key, accepted, recorded_by) VALUES ($1, $2, 0, 'test')`,
      [projectId, batchKey(hash, { versionId: null }, 500, 2)]);
    const run = start(args);
    let ended: Run | null = null;
    void run.done.then((r) => { ended = r; });
    // A minute: the CLI is a new Node process that reads and hashes the file and sends two
    // batches first, on a machine whose other test worker may be busy (10 s was seen to pass).
    await until(async () => {
      if (ended) throw new Error(`the CLI ended (${ended.code}) before its third batch waited on the claim:\n${ended.stdout}\n${ended.stderr}`);
      const [{ waiting }] = await t.server.db.query(`SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [blockerPid]);
      return waiting > 0;
    }, 'the CLI\'s third batch waits on the open claim', 60_000);
    run.child.kill('SIGKILL');
    expect((await run.done).code).toBeNull();
    expect(await storedValues(slug)).toEqual(range(1000));
  } finally {
    // The killed CLI's request goes on in the server: it stores batch 2 once the claim is gone.
    await blocker.query('ROLLBACK');
    await blocker.end();
  }
  const rerun = await json(args.slice(0, -1));
  expect(rerun).toMatchObject({ points: 10_000, batches: 20, complete: true });
  expect(rerun.written.points + rerun.duplicate.points).toBe(10_000);
  expect(rerun.duplicate.batches).toBeGreaterThanOrEqual(2);
  expect(await storedValues(slug)).toEqual(range(10_000));
});

test('metrics tail follows points live, resumes across dropped connections (nothing missed, nothing twice) and stops at --limit', async () => {
  const { slug } = await createProject(t, 'cli');
  const proxy = await startProxy(t.server.port);
  const record = (values: number[], name = 'loss') =>
    t.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`, { input: { projectSlug: slug, points: values.map((value) => ({ name, value })) } });
  try {
    await record([-1]); // before the tail starts: not shown
    const before = t.server.subscriptions.active().total;
    const tail = start(['metrics', 'tail', '-p', slug, '--name', 'loss', '--limit', '9', '--json'], { MODELGRAPH_URL: proxy.url });
    await until(() => t.server.subscriptions.active().total > before, 'the tail is subscribed');
    proxy.cut(); // before its first event
    await record([0, 1, 2]);
    await record([100], 'other'); // another metric: filtered out
    const pointsShown = () => tail.stdout().trim().split('\n').filter(Boolean).flatMap((l) => JSON.parse(l).points.map((p: any) => p.value));
    await until(() => pointsShown().length >= 3, 'three points shown');
    proxy.cut();
    await record([3, 4, 5]);
    await until(() => pointsShown().length >= 6, 'six points shown');
    await record([6, 7, 8, 9, 10]);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([tail.done, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`tail did not stop: ${tail.stderr()}`)), WAIT_MS);
    })]).finally(() => clearTimeout(timer));
    expect(r.code).toBe(0);
    expect(pointsShown()).toEqual(range(9));
    expect(r.stderr.match(/connection lost/g)?.length).toBeGreaterThanOrEqual(2);
  } finally {
    await proxy.close();
  }
});

test('metrics tail in text mode prints one line per point and the cursor to resume from', async () => {
  const { slug } = await createProject(t, 'cli');
  const before = t.server.subscriptions.active().total;
  const tail = start(['metrics', 'tail', '-p', slug, '--limit', '2']);
  await until(() => t.server.subscriptions.active().total > before, 'the tail is subscribed');
  await t.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`,
    { input: { projectSlug: slug, points: [{ name: 'acc', value: 0.5, labels: { region: 'eu' }, timestamp: '2026-01-01T00:00:00.000Z' }, { name: 'acc', value: 0.75, labels: { region: 'eu' }, timestamp: '2026-01-01T00:00:01.000Z' }] } });
  const r = await tail.done;
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('2026-01-01T00:00:00.000Z  acc{region=eu}  0.5\n2026-01-01T00:00:01.000Z  acc{region=eu}  0.75\n');
  const cursor = /--since (\S+)/.exec(r.stderr)?.[1];
  expect(cursor).toBeTruthy();
  // Resuming from it shows what came after, not those two again.
  const resumed = start(['metrics', 'tail', '-p', slug, '--limit', '1', '--since', cursor!]);
  await t.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`,
    { input: { projectSlug: slug, points: [{ name: 'acc', value: 1, timestamp: '2026-01-01T00:00:02.000Z' }] } });
  expect((await resumed.done).stdout).toBe('2026-01-01T00:00:02.000Z  acc  1\n');
});

test('metrics tail ends on SIGINT with exit code 0 and the cursor to resume from', async () => {
  const { slug } = await createProject(t, 'cli');
  const before = t.server.subscriptions.active().total;
  const tail = start(['metrics', 'tail', '-p', slug]);
  await until(() => t.server.subscriptions.active().total > before, 'the tail is subscribed');
  await t.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`,
    { input: { projectSlug: slug, points: [{ name: 'acc', value: 3, timestamp: '2026-01-01T00:00:00.000Z' }] } });
  await until(() => tail.stdout().includes('acc  3'), 'the point is shown');
  tail.child.kill('SIGINT');
  const r = await tail.done;
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/resume with --since \S+/);
});
