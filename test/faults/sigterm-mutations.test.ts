import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import WebSocket from 'ws';
import { Client as WsClient, createClient } from 'graphql-ws';
import type { DataSource } from 'typeorm';
import { freePort } from '../../src/core/db/embedded-postgres';
import { testDatabaseUrl } from '../support/harness';
import { GqlError, Outcome, ServerProcess, dataOf, killChild, openDatabase, post, spawnServer, tempDir, unique, until } from './support';

/**
 * SIGTERM while mutations are in flight. The mutations (createModelVersion, each with its own
 * artifact URI) are held in the database on a lock the test owns, so every one of them is
 * provably in flight when the signal comes. Whatever happens next, each one must either have
 * committed and been answered with its version, or not have committed: the answered versions
 * and the rows in the database must be the same set.
 */
const IN_FLIGHT = 16;
const CREATE_VERSION = `mutation($m: ID!, $uri: String!) { createModelVersion(input: { modelId: $m, artifact: { uri: $uri } }) { modelVersion { number } } }`;

const rowKey = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

/** Sessions waiting, directly or behind another waiter, on a lock `pid` holds. */
async function waitersOn(db: DataSource, pid: number): Promise<number> {
  const [{ n }] = await db.query(
    `WITH RECURSIVE waiting(pid) AS (
       SELECT a.pid FROM pg_stat_activity a WHERE $1::int = ANY(pg_blocking_pids(a.pid))
       UNION
       SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY(pg_blocking_pids(a.pid))
     ) SELECT count(*)::int AS n FROM waiting`,
    [pid],
  );
  return n;
}

/** One operation over graphql-ws, as an Outcome: its result, or 'network' when the socket closed first. Bounded. */
function wsMutation(client: WsClient, query: string, variables: Record<string, unknown>): Promise<Outcome> {
  return new Promise((resolve) => {
    let result: Outcome | null = null;
    const timer = setTimeout(() => resolve({ kind: 'network', error: 'no answer within 60 s' }), 60_000);
    const settle = (o: Outcome) => { clearTimeout(timer); resolve(o); };
    client.subscribe({ query, variables }, {
      next: (r) => { result = { kind: 'answer', status: 200, body: { data: r.data, errors: r.errors as GqlError[] | undefined } }; },
      error: (e) => settle(Array.isArray(e) ? { kind: 'answer', status: 200, body: { errors: e as GqlError[] } } : { kind: 'network', error: `closed ${(e as { code?: number }).code}` }),
      complete: () => settle(result ?? { kind: 'network', error: 'completed without a result' }),
    });
  });
}

/** An HTTP/1.1 connection written by hand and kept alive: a second request can follow the first on it. */
function keptAlive(port: number, key: string) {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => { text += chunk; });
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => {
    const timer = setTimeout(() => { socket.destroy(); }, 60_000);
    socket.once('close', () => { clearTimeout(timer); resolve(text); });
  });
  const request = (body: string) => socket.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`
    + `Authorization: Bearer ${key}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  return { request, closed };
}

