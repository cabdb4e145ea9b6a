import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { Client as WsClient } from 'graphql-ws';
import { EVENTS_CHANNEL, POINTS_CHANNEL } from '../src/core/events/registry-events';
import { feedMembers } from '../src/modules/live/event-streams';
import { SLOW_CONSUMER_CLOSE } from '../src/app/server';
import { recordMetrics } from '../src/modules/monitoring/metrics.service';
import { RecordMetricsInput } from '../src/modules/monitoring/dto/metrics.input';
import { Role } from '../src/core/auth/role';
import { TestServer, createModel, createProject, createVersion, startTestServer, testDatabaseUrl, unique } from './support/harness';

/** Every bounded wait in this file gives up after this long, so a lost event fails instead of hanging. */
const WAIT_MS = 60000;

const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
const POINTS = `subscription($s: String!, $filter: MetricStreamFilter!) {
  metricPoints(projectSlug: $s, filter: $filter) { cursor series { id name } points { value } } }`;

async function until(cond: () => boolean, what: string) {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function projectId(t: TestServer, slug: string): Promise<string> {
  const [{ id }] = await t.server.db.query(`SELECT id FROM project WHERE slug = $1`, [slug]);
  return id;
}

/** Statements the server sent during `fn`, leaving out key checks and stream horizons (one per channel and round, whatever the subscribers). */
async function statementsOf(t: TestServer, fn: () => Promise<void>): Promise<number> {
  const sent = () => t.server.sql.count - t.server.sql.authentication - t.server.sql.horizon;
  const before = sent();
  await fn();
  return sent() - before;
}

/** A server for a thousand subscribers, whose statements a test counts. */
const MULTIPLEX_ENV = {
  MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0',
  MODELGRAPH_MAX_SUBSCRIPTIONS: '5000',
  MODELGRAPH_MAX_SUBSCRIPTIONS_PER_KEY: '5000',
  MODELGRAPH_MAX_SUBSCRIPTIONS_PER_SOCKET: '200',
  // No periodic re-check: it would add rounds at random moments to what is counted.
  MODELGRAPH_STREAM_RECHECK_MS: '0',
};

describe('multiplexed metricPoints', () => {
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer(MULTIPLEX_ENV); });
  afterAll(async () => { await t.stop(); });

  /**
   * `n` subscribers of one project, half following a version and half a metric name (two
   * filters, as two dashboards), spread over sockets of 100 subscriptions; returns the
   * statements one write costs, from the write to the last subscriber's delivery.
   */
  async function wakeCost(n: number): Promise<number> {
    const { slug } = await createProject(t, 'fanout');
    const model = await createModel(t, slug);
    const version = await createVersion(t, model.id);
    const pid = await projectId(t, slug);
    const received = new Array<number>(n).fill(0);
    const clients: WsClient[] = [];
    const stops: (() => void)[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 100 === 0) clients.push(t.ws());
      const filter = i % 2 ? { names: ['latency'] } : { modelVersionId: version.id };
      stops.push(clients[clients.length - 1].subscribe({ query: POINTS, variables: { s: slug, filter } }, {
        next: (r) => {
          if (r.errors) throw new Error(JSON.stringify(r.errors));
          received[i] += (r.data as any).metricPoints.points.length;
        },
        error: (e) => { throw new Error(`subscription failed: ${JSON.stringify(e)}`); },
        complete: () => undefined,
      }));
    }
    await until(() => feedMembers(t.server.events, pid) === n, `${n} subscribers joined the feed`);
    const write = async (value: number) => {
      await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'latency', modelVersionId: version.id, value }] } });
      await until(() => received.every((r) => r === value), `every subscriber has ${value} points`);
    };
    // A first write settles the feed (the joins woke it); the second is the one measured.
    await write(1);
    const cost = await statementsOf(t, () => write(2));
    stops.forEach((s) => s());
    await Promise.all(clients.map((c) => c.dispose()));
    await until(() => t.server.events.liveStreams(POINTS_CHANNEL, pid) === 0, 'the subscriptions ended');
    return cost;
  }

  test('a wake-up costs the same statements for 10 subscribers as for 1,000', async () => {
    const ten = await wakeCost(10);
    const thousand = await wakeCost(1000);
    // Both subscriber counts read the page once and resolve each of the two selections once.
    expect(thousand).toBe(ten);
  }, 180000);
});

