import { ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestServer, createModel, createProject, startTestServer, unique } from './support/harness';
import { tempDir, until } from './faults/support';
import { registryEventCursor } from '../src/modules/live/event-streams';
import { startProxy } from './support/tcp-proxy';

/**
 * What the docs tell a new user to run works as written: the README's first session (kept in
 * examples/curl/first-session.sh) against a real server, the subscribe-and-resume example, the
 * API reference generated from the committed schema, and the contract check in a plain clone.
 */

const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);
let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

describe('examples/curl/first-session.sh', () => {
  const SCRIPT = path.join(ROOT, 'examples', 'curl', 'first-session.sh');

  test('runs against a real server: two versions, production moved from 1 to 2, and asOf between the moves answers 1', async () => {
    const project = unique('search');
    const { stdout } = await run('sh', [SCRIPT], {
      cwd: ROOT, env: { PATH: process.env.PATH, MODELGRAPH_URL: t.server.url, MODELGRAPH_KEY: t.adminKey, PROJECT: project },
    });
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(answers.every((a) => a.errors === undefined)).toBe(true);
    expect(answers[0].data.createProject.project.slug).toBe(project);
    expect(answers.slice(2, 4).map((a) => a.data.createModelVersion.modelVersion.number)).toEqual([1, 2]);
    expect(answers.slice(4, 6).map((a) => a.data.setModelAlias.alias.revision)).toEqual([1, 2]);
    const model = answers[6].data.project.model;
    expect(model.now).toEqual({ number: 2 });
    expect(model.then).toEqual({ number: 1 });
    expect(model.aliasHistory.nodes.map((n: any) => [n.fromVersion?.number ?? null, n.toVersion.number, n.reason])).toEqual([[1, 2, 'better NDCG'], [null, 1, null]]);
  });

  test('the README shows the same session, line for line', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /## A first session with curl[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    const script = readFileSync(SCRIPT, 'utf8').split('\n');
    const commands = block![1].split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(commands.length).toBeGreaterThan(8);
    expect(commands.filter((l) => !script.includes(l))).toEqual([]);
  });
});

describe('examples/subscribe/registry-events.mjs', () => {
  const SCRIPT = path.join(ROOT, 'examples', 'subscribe', 'registry-events.mjs');
  const dir = tempDir('modelgraph-subscribe-');
  afterAll(() => dir.remove());

  /** Runs the example; its stdout, one JSON event per line, as it comes. */
  const follow = (slug: string, cursorFile: string, url = t.server.url) => {
    const child: ChildProcess = spawn(process.execPath, [SCRIPT, slug], {
      cwd: dir.dir, env: { PATH: process.env.PATH, MODELGRAPH_URL: url, MODELGRAPH_KEY: t.adminKey, CURSOR_FILE: cursorFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return {
      events: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l)),
      stderr: () => err,
      stop: async () => { child.kill('SIGTERM'); return exited; },
    };
  };

  test('resumes from the last cursor it handled: what happened while it was stopped comes once, nothing before it again', async () => {
    const P = await createProject(t, 'sub-example');
    // Kept from an earlier run: the start of the project's stream, so the first run replays the model made before it.
    const cursorFile = path.join(dir.dir, 'cursor');
    writeFileSync(cursorFile, `${registryEventCursor('0')}\n`);
    const a = await createModel(t, P.slug, 'first');

    const one = follow(P.slug, cursorFile);
    const b = await createModel(t, P.slug, 'second');
    await until('the example to print both models\' events', () => {
      if (one.stderr().includes('giving up')) throw new Error(one.stderr());
      return one.events().length >= 2;
    });
    expect(await one.stop()).toBe(0);
    expect(one.events().map((e) => [e.type, e.subject.id])).toEqual([['MODEL_CREATED', a.id], ['MODEL_CREATED', b.id]]);
    const last = one.events()[1].cursor;
    expect(readFileSync(cursorFile, 'utf8').trim()).toBe(last);

    // While it is stopped.
    const c = await createModel(t, P.slug, 'third');
    const two = follow(P.slug, cursorFile);
    await until('the example to print the third model\'s event', () => two.events().length >= 1);
    // Anything printed twice or out of order would show up within this further round trip.
    const d = await createModel(t, P.slug, 'fourth');
    await until('the fourth', () => two.events().length >= 2);
    expect(await two.stop()).toBe(0);
    expect(two.events().map((e) => [e.type, e.subject.id])).toEqual([['MODEL_CREATED', c.id], ['MODEL_CREATED', d.id]]);
    expect(two.stderr()).toContain(`resuming after ${last}`);
  });

  test('with no cursor yet it starts from the server\'s starting cursor: a socket lost before the first event misses nothing', async () => {
    const P = await createProject(t, 'sub-start');
    await createModel(t, P.slug, 'before-start');
    const proxy = await startProxy(t.server.port);
    const cursorFile = path.join(dir.dir, 'cursor-start');
    const run = follow(P.slug, cursorFile, proxy.url);
    try {
      // Subscribed, through the proxy, before any event of the project.
      const before = t.server.subscriptions.active().total;
      await until('the example to subscribe', () => {
        if (run.stderr().includes('giving up')) throw new Error(run.stderr());
        return t.server.subscriptions.active().total > before;
      });
      // Its socket is lost, and a model is made while it cannot connect.
      proxy.down();
      await until('the server to drop the subscription', () => t.server.subscriptions.active().total === before);
      const away = await createModel(t, P.slug, 'while-away');
      proxy.up();
      await until('the example to subscribe again', () => t.server.subscriptions.active().total > before);
      const back = await createModel(t, P.slug, 'after');
      await until('the example to print the model made after it came back', () => run.events().some((e) => e.subject.id === back.id));
      // The model made while it was away comes first; the one made before it started, never.
      expect(run.events().map((e) => [e.type, e.subject.id])).toEqual([['MODEL_CREATED', away.id], ['MODEL_CREATED', back.id]]);
      expect(run.stderr()).toMatch(/^starting at \S+\n/);
    } finally {
      expect(await run.stop()).toBe(0);
      await proxy.close();
    }
  });
});

test('docs/api/README.md is what graphql-markdown makes of the committed schema (npm run docs:api)', async () => {
  await expect(run(process.execPath, [path.join(ROOT, 'scripts', 'api-docs.mjs'), '--check'], { cwd: ROOT })).resolves.toBeDefined();
});

test('npm run contract:check in a clone without ../shared says it skipped, and succeeds', async () => {
  const dir = tempDir('modelgraph-clone-');
  try {
    const repo = path.join(dir.dir, 'modelgraph');
    mkdirSync(path.join(repo, 'scripts'), { recursive: true });
    copyFileSync(path.join(ROOT, 'scripts', 'contract-check.mjs'), path.join(repo, 'scripts', 'contract-check.mjs'));
    const { stdout } = await run(process.execPath, [path.join(repo, 'scripts', 'contract-check.mjs')], { cwd: repo });
    expect(stdout).toBe(`contract: skipped, ${path.join(dir.dir, 'shared', 'tools', 'check-contract.mjs')} is absent (a clone without ../shared, where the API contract and its checker live)\n`);
  } finally {
    dir.remove();
  }
});
