import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { Leader } from '../src/core/db/leader';
import { afterCommit, afterCommitSettled } from '../src/core/db/after-commit';
import { MONITOR_TIMER_ACTOR, evaluateDue } from '../src/modules/monitoring/monitor.service';
import { TestServer, createModel, createProject, createVersion, scratchDatabase, startTestServer, unique } from './support/harness';

/**
 * Monitors evaluated without a write: by the timer (NO_DATA on silence, an alert resolved once
 * the window slides past its points), after an alias move, and the timer racing writes. Each
 * server here runs on a database of its own: one replica per database leads the timer, and the
 * run's shared database belongs to every other test file.
 *
 * Points are stamped relative to now: a window ends at the database's now(), so a point leaves
 * it as time passes. A point that must stay in the window is stamped ahead of now (the server
 * takes up to 5 minutes of client skew), one that must leave it a window's length ago at most.
 */

const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
const CREATE_MONITOR = `mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id status lastValue lastEvaluatedAt } } }`;
const MONITOR = `query($id: ID!) { node(id: $id) { ... on Monitor { id status lastValue lastEvaluatedAt
  alerts { nodes { status value resolvedAt } } } } }`;
const SET_ALIAS = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { revision } } }`;
const REMOVE_ALIAS = `mutation($input: RemoveModelAliasInput!) { removeModelAlias(input: $input) { model { id } } }`;

const at = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
/** Stays in any window of the tests for minutes: the server takes points up to 5 minutes ahead. */
const AHEAD = 4 * 60_000;

/** Polls `check` until it answers something truthy; fails naming `what` after `ms`. `every` is a polling period, not an ordering sleep. */
async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 45_000, every = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

/** A pino logger that keeps what is logged at error level (an evaluation that failed is only logged). */
function errorLog(): { log: pino.Logger; errors: Record<string, unknown>[] } {
  const errors: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { errors.push(JSON.parse(String(chunk))); done(); } });
  return { log: pino({ level: 'error' }, sink), errors };
}

/**
 * A server of the describe block's own, on a scratch database (the timer's rounds would
 * otherwise meet other test files' monitors), started before its tests and dropped after.
 */
function serverOnScratchDatabase(env: Record<string, string>, log: pino.Logger, started: (t: TestServer) => void): void {
  let t: TestServer | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const scratch = await scratchDatabase();
    drop = scratch.drop;
    t = await startTestServer({ DATABASE_URL: scratch.url, MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0', ...env }, log);
    started(t);
  });
  afterAll(async () => {
    await t?.stop();
    await drop?.();
  });
}

async function monitorNode(t: TestServer, id: string) {
  return (await t.ok(MONITOR, { id })).node as {
    status: string; lastValue: number | null; lastEvaluatedAt: string | null; alerts: { nodes: { status: string; value: number; resolvedAt: string | null }[] };
  };
}

/** The alert audit records and registry events of a project, by action or type. */
async function alertRecords(t: TestServer, slug: string) {
  const audit: { action: string; actor: string }[] = await t.server.db.query(
    `SELECT a.action, a.actor FROM audit_event a JOIN project p ON p.id = a.project_id WHERE p.slug = $1 AND a.action LIKE 'alert.%' ORDER BY a.id`, [slug]);
  const events: { type: string }[] = await t.server.db.query(
    `SELECT e.type FROM registry_event e JOIN project p ON p.id = e.project_id WHERE p.slug = $1 AND e.type LIKE 'ALERT_%' ORDER BY e.id`, [slug]);
  return { audit, events: events.map((e) => e.type) };
}

describe('the timer', () => {
  let t: TestServer;
  const { log, errors } = errorLog();
  serverOnScratchDatabase({ MODELGRAPH_MONITOR_INTERVAL_MS: '50' }, log, (server) => { t = server; });

  test('the only server on its database leads the timer, and /readyz says so', async () => {
    const base = t.server.url.replace(/\/graphql$/, '');
    const body = await until('the server to lead the timer', async () => {
      const b = (await (await fetch(`${base}/readyz`)).json()) as { monitorTimer?: string };
      return b.monitorTimer === 'leader' && b;
    });
    expect(body).toEqual({ status: 'ready', monitorTimer: 'leader' });
  });

  test('a series that goes silent reaches NO_DATA without any write', async () => {
    const { slug } = await createProject(t, 'silent');
    const mo = (await t.ok(CREATE_MONITOR, { input: {
      projectSlug: slug, name: 'heartbeat', metric: 'heartbeat', aggregation: 'MAX', windowSeconds: 3, comparator: 'GT', threshold: 100,
    } })).createMonitor.monitor;
    expect(mo.status).toBe('NO_DATA');
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'heartbeat', value: 1, timestamp: at(0) }] } });
    // Evaluated by the write (before its answer), while the point is in the 3 s window.
    const fresh = await monitorNode(t, mo.id);
    expect(fresh).toMatchObject({ status: 'OK', lastValue: 1 });

    // No write after it: only the timer can see the window empty.
    const silent = await until('the monitor to reach NO_DATA', async () => {
      const n = await monitorNode(t, mo.id);
      return n.status === 'NO_DATA' && n;
    });
    expect(silent.lastValue).toBeNull();
    expect(Date.parse(silent.lastEvaluatedAt!)).toBeGreaterThan(Date.parse(fresh.lastEvaluatedAt!));
    expect(silent.alerts.nodes).toEqual([]);
  });

  test('a window that slides past the points of an alert resolves it', async () => {
    const { slug } = await createProject(t, 'slide');
    const mo = (await t.ok(CREATE_MONITOR, { input: {
      projectSlug: slug, name: 'spikes', metric: 'latency_ms', aggregation: 'MAX', windowSeconds: 2, comparator: 'GT', threshold: 100,
    } })).createMonitor.monitor;
    // A spike now, and a normal point that stays in the window: the spike leaves it within 2 s.
    await t.ok(RECORD, { input: { projectSlug: slug, points: [
      { name: 'latency_ms', value: 500, timestamp: at(0) },
      { name: 'latency_ms', value: 10, timestamp: at(AHEAD) },
    ] } });
    const alerting = await monitorNode(t, mo.id);
    expect(alerting.status).toBe('ALERT');
    expect(alerting.alerts.nodes).toEqual([expect.objectContaining({ status: 'ALERT', value: 500, resolvedAt: null })]);

    // Both in one condition: the monitor and its alerts are read by separate statements, so one
    // read can see the monitor before a tick commits and its alerts after.
    const resolved = await until('the alert to resolve', async () => {
      const n = await monitorNode(t, mo.id);
      return n.status === 'OK' && n.alerts.nodes[0]?.resolvedAt ? n : null;
    });
    expect(resolved).toMatchObject({ status: 'OK', lastValue: 10 });
    expect(resolved.alerts.nodes).toHaveLength(1);
    // Opened by the write's evaluation, resolved by the timer's; each recorded once, however many ticks ran since.
    const records = await alertRecords(t, slug);
    expect(records.audit.map((a) => a.action)).toEqual(['alert.open', 'alert.resolve']);
    expect(records.audit[1].actor).toBe(MONITOR_TIMER_ACTOR);
    expect(records.events).toEqual(['ALERT_OPENED', 'ALERT_RESOLVED']);
    expect(errors).toEqual([]);
  });
});

describe('without the timer', () => {
  let t: TestServer;
  const { log, errors } = errorLog();
  // The timer off (the harness's default): what changes a monitor here is a write, an alias move, or the test's evaluateDue.
  // No lock timeout: a test holds a monitor's lock while a write's evaluation waits for it, however slow the machine.
  serverOnScratchDatabase({ DATABASE_POOL_SIZE: '12', MODELGRAPH_LOCK_TIMEOUT_MS: '0' }, log, (server) => { t = server; });

  test('/readyz reports the timer stopped', async () => {
    const base = t.server.url.replace(/\/graphql$/, '');
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready', monitorTimer: 'stopped' });
  });

  test('moving the alias a monitor follows evaluates it again, after the move commits; removing it gives NO_DATA', async () => {
    const { slug } = await createProject(t, 'follow');
    const model = await createModel(t, slug);
    const v1 = await createVersion(t, model.id);
    const v2 = await createVersion(t, model.id);
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: v1.number } });
    await t.ok(RECORD, { input: { projectSlug: slug, points: [
      { modelVersionId: v1.id, name: 'errors', value: 500, timestamp: at(AHEAD) },
      { modelVersionId: v2.id, name: 'errors', value: 3, timestamp: at(AHEAD) },
    ] } });
    const mo = (await t.ok(CREATE_MONITOR, { input: {
      projectSlug: slug, name: 'errors', metric: 'errors', modelId: model.id, alias: 'production', aggregation: 'MAX', windowSeconds: 600,
      comparator: 'GT', threshold: 100,
    } })).createMonitor.monitor;
    expect(mo).toMatchObject({ status: 'ALERT', lastValue: 500 });

    // No point is written after the move and no timer runs: only the move can evaluate the monitor.
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: v2.number } });
    const moved = await until('the monitor to follow the alias to v2', async () => {
      const n = await monitorNode(t, mo.id);
      return n.status === 'OK' && n;
    });
    expect(moved.lastValue).toBe(3);
    expect(moved.alerts.nodes).toEqual([expect.objectContaining({ status: 'ALERT', resolvedAt: expect.any(String) })]);

    await t.ok(REMOVE_ALIAS, { input: { modelId: model.id, alias: 'production' } });
    const removed = await until('the monitor to see no data once the alias is gone', async () => {
      const n = await monitorNode(t, mo.id);
      return n.status === 'NO_DATA' && n;
    });
    expect(removed.lastValue).toBeNull();
    const records = await alertRecords(t, slug);
    // The resolve is the mover's, not the timer's.
    expect(records.audit.map((a) => a.action)).toEqual(['alert.open', 'alert.resolve']);
    expect(records.audit[1].actor).not.toBe(MONITOR_TIMER_ACTOR);
    expect(errors).toEqual([]);
  });

  test('afterCommit runs a task once its transaction commits, never after a rollback, and drops what a rolled-back savepoint queued', async () => {
    const db = t.server.db;
    const seen: string[] = [];
    const marker = unique('after-commit');
    // The task reads on another connection: it must see what the transaction wrote.
    const task = (label: string) => async () => {
      const [row] = await db.query(`SELECT count(*)::int AS n FROM audit_event WHERE action = $1`, [marker]);
      seen.push(`${label}:${row.n}`);
    };
    const write = (m: EntityManager) => m.query(`INSERT INTO audit_event (actor, action, target_type) VALUES ('test', $1, 'Test')`, [marker]);

    await db.transaction(async (m) => {
      await write(m);
      afterCommit(m, task('outer'));
      await m.transaction(async (inner) => {
        afterCommit(inner, task('released savepoint'));
      });
      await m.transaction(async (inner) => {
        afterCommit(inner, task('rolled-back savepoint'));
        throw new Error('undo the savepoint');
      }).catch(() => undefined);
      // Not before the commit: nothing has run yet.
      await afterCommitSettled(db);
      expect(seen).toEqual([]);
    });
    await expect(db.transaction(async (m) => {
      await write(m);
      afterCommit(m, task('rolled back'));
      throw new Error('undo it all');
    })).rejects.toThrow('undo it all');
    await afterCommitSettled(db);
    expect(seen.sort()).toEqual(['outer:1', 'released savepoint:1']);
  });

  test('the timer skips a monitor a write is evaluating rather than wait, and evaluating again records nothing twice', async () => {
    const { slug } = await createProject(t, 'held');
    const mo = (await t.ok(CREATE_MONITOR, { input: {
      projectSlug: slug, name: 'held', metric: 'held', aggregation: 'LAST', windowSeconds: 600, comparator: 'GT', threshold: 100,
    } })).createMonitor.monitor;
    const db = t.server.db;
    const [{ id }] = await db.query(`SELECT m.id FROM monitor m JOIN project p ON p.id = m.project_id WHERE p.slug = $1`, [slug]);
    const before = await monitorNode(t, mo.id);

    // Another evaluation holds the monitor (as a timer batch or a write's evaluation would).
    const holder = db.createQueryRunner();
    await holder.connect();
    let writing: Promise<unknown>;
    try {
      await holder.startTransaction();
      await holder.query(`SELECT id FROM monitor WHERE id = $1 FOR UPDATE`, [id]);
      // A write commits, and its evaluation waits for the holder before it answers.
      writing = t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'held', value: 500, timestamp: at(AHEAD) }] } });
      await until('the write\'s evaluation to wait for the monitor\'s lock', async () => {
        const [row] = await db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`);
        return row.n > 0;
      });
      // The timer returns without waiting (this would hang, or time out, if it waited), and has not touched the held monitor.
      await evaluateDue(db, 0, 500);
      expect(await monitorNode(t, mo.id)).toMatchObject({ status: 'NO_DATA', lastEvaluatedAt: before.lastEvaluatedAt });
      await holder.commitTransaction();
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    await writing;
    expect(await monitorNode(t, mo.id)).toMatchObject({ status: 'ALERT', lastValue: 500 });
    // Evaluated again and again, by the timer and by writes of the same value: still the one alert.
    await evaluateDue(db, 0, 500);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'held', value: 700, timestamp: at(AHEAD + 1) }] } });
    await evaluateDue(db, 0, 500);
    const after = await monitorNode(t, mo.id);
    expect(after).toMatchObject({ status: 'ALERT', lastValue: 700 });
    expect(after.alerts.nodes).toEqual([expect.objectContaining({ status: 'ALERT', value: 500, resolvedAt: null })]);
    const records = await alertRecords(t, slug);
    expect(records.audit.map((a) => a.action)).toEqual(['alert.open']);
    expect(records.events).toEqual(['ALERT_OPENED']);
    expect(errors).toEqual([]);
  });

  test('a monitor whose evaluation fails does not hold back the others of its batch', async () => {
    const { slug } = await createProject(t, 'poison');
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push((await t.ok(CREATE_MONITOR, { input: {
        projectSlug: slug, name, metric: name, aggregation: 'MAX', windowSeconds: 60, comparator: 'GT', threshold: 100,
      } })).createMonitor.monitor.id);
    }
    const db = t.server.db;
    const [{ id: poison }] = await db.query(`SELECT m.id FROM monitor m JOIN project p ON p.id = m.project_id WHERE p.slug = $1 AND m.name = 'b'`, [slug]);
    const before = await Promise.all(ids.map((id) => monitorNode(t, id)));
    // A fault injected in the database: any write to the one monitor fails, as a statement timeout over its window would.
    const fn = `poison_${unique('f').replace(/-/g, '_')}`;
    await db.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
    await db.query(`CREATE TRIGGER ${fn} BEFORE UPDATE ON monitor FOR EACH ROW WHEN (OLD.id = '${poison}') EXECUTE FUNCTION ${fn}()`);
    const failures: string[] = [];
    try {
      await evaluateDue(db, 0, 500, { onFailure: (err, id) => failures.push(`${id}: ${(err as Error).message}`) });
    } finally {
      await db.query(`DROP TRIGGER ${fn} ON monitor`);
      await db.query(`DROP FUNCTION ${fn}()`);
    }
    expect(failures).toEqual([`${poison}: injected failure`]);
    const after = await Promise.all(ids.map((id) => monitorNode(t, id)));
    expect(after[1].lastEvaluatedAt).toBe(before[1].lastEvaluatedAt);
    for (const i of [0, 2]) expect(Date.parse(after[i].lastEvaluatedAt!)).toBeGreaterThan(Date.parse(before[i].lastEvaluatedAt!));
  });

  test('the timer racing writes and itself opens one alert and resolves it once', async () => {
    const { slug } = await createProject(t, 'race');
    const mo = (await t.ok(CREATE_MONITOR, { input: {
      projectSlug: slug, name: 'race', metric: 'race', aggregation: 'LAST', windowSeconds: 600, comparator: 'GT', threshold: 100,
    } })).createMonitor.monitor;
    const db = t.server.db;
    // Writes of `value` (stamped `from` ms ahead, so LAST is one of them) racing evaluations.
    const race = (value: number, from: number) => Promise.all(Array.from({ length: 8 }, (_, i) => [
      t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'race', value, timestamp: at(from + i) }] } }),
      // As if several replicas all believed they led, each evaluating every monitor at once.
      evaluateDue(db, 0, 1 + (i % 3)),
    ]).flat());

    await race(500, AHEAD - 60_000);
    expect(await monitorNode(t, mo.id)).toMatchObject({ status: 'ALERT', lastValue: 500 });
    await race(5, AHEAD);
    const settled = await monitorNode(t, mo.id);
    expect(settled).toMatchObject({ status: 'OK', lastValue: 5 });
    expect(settled.alerts.nodes).toEqual([expect.objectContaining({ status: 'ALERT', value: 500, resolvedAt: expect.any(String) })]);
    const records = await alertRecords(t, slug);
    expect(records.audit.map((a) => a.action)).toEqual(['alert.open', 'alert.resolve']);
    expect(records.events).toEqual(['ALERT_OPENED', 'ALERT_RESOLVED']);
    // A deadlock or a lock timeout would have been logged (the write's evaluation only logs its failure).
    expect(errors).toEqual([]);
  });
});