describe('multiplexed registryEvents', () => {
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer(MULTIPLEX_ENV); });
  afterAll(async () => { await t.stop(); });

  const EVENTS = `subscription($s: String!, $types: [RegistryEventType!]) { registryEvents(projectSlug: $s, types: $types) { cursor type subject { id } } }`;

  /**
   * `n` subscribers of one project's events, half of every type and half of model creations
   * only; returns the statements one new model costs, from the write to the last delivery.
   */
  async function wakeCost(n: number): Promise<number> {
    const { slug } = await createProject(t, 'events-fanout');
    const pid = await projectId(t, slug);
    const received = new Array<string[]>(n).fill([]).map(() => [] as string[]);
    const clients: WsClient[] = [];
    const stops: (() => void)[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 100 === 0) clients.push(t.ws());
      stops.push(clients[clients.length - 1].subscribe({ query: EVENTS, variables: { s: slug, types: i % 2 ? ['MODEL_CREATED'] : null } }, {
        next: (r) => {
          if (r.errors) throw new Error(JSON.stringify(r.errors));
          received[i].push((r.data as any).registryEvents.type);
        },
        error: (e) => { throw new Error(`subscription failed: ${JSON.stringify(e)}`); },
        complete: () => undefined,
      }));
    }
    await until(() => feedMembers(t.server.events, pid, EVENTS_CHANNEL) === n, `${n} subscribers joined the feed`);
    // A first model settles the feed (the joins woke it); the second is the one measured.
    await createModel(t, slug);
    await until(() => received.every((r) => r.length === 1), 'every subscriber has the first model');
    const cost = await statementsOf(t, async () => {
      await createModel(t, slug);
      await until(() => received.every((r) => r.length === 2), 'every subscriber has the second model');
    });
    expect(new Set(received.map((r) => r.join()))).toEqual(new Set(['MODEL_CREATED,MODEL_CREATED']));
    // A version's event reaches only the subscribers of every type.
    const model = await createModel(t, slug);
    await createVersion(t, model.id);
    await until(() => received.every((r, i) => r.length === (i % 2 ? 3 : 4)), 'the version event reached the subscribers of every type');
    expect(received[0].slice(2)).toEqual(['MODEL_CREATED', 'MODEL_VERSION_CREATED']);
    stops.forEach((s) => s());
    await Promise.all(clients.map((c) => c.dispose()));
    await until(() => t.server.events.liveStreams(EVENTS_CHANNEL, pid) === 0, 'the subscriptions ended');
    return cost;
  }

  test('a wake-up costs the same statements for 10 subscribers as for 1,000', async () => {
    const ten = await wakeCost(10);
    const thousand = await wakeCost(1000);
    expect(thousand).toBe(ten);
  }, 180000);
});

