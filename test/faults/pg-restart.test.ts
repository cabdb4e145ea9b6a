import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Client as PgClient } from 'pg';
import { Client as WsClient, createClient } from 'graphql-ws';
import { freePort } from '../../src/core/db/embedded-postgres';
import { toGlobalId } from '../../src/core/graphql/ids';
import { registryEventCursor } from '../../src/modules/live/event-streams';
import { GqlError, Outcome, PostgresProcess, ServerProcess, dataOf, isRetryable, killChild, outcomeLabel, post, spawnServer, startPostgresProcess, tally, tempDir, unique, until } from './support';

/**
 * PostgreSQL stopped and started again under a light load, with a subscription open. The
 * database is an embedded PostgreSQL of this test's own (not the run's shared one), restarted on
 * the same data directory and port, so the server reconnects to the same URL.
 *
 * Expected: the server process stays up; /readyz answers 503 while the database is down and 200
 * once it is back; every request that fails meanwhile fails with a retryable code (UNAVAILABLE
 * or TIMEOUT, retryable: true), whether it failed authenticating the caller or executing;
 * WebSocket connections and operations are refused the same way without closing the sockets
 * already open; and the subscription, resumed from its last cursor if the server ever ends it,
 * receives every model created before, during and after the outage exactly once, in order.
 */
const SUBSCRIBE = `subscription($slug: String!, $since: String) {
  registryEvents(projectSlug: $slug, types: [MODEL_CREATED], since: $since) { cursor type subject { id } }
}`;
const CREATE_MODEL = `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`;

interface Received { cursor: string; subject: string }

/**
 * A registryEvents subscriber that resumes from its last cursor whenever the stream ends or an
 * event fails to resolve (an event answered with errors carries no cursor, so the stream is
 * resumed from the one before it rather than skipping it).
 */
class Follower {
  readonly received: Received[] = [];
  readonly problems: string[] = [];
  resumes = 0;
  private generation = 0;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly client: WsClient, private readonly slug: string, private cursor: string) {}

  start(): void {
    const generation = ++this.generation;
    this.unsubscribe = this.client.subscribe<{ registryEvents: { cursor: string; subject: { id: string } } }>(
      { query: SUBSCRIBE, variables: { slug: this.slug, since: this.cursor } },
      {
        next: (r) => {
          if (generation !== this.generation) return;
          if (r.errors?.length || !r.data) return this.resume(`event with errors: ${JSON.stringify(r.errors)}`);
          this.received.push({ cursor: r.data.registryEvents.cursor, subject: r.data.registryEvents.subject.id });
          this.cursor = r.data.registryEvents.cursor;
        },
        error: (e) => { if (generation === this.generation) this.resume(`error: ${describeWsError(e)}`); },
        complete: () => { if (generation === this.generation) this.resume('completed'); },
      },
    );
  }

  private resume(why: string): void {
    this.problems.push(why);
    this.unsubscribe?.();
    if (this.stopped) return;
    this.generation++;
    if (++this.resumes > 100) return;
    // Backoff before resubscribing, so that an outage is not a busy loop.
    setTimeout(() => { if (!this.stopped) this.start(); }, 200).unref();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.unsubscribe?.();
  }
}

const describeWsError = (e: unknown): string =>
  (Array.isArray(e) ? JSON.stringify(e) : e && typeof e === 'object' && 'code' in e ? `close ${(e as { code: number }).code} ${(e as { reason?: string }).reason ?? ''}` : String(e));

/** One operation on an open graphql-ws client: its errors, or the close that ended it. Bounded. */
function wsOnce(client: WsClient, query: string, variables: Record<string, unknown>): Promise<{ errors?: GqlError[]; closed?: string; data?: unknown }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: { errors?: GqlError[]; closed?: string; data?: unknown }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      resolve(v);
    };
    const timer = setTimeout(() => done({ closed: 'no answer within 20 s' }), 20_000);
    const unsubscribe = client.subscribe({ query, variables }, {
      next: (r) => done({ errors: r.errors as GqlError[] | undefined, data: r.data }),
      error: (e) => done(Array.isArray(e) ? { errors: e as GqlError[] } : { closed: describeWsError(e) }),
      complete: () => done({}),
    });
  });
}