describe('the leader lock', () => {
  let url: string;
  let drop: () => Promise<void>;
  const quiet = pino({ level: 'silent' });
  beforeAll(async () => { ({ url, drop } = await scratchDatabase()); });
  afterAll(async () => { await drop?.(); });

  test('one holder at a time; a lost session hands it over; stop() gives it back', async () => {
    const name = unique('lock');
    const make = () => new Leader({ url, name, queryTimeoutMs: 10_000, log: quiet });
    const a = make();
    const b = make();
    try {
      expect(await a.poll()).toBe(true);
      expect(await b.poll()).toBe(false);
      expect([a.state, b.state]).toEqual(['leader', 'follower']);
      expect(await a.poll()).toBe(true);

      // The leader's session ends under it: it stops leading, and the other takes the lock at its next try.
      const admin = new Client({ connectionString: url });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() ORDER BY backend_start LIMIT 1`,
          [`modelgraph-leader:${name}`]);
        await admin.query(`SELECT pg_terminate_backend($1)`, [rows[0].pid]);
      } finally {
        await admin.end();
      }
      expect(await until('the follower to take over', () => b.poll())).toBe(true);
      // The old leader finds its session gone (the lock with it) and follows; the lock is not its to take back.
      expect(await a.poll()).toBe(false);
      expect(a.state).toBe('follower');
      expect(await a.poll()).toBe(false);

      // A clean stop unlocks at once: the other takes it at its very next poll.
      await b.stop();
      expect(b.state).toBe('stopped');
      expect(await a.poll()).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