describe('delivery does not wait for unrelated transactions', () => {
  let t: TestServer;
  const others: PgClient[] = [];
  let otherDb = '';
  beforeAll(async () => { t = await startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0', MODELGRAPH_STREAM_RECHECK_MS: '100' }); });
  afterAll(async () => {
    for (const c of others) await c.end().catch(() => undefined);
    await t.stop();
    if (otherDb) {
      const admin = new PgClient({ connectionString: testDatabaseUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${otherDb}"`);
      await admin.end();
    }
  });

  /** One live metricPoints subscriber of series `q` of a project, once it has joined the feed: the values it got, and its stop. */
  async function subscribeQ(slug: string, pid: string): Promise<{ got: number[]; stop: () => void }> {
    const got: number[] = [];
    const stop = t.ws().subscribe({ query: POINTS, variables: { s: slug, filter: { names: ['q'] } } }, {
      next: (r) => { for (const p of (r.data as any).metricPoints.points) got.push(p.value); },
      error: (e) => { throw new Error(JSON.stringify(e)); },
      complete: () => undefined,
    });
    await until(() => feedMembers(t.server.events, pid) === 1, 'the subscriber joined');
    return { got, stop };
  }

  /** A session left idle in a transaction that has an xid, on `url`, after running `sql`. */
  async function idleInTransaction(url: string, sql: string): Promise<string> {
    const c = new PgClient({ connectionString: url });
    await c.connect();
    others.push(c);
    await c.query('BEGIN');
    await c.query(sql);
    const [{ xid }] = (await c.query(`SELECT pg_current_xact_id()::xid::text AS xid`)).rows;
    return xid;
  }

  test('an open transaction in another database, or in this one without writing points, does not hold points back', async () => {
    const { slug } = await createProject(t, 'horizon');
    const pid = await projectId(t, slug);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'q', value: 0 }] } });
    // Another database on the same cluster, with a transaction left open in it.
    otherDb = unique('fanout_other').replace(/-/g, '_');
    const admin = new PgClient({ connectionString: testDatabaseUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${otherDb}"`);
    await admin.end();
    const url = new URL(testDatabaseUrl());
    url.pathname = `/${otherDb}`;
    const elsewhere = await idleInTransaction(url.toString(), 'CREATE TABLE t (x int)');
    // In this database: a transaction that wrote, but not the stream table.
    const here = await idleInTransaction(testDatabaseUrl(), `UPDATE project SET name = name WHERE id = '${pid}'`);

    const { got, stop } = await subscribeQ(slug, pid);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'q', value: 1 }] } });
    // Both transactions are still open: a horizon that waited for them would never deliver.
    await until(() => got.length === 1, 'the point is delivered while both transactions stay open');
    expect(got).toEqual([1]);
    expect(t.server.events.waitingFor(POINTS_CHANNEL)).not.toContain(elsewhere);
    expect(t.server.events.waitingFor(POINTS_CHANNEL)).not.toContain(here);
    const [{ n }] = (await others[1].query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_xid::text = $1`, [here])).rows;
    expect(n).toBe(1);
    stop();
  }, 120000);

  test("a transaction writing another project's points, left open, holds back that project's stream only", async () => {
    const a = await createProject(t, 'mine');
    const b = await createProject(t, 'theirs');
    const [aPid, bPid] = [await projectId(t, a.slug), await projectId(t, b.slug)];
    for (const slug of [a.slug, b.slug]) await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'q', value: 0 }] } });
    const mine = await subscribeQ(a.slug, aPid);
    const theirs = await subscribeQ(b.slug, bPid);
    // B's batch, written by the server's own writer, in a transaction the test keeps open.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let bXid = '';
    const writer = t.server.db.transaction(async (m) => {
      const actor = { keyId: 'test', name: 'test', role: Role.ADMIN, projectId: null };
      await recordMetrics(m, actor, bPid, { projectSlug: b.slug, points: [{ name: 'q', value: 2 }] } as RecordMetricsInput);
      [{ xid: bXid }] = await m.query(`SELECT pg_current_xact_id()::xid::text AS xid`);
      await held;
    });
    try {
      await until(() => bXid !== '', "B's batch is written, not committed");
      await t.ok(RECORD, { input: { projectSlug: a.slug, points: [{ name: 'q', value: 1 }] } });
      // A's point is delivered while B's writer stays open...
      await until(() => mine.got.length === 1, "A's point is delivered while B's transaction is open");
      expect(mine.got).toEqual([1]);
      // ...and B's stream, which may still get a row from it, waits for it.
      await until(() => t.server.events.waitingFor(POINTS_CHANNEL).includes(bXid), "B's horizon waits for B's writer");
      expect(theirs.got).toEqual([]);
    } finally {
      release();
      await writer;
    }
    await until(() => theirs.got.length === 1, "B's point is delivered once its transaction commits");
    expect(theirs.got).toEqual([2]);
    mine.stop();
    theirs.stop();
  }, 120000);

  test('a writer with a later xid that drew a smaller id is waited for, though no snapshot lists it', async () => {
    // A snapshot lists running xids below its xmax (the latest completed xid + 1) only. Here B
    // takes its xid after A, draws its point id first and stays open; A draws a larger id and
    // commits, so A is the latest completed transaction and B's xid is at or above xmax: not in
    // the xip list. A horizon that waited for the xip list alone would deliver A's point and
    // move past B's smaller id for good.
    const { slug } = await createProject(t, 'xmax');
    const pid = await projectId(t, slug);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'q', value: 0 }] } });
    const { got, stop } = await subscribeQ(slug, pid);
    const session = async () => {
      const c = new PgClient({ connectionString: testDatabaseUrl() });
      await c.connect();
      others.push(c);
      await c.query('BEGIN');
      await c.query('SELECT pg_current_xact_id()');
      return c;
    };
    const insert = (c: PgClient, value: number) => c.query(
      `INSERT INTO metric_point (series_id, project_id, ts, value) SELECT id, project_id, now(), $2 FROM metric_series WHERE project_id = $1 AND name = 'q'`, [pid, value]);
    const a = await session();
    const b = await session();
    const [{ xid: bXid }] = (await b.query(`SELECT pg_current_xact_id()::xid::text AS xid`)).rows;
    await insert(b, 1);
    await insert(a, 2);
    // No NOTIFY: it would complete a transaction with a later xid (and put B in the xip list);
    // the periodic re-check (100 ms here) starts the round. Other sessions of the cluster may do
    // the same meanwhile, so this case is exact only when they are quiet; it never passes wrongly.
    await a.query('COMMIT');
    // The horizon now waits for B (it holds the write lock), so nothing is delivered past it.
    await until(() => t.server.events.waitingFor(POINTS_CHANNEL).includes(bXid), 'a horizon waits for B');
    expect(got).toEqual([]);
    await b.query('COMMIT');
    await until(() => got.length === 2, 'both points are delivered');
    expect(got).toEqual([1, 2]);
    stop();
  }, 120000);

  test('a point whose wake-up never comes is delivered by the periodic re-check', async () => {
    const { slug } = await createProject(t, 'recheck');
    const pid = await projectId(t, slug);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'q', value: 0 }] } });
    const { got, stop } = await subscribeQ(slug, pid);
    // Written behind the server's back: no NOTIFY at all.
    await t.server.db.query(
      `INSERT INTO metric_point (series_id, project_id, ts, value) SELECT id, project_id, now(), 7 FROM metric_series WHERE project_id = $1 AND name = 'q'`, [pid],
    );
    await until(() => got.length === 1, 'the point is delivered without a notification');
    expect(got).toEqual([7]);
    stop();
  }, 120000);
});

describe('a slow consumer', () => {
  let t: TestServer;
  beforeAll(async () => {
    // No keep-alive pings: the paused subscriber cannot answer them, and on a loaded machine
    // filling its buffers can take longer than the pings' default 12 s, after which the server
    // would end it (1006) before it is seen to be slow (4008).
    t = await startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0', MODELGRAPH_MAX_SEND_BUFFER_BYTES: String(256 * 1024), MODELGRAPH_WS_KEEPALIVE_MS: '0' });
  });
  afterAll(async () => { await t.stop(); });

  /** A graphql-ws client on a raw socket, so that the test can stop reading from it. */
  async function rawSubscriber(query: string, variables: Record<string, unknown>) {
    const socket = new WebSocket(t.server.wsUrl, 'graphql-transport-ws');
    let points = 0;
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.adminKey}` } })));
      socket.on('message', (data) => {
        const m = JSON.parse(String(data));
        if (m.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
          resolve();
        } else if (m.type === 'next') {
          points += m.payload.data.metricPoints.points.length;
        } else if (m.type === 'error') {
          reject(new Error(JSON.stringify(m.payload)));
        }
      });
    });
    return {
      socket,
      closed,
      points: () => points,
      /** Stops reading: what the server sends piles up in the kernel, then in the server. */
      pause: () => (socket as unknown as { _socket: { pause(): void } })._socket.pause(),
      resume: () => (socket as unknown as { _socket: { resume(): void } })._socket.resume(),
    };
  }

  test('is closed with 4008 and neither stalls the other subscribers nor holds what it did not take', async () => {
    const { slug } = await createProject(t, 'slow');
    const pid = await projectId(t, slug);
    const query = `subscription($s: String!, $filter: MetricStreamFilter!) {
      metricPoints(projectSlug: $s, filter: $filter) { cursor series { id name labels } points { timestamp value min max count } } }`;
    const variables = { s: slug, filter: { names: ['load'] } };
    const fast = await rawSubscriber(query, variables);
    const slow = await rawSubscriber(query, variables);
    await until(() => feedMembers(t.server.events, pid) === 2, 'both subscribers joined');
    slow.pause();
    // About 100 bytes a point as sent: 40 batches fill the kernel's buffers and pass the bound.
    const BATCHES = 40;
    const SIZE = 5000;
    const writes = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        const points = Array.from({ length: SIZE }, (_, i) => ({ name: 'load', value: b * SIZE + i }));
        await t.ok(RECORD, { input: { projectSlug: slug, points } });
        // The fast one takes each batch before the next is written. A batch is one message of
        // about 500 KB, more than this server's 256 KB bound: when writes ran ahead of the feed
        // (a loaded machine, CI once ingest got faster), one round carried two batches, the second
        // was queued while the first still filled the fast one's buffer, and the fast one was
        // rightly closed as slow. (The default bound, 16 MB, is 32 such messages.) If the slow one
        // held up the feed, the fast one would never get its batch, and this would time out.
        await until(() => {
          if (fast.socket.readyState !== WebSocket.OPEN) throw new Error(`the fast subscriber was closed at batch ${b}`);
          return fast.points() >= (b + 1) * SIZE;
        }, `the fast subscriber has batch ${b}`);
      }
    })();
    // The slow one leaves the feed once too much waits for it: nothing more is kept for it.
    await until(() => feedMembers(t.server.events, pid) === 1, 'the slow subscriber was dropped');
    // Read again before ws gives up on the close handshake (30 s): the close frame comes after what was buffered.
    slow.resume();
    expect(await slow.closed).toBe(SLOW_CONSUMER_CLOSE);
    expect(slow.points()).toBeLessThan(BATCHES * SIZE);
    // The fast one gets everything although the slow one took nothing for a while.
    await writes;
    expect(fast.points()).toBe(BATCHES * SIZE);
    expect(fast.socket.readyState).toBe(WebSocket.OPEN);
    fast.socket.close();
  }, 180000);
});