describe('SIGTERM during in-flight mutations', () => {
  const data = tempDir('modelgraph-faults-sigterm-');
  let db: DataSource;
  let adminKey: string;
  const servers: ServerProcess[] = [];
  const blockers: Client[] = [];
  const clients: WsClient[] = [];

  beforeAll(async () => {
    ({ db, adminKey } = await openDatabase(testDatabaseUrl()));
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    for (const b of blockers) await b.end().catch(() => undefined);
    for (const s of servers) await killChild(s);
    if (db?.isInitialized) await db.destroy();
    data.remove();
  });

  /**
   * Starts a server, makes a model, locks the model's row from a session of the test's own, and
   * sends IN_FLIGHT createModelVersion requests, which all wait on that lock; resolves once all
   * of them are waiting in the database.
   */
  async function inFlight(env: Record<string, string>, overWebSocket = 0) {
    const server = await spawnServer({ DATABASE_URL: testDatabaseUrl(), DATABASE_POOL_SIZE: String(IN_FLIGHT + 8), MODELGRAPH_LOCK_TIMEOUT_MS: '60000', ...env },
      await freePort(), data.dir);
    servers.push(server);
    const slug = unique('faults-sigterm');
    expect(dataOf(await post(server.url, adminKey, `mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { slug } } }`, { s: slug }))).toBeTruthy();
    const created = dataOf(await post(server.url, adminKey, `mutation($s: String!) { createModel(input: { projectSlug: $s, name: "m", kind: INTERNAL }) { model { id } } }`, { s: slug }));
    const modelId: string = created.createModel.model.id;

    const blocker = new Client({ connectionString: testDatabaseUrl() });
    blockers.push(blocker);
    await blocker.connect();
    await blocker.query('BEGIN');
    // Version numbering locks the model row first: holding it keeps every createModelVersion waiting.
    await blocker.query(`SELECT 1 FROM model WHERE id = $1 FOR UPDATE`, [rowKey(modelId)]);
    const [{ pid }] = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows;

    const sent: { uri: string; outcome: Promise<Outcome> }[] = [];
    const send = (uri: string) => sent.push({ uri, outcome: post(server.url, adminKey, CREATE_VERSION, { m: modelId, uri }, 60_000) });
    let ws: WsClient | null = null;
    if (overWebSocket) {
      ws = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${adminKey}` }, retryAttempts: 0, lazy: true });
      clients.push(ws);
    }
    for (let i = 0; i < IN_FLIGHT; i++) {
      const uri = `s3://faults/${unique('v')}`;
      if (i < overWebSocket) sent.push({ uri, outcome: wsMutation(ws!, CREATE_VERSION, { m: modelId, uri }) });
      else send(uri);
    }
    await until(`${IN_FLIGHT} mutations to wait on the lock`, async () => (await waitersOn(db, pid)) === IN_FLIGHT);
    const release = () => blocker.query('ROLLBACK');
    return { server, modelId, sent, send, release, blockerPid: pid as number };
  }

  /** The answered versions against the stored ones: equal sets, or the test fails. */
  async function compare(modelId: string, sent: { uri: string; outcome: Promise<Outcome> }[]) {
    const outcomes = await Promise.all(sent.map(async (s) => ({ uri: s.uri, outcome: await s.outcome })));
    const answered = outcomes.filter((o) => dataOf(o.outcome)).map((o) => o.uri).sort();
    const rows: { uri: string }[] = await db.query(`SELECT source->>'uri' AS uri FROM model_version WHERE model_id = $1 ORDER BY 1`, [rowKey(modelId)]);
    const stored = rows.map((r) => r.uri);
    const answeredNotStored = answered.filter((u) => !stored.includes(u));
    const storedNotAnswered = stored.filter((u) => !answered.includes(u));
    return { outcomes, answered, stored, answeredNotStored, storedNotAnswered };
  }

  test('within the grace period: every in-flight mutation, over HTTP or WebSocket, commits and is answered; later ones are refused; exit code 0', async () => {
    const { server, modelId, sent, send, release, blockerPid } = await inFlight({ MODELGRAPH_SHUTDOWN_TIMEOUT_MS: '30000' }, 4);
    // One more, on a connection kept alive by hand, so that a request can follow it there after the signal.
    const kept = keptAlive(server.port, adminKey);
    const [early, late] = [`s3://faults/early-${unique('v')}`, `s3://faults/kept-${unique('v')}`];
    kept.request(JSON.stringify({ query: CREATE_VERSION, variables: { m: modelId, uri: early } }));
    await until('the request on the kept-alive connection to wait on the lock too', async () => (await waitersOn(db, blockerPid)) === IN_FLIGHT + 1);
    server.child.kill('SIGTERM');
    await until('the server to stop accepting connections', async () => {
      try {
        await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(2000) });
        return false;
      } catch {
        return true;
      }
    });
    for (let i = 0; i < 4; i++) send(`s3://faults/late-${unique('v')}`);
    kept.request(JSON.stringify({ query: CREATE_VERSION, variables: { m: modelId, uri: late } }));
    await release();
    // The kept-alive request is not among `sent`: wait for its answer (the server answers after
    // commit) before reading what is stored, or it may still be committing when the rows are read.
    const keptAnswers = await kept.closed;
    const result = await compare(modelId, sent);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    // The kept-alive connection: the first request answered and stored; the one sent after the signal refused, retryably, and not run.
    expect([...keptAnswers.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['200', '503']);
    expect(keptAnswers).toMatch(/"code":"UNAVAILABLE","retryable":true/);
    expect(result.stored).toContain(early);
    expect(result.stored).not.toContain(late);
    result.stored = result.stored.filter((u) => u !== early);
    result.storedNotAnswered = result.storedNotAnswered.filter((u) => u !== early);

    console.log(`SIGTERM within the grace period: ${IN_FLIGHT + 1} mutations in flight (4 over WebSocket) and 5 sent after the signal; `
      + `${result.answered.length + 1} answered and stored, ${result.storedNotAnswered.length} stored unanswered, ${result.answeredNotStored.length} answered unstored`);
    expect(result.answeredNotStored).toEqual([]);
    expect(result.storedNotAnswered).toEqual([]);
    expect(result.answered).toHaveLength(IN_FLIGHT);
    expect(result.outcomes.slice(IN_FLIGHT).map((o) => o.outcome.kind)).toEqual(['network', 'network', 'network', 'network']);
  }, 120_000);

  test('past the grace period: mutations still waiting, over HTTP or WebSocket, are not committed, and the server exits', async () => {
    const { server, modelId, sent, release } = await inFlight({ MODELGRAPH_SHUTDOWN_TIMEOUT_MS: '1000' }, 4);
    server.child.kill('SIGTERM');
    // The lock stays held until the server has exited: their database work outlives the grace
    // period. A server that waits for it instead is let go after a while, to show what it commits.
    const stuck = new AbortController();
    const exited = await Promise.race([server.exited, sleep(30_000, 'still running after 30 s', { signal: stuck.signal })]);
    stuck.abort();
    await release();
    const result = await compare(modelId, sent);

    console.log(`SIGTERM past the grace period: ${IN_FLIGHT} mutations in flight (4 over WebSocket); ${result.answered.length} answered and stored, `
      + `${result.storedNotAnswered.length} stored unanswered, ${result.answeredNotStored.length} answered unstored; `
      + `answers: ${result.outcomes.map((o) => (o.outcome.kind === 'network' ? 'network' : o.outcome.body.errors?.[0]?.extensions?.code ?? 'ok')).join(',')}`);
    expect(exited).toEqual({ code: 0, signal: null });
    expect(result.answeredNotStored).toEqual([]);
    expect(result.storedNotAnswered).toEqual([]);
  }, 120_000);
});