/** Opens a raw graphql-ws socket with `key` and resolves with what ends the handshake: ack, or the close code and reason. */
function connectOnce(wsUrl: string, key: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    const timer = setTimeout(() => { ws.terminate(); resolve('no answer within 20 s'); }, 20_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
    ws.on('message', (m) => {
      if (JSON.parse(String(m)).type === 'connection_ack') { clearTimeout(timer); ws.close(1000); resolve('ack'); }
    });
    ws.on('close', (code, reason) => { clearTimeout(timer); resolve(`${code} ${String(reason)}`); });
    ws.on('error', () => undefined);
  });
}

describe('PostgreSQL restarted under load', () => {
  // Separate directories: startEmbeddedPostgres opens its own to the postgres user (as root).
  const pgData = tempDir('modelgraph-faults-pg-');
  const serverData = tempDir('modelgraph-faults-pg-server-');
  let pg: PostgresProcess | null = null;
  let server: ServerProcess | null = null;
  let ws: WsClient | null = null;
  let follower: Follower | null = null;
  let loadRunning = false;

  afterAll(async () => {
    loadRunning = false;
    follower?.stop();
    await ws?.dispose();
    await killChild(server);
    await pg?.stop();
    pgData.remove();
    serverData.remove();
  }, 30_000);

  test('the server stays up, answers retryable errors meanwhile, and the subscription misses nothing and repeats nothing', async () => {
    pg = await startPostgresProcess(pgData.dir);
    const adminKey = `faults-admin-${randomBytes(16).toString('hex')}`;
    const port = await freePort();
    server = await spawnServer({ DATABASE_URL: pg.url, MODELGRAPH_ADMIN_KEY: adminKey, DATABASE_POOL_SIZE: '5' }, port, serverData.dir);
    const { url, base } = server;
    const wsUrl = url.replace(/^http/, 'ws');
    const slug = unique('faults-pg');
    expect(dataOf(await post(url, adminKey, `mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { slug } } }`, { s: slug }))).toBeTruthy();
    const readyz = async () => (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) })).status;
    expect(await readyz()).toBe(200);

    /** Creates a model, retrying retryable failures; a CONFLICT on a retry means an earlier attempt committed. */
    const created: string[] = [];
    const createFailures = new Map<string, number>();
    const createModel = async (name: string, deadline: number): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) throw new Error(`model ${name} not created in time`);
        const outcome = await post(url, adminKey, CREATE_MODEL, { input: { projectSlug: slug, name, kind: 'INTERNAL' } });
        if (dataOf(outcome)) { created.push(name); return; }
        if (attempt > 0 && outcome.kind === 'answer' && outcome.body.errors?.[0]?.extensions?.code === 'CONFLICT') { created.push(name); return; }
        if (!isRetryable(outcome)) throw new Error(`createModel ${name}: not retryable: ${JSON.stringify(outcome)}`);
        tally(createFailures, outcomeLabel(outcome));
        await sleep(Math.min(50 * 2 ** attempt, 500));
      }
    };

    // The subscription replays from the project's start, so nothing created before it is live is missed.
    ws = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${adminKey}` }, retryAttempts: 0, lazy: true });
    follower = new Follower(ws, slug, registryEventCursor('0'));
    follower.start();
    await createModel('before-0', Date.now() + 20_000);
    await until('the subscription to deliver the first model', () => follower!.received.length === 1);
    await createModel('before-1', Date.now() + 20_000);
    // Both delivered before the outage: an event still being resolved when PostgreSQL stops is
    // answered with errors (its subject cannot be read), the follower then resubscribes, and its
    // lazy client closes the socket in between; the checks below are about a socket that stays.
    await until('the subscription to deliver the second model', () => follower!.received.length === 2);

    // A light load of reads, one at a time: `viewer` needs only the caller's key (authentication,
    // outside the executor); `project` reads inside it.
    loadRunning = true;
    const load: { phase: string; outcome: Outcome }[] = [];
    let phase = 'before';
    const loadLoop = (async () => {
      for (let i = 0; loadRunning; i++) {
        const outcome = i % 2 === 0
          ? await post(url, adminKey, `{ viewer { name } }`, undefined, 10_000)
          : await post(url, adminKey, `query($s: String!) { project(slug: $s) { name } }`, { s: slug }, 10_000);
        load.push({ phase, outcome });
        await sleep(20);
      }
    })();

    // Stop PostgreSQL (fast shutdown: every session is terminated).
    await until('a successful read before the outage', () => load.some((l) => dataOf(l.outcome)));
    phase = 'outage';
    await pg.stop();
    const outageStart = load.length;
    expect(await until('/readyz to answer 503', async () => (await readyz()) === 503 || undefined)).toBe(true);

    const creator = (async () => {
      for (let i = 0; i < 6; i++) await createModel(`during-${i}`, Date.now() + 60_000);
    })();
    let creatorFailed: unknown = null;
    creator.catch((err) => { creatorFailed = err; });
    await until('reads (authenticating and executing) to fail during the outage', () =>
      load.slice(outageStart).filter((l) => !dataOf(l.outcome)).length >= 4);
    await until('a model creation to fail retryably during the outage', () => {
      if (creatorFailed) throw creatorFailed;
      return createFailures.size > 0;
    });
    // A new WebSocket connection is refused with 1013 (try again later), not 4403 (bad key) or 4500.
    expect(await connectOnce(wsUrl, adminKey)).toMatch(/^1013 /);
    // A new operation on the open socket fails alone, retryably; the socket and the subscription on it stay.
    // The subscription opened before the outage is still running (nothing ended it).
    expect(follower.problems).toEqual([]);
    const second = await wsOnce(ws, SUBSCRIBE, { slug, since: null });
    expect(second.closed).toBeUndefined();
    expect(second.errors?.[0]?.extensions).toMatchObject({ retryable: true, code: expect.stringMatching(/^(UNAVAILABLE|TIMEOUT)$/) });
    expect(server.running()).toBe(true);

    // Start it again on the same data directory and port.
    pg = await startPostgresProcess(pgData.dir, pg.port);
    phase = 'after';
    await until('/readyz to answer 200 again', async () => (await readyz()) === 200 || undefined, 60_000, 100);
    await creator;
    await until('a successful read after the outage', () => load.some((l) => l.phase === 'after' && dataOf(l.outcome)), 30_000);
    loadRunning = false;
    await loadLoop;

    // Every model in the database reached the subscriber exactly once, in order.
    const check = new PgClient({ connectionString: pg.url });
    await check.connect();
    let models: string[];
    try {
      const { rows } = await check.query(`SELECT m.id FROM model m JOIN project p ON p.id = m.project_id WHERE p.slug = $1 ORDER BY m.created_at`, [slug]);
      models = rows.map((r: { id: string }) => toGlobalId('Model', r.id));
    } finally {
      await check.end();
    }
    expect(models).toHaveLength(8);
    await until('the subscriber to receive every model', () => follower!.received.length >= models.length, 30_000);
    // The LISTEN connection is back: a model created now, after the subscriber caught up, arrives live.
    await createModel('after-0', Date.now() + 20_000);
    await until('the subscriber to receive a model created after the outage', () => follower!.received.length >= models.length + 1, 30_000);

    const received = follower.received;
    const subjects = received.map((r) => r.subject);
    const gaps = models.filter((m) => !subjects.includes(m));
    const duplicates = subjects.filter((s, i) => subjects.indexOf(s) !== i);
    const ids = received.map((r) => BigInt(JSON.parse(Buffer.from(r.cursor, 'base64url').toString())[1]));
    const failed = load.filter((l) => !dataOf(l.outcome));
    console.log(`PostgreSQL restart: ${load.length} reads (${failed.length} failed: `
      + `${[...failed.reduce((m, l) => { tally(m, outcomeLabel(l.outcome)); return m; }, new Map<string, number>())].map(([k, n]) => `${k}: ${n}`).join(', ')}), `
      + `model creations retried ${[...createFailures.values()].reduce((a, b) => a + b, 0)} times; ${received.length} events received `
      + `for ${models.length + 1} models, ${gaps.length} gaps, ${duplicates.length} duplicates, ${follower.resumes} resumes (${follower.problems.join('; ')})`);
    expect(gaps).toEqual([]);
    expect(duplicates).toEqual([]);
    expect(received).toHaveLength(models.length + 1);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
    // Every failed request failed retryably, over HTTP: no 500, no INTERNAL_SERVER_ERROR, no dropped connection.
    expect(failed.filter((l) => !isRetryable(l.outcome) || l.outcome.kind === 'network').map((l) => l.outcome)).toEqual([]);
    expect(failed.every((l) => l.phase !== 'before')).toBe(true);
    expect(server.running()).toBe(true);
  }, 150_000);
});
