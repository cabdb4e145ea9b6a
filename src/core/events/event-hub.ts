import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { EVENTS_CHANNEL, POINTS_CHANNEL } from './channels';
import { KEYS_CHANNEL, PrincipalCache } from '../auth/principal-cache';
import { STREAM_WRITER_LOCK, projectLockKey } from './stream-writers';

export type StreamChannel = typeof EVENTS_CHANNEL | typeof POINTS_CHANNEL;
const TABLE: Record<StreamChannel, string> = { [EVENTS_CHANNEL]: 'registry_event', [POINTS_CHANNEL]: 'metric_point' };

/** Marks the statements of `horizon()` (SqlStatementCounter counts them as `horizon`). */
export const HORIZON = 'horizon';

/**
 * The transactions (32-bit xids, as text) that hold a RowExclusiveLock, in this database, on
 * `table` or any of its partitions (found in pg_partition_tree, so partitions created later
 * count too): the transactions writing the stream table right now.
 *
 * Not the snapshot's xip list: a snapshot's xmax is the latest *completed* xid plus one, and a
 * transaction running with an xid at or above it is invisible but not listed. Such a writer can
 * have drawn a smaller id than the bound (it drew its id before the bound's writer drew its own,
 * though its xid is larger), so waiting only for the xip list could skip its row. Read in the
 * statement that takes the snapshot, pg_locks names every writer running at that moment.
 */
export const writersOf = (table: string) => `
  SELECT t.transactionid::text AS xid FROM pg_locks r
    JOIN pg_locks t ON t.virtualtransaction = r.virtualtransaction AND t.locktype = 'transactionid'
                   AND t.mode = 'ExclusiveLock' AND t.granted
   WHERE r.locktype = 'relation' AND r.mode = 'RowExclusiveLock' AND r.granted
     AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND r.relation IN (SELECT ${table}::regclass UNION SELECT relid FROM pg_partition_tree(${table}::regclass))`;

/**
 * writersOf, with the projects each writer declared (stream-writers.ts): the keys of the
 * STREAM_WRITER_LOCK advisory locks its transaction holds, empty for a writer that declared
 * none. pg_locks is read once for the whole statement.
 */
const declaredWritersOf = (table: string) => `
  WITH l AS MATERIALIZED (SELECT locktype, database, relation, classid, objid, objsubid, virtualtransaction, transactionid, mode, granted FROM pg_locks),
       w AS (SELECT DISTINCT t.transactionid::text AS xid, r.virtualtransaction AS vx FROM l r
               JOIN l t ON t.virtualtransaction = r.virtualtransaction AND t.locktype = 'transactionid'
                       AND t.mode = 'ExclusiveLock' AND t.granted
              WHERE r.locktype = 'relation' AND r.mode = 'RowExclusiveLock' AND r.granted
                AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND r.relation IN (SELECT ${table}::regclass UNION SELECT relid FROM pg_partition_tree(${table}::regclass)))
  SELECT w.xid, ARRAY(SELECT a.objid::int8 FROM l a WHERE a.virtualtransaction = w.vx AND a.locktype = 'advisory'
                        AND a.classid = ${STREAM_WRITER_LOCK} AND a.objsubid = 2 AND a.granted) AS projects
    FROM w`;

/** Of `pending` (xids from writersOf), those still writing `table`. */
export const stillWriting = (pending: string, table: string) => `
  SELECT x AS xid FROM unnest(${pending}::text[]) x WHERE x IN (${writersOf(table)})`;

/** One horizon statement's answer, and the waits made from it, one per project key ('*': all). */
interface HorizonRound {
  bound: string;
  writers: { xid: string; projects: string[] }[];
  settled: Map<string, Promise<string>>;
}

/** A wake-up flag: notify() any number of times, wait() returns once per batch of them. */
export class Signal {
  private dirty = false;
  private waiter: (() => void) | null = null;

  notify(): void {
    this.dirty = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async wait(): Promise<void> {
    if (!this.dirty) await new Promise<void>((r) => { this.waiter = r; });
    this.dirty = false;
  }
}

/**
 * The process's single LISTEN connection, fanned out to the subscriptions of this process.
 *
 * Ordering and resume guarantee. Stream rows (registry_event, metric_point) are ordered by
 * their identity id, and a subscriber delivers rows with `last < id <= bound`, then sets
 * `last = bound`. That is only exact if no row with id <= bound can still appear later: ids
 * are drawn when a row is inserted, not when its transaction commits, so a transaction that
 * drew id 10 may commit after another that drew 11. `horizon()` computes a bound for which
 * this cannot happen:
 *
 *  1. in one statement, take the snapshot, the largest id visible in it (`bound`), and the
 *     transactions that hold a write lock on the stream table in this database (writersOf),
 *     with the projects each declared it writes (stream-writers.ts);
 *  2. wait until each of those that may write the stream's project has ended, committed or
 *     rolled back: those that declared it, and those that declared no project at all.
 *
 * A row with id <= bound that was invisible in step 1 drew its id before the row `bound` was
 * inserted, so its transaction was running and had inserted into the stream table: it holds a
 * RowExclusiveLock on that table (or on one of its partitions) until it ends, and pg_locks,
 * read during the statement (after its snapshot), names it. Not the snapshot's xip list: that
 * leaves out running transactions whose xid is at or above the snapshot's xmax (the latest
 * completed xid plus one), and such a writer may have drawn an id below the bound. A
 * transaction that ends before pg_locks is read needs no wait (the next read sees it), and one
 * that takes the lock after it draws ids above the bound. The rows a stream reads are its
 * project's, and every writer of ModelGraph declares its project before it draws an id, so a
 * writer that declared only other projects cannot add a row the stream would read. A
 * transaction of another database on the cluster, one of this database that never wrote the
 * stream table (an `idle in transaction` session, a long report), or one that writes another
 * project's rows, is not waited for. After step 2 every
 * transaction waited for has committed (now visible) or rolled back (never will be). Rows with
 * ids above the bound are left for the next round. So every subscriber reads each row exactly
 * once, in id order, whether it replays from a cursor or is live, and whatever commits while it
 * replays. The cost: delivery waits for the transactions that were writing the project's rows
 * (normally milliseconds); one that wrote them and then stays open delays that project's
 * delivery, at most until `idle_in_transaction_session_timeout` (or `statement_timeout`) ends
 * it, but loses nothing. Re-reading a window and deduplicating was the alternative; it cannot
 * bound how late a slow transaction commits, nor deliver in order.
 *
 * One horizon statement is shared by every caller of a channel that asks before its snapshot
 * is taken, whatever its project, and one wait per project by the callers of that project: a
 * burst of notifications costs one statement per channel, not one per subscriber or project.
 */
export class EventHub {
  private client: Client | null = null;
  private readonly signals = new Map<string, Set<Signal>>();
  private readonly queued = new Map<StreamChannel, Promise<HorizonRound>>();
  private readonly live = new Map<string, number>();
  /** Per channel, the writing transactions (xids) a horizon is waiting for. */
  private readonly waits = new Map<StreamChannel, Set<{ pending: string[] }>>();
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = 100;

  constructor(
    private readonly db: DataSource,
    private readonly url: string,
    private readonly log: Logger,
    /** Told of key revocations on KEYS_CHANNEL, and whether they can be heard at all. */
    private readonly keys?: PrincipalCache,
    /**
     * How often every listener of POINTS_CHANNEL is woken without a notification (0: never).
     * The points wake-up may be sent after commit, best effort and coalesced, so a lost one
     * must not hold points back for longer than this: a woken feed costs one horizon
     * statement per channel, and reads only when the horizon moved past it.
     */
    private readonly pointsRecheckMs = 1000,
  ) {}

  private recheckTimer: NodeJS.Timeout | null = null;

  async start(): Promise<void> {
    await this.connect();
    if (this.pointsRecheckMs > 0) {
      this.recheckTimer = setInterval(() => {
        for (const [key, set] of this.signals) if (key.startsWith(`${POINTS_CHANNEL}:`)) for (const s of set) s.notify();
      }, this.pointsRecheckMs);
      this.recheckTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.keys?.setListening(false);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    const client = this.client;
    this.client = null;
    for (const set of this.signals.values()) for (const s of set) s.notify();
    await client?.end().catch(() => undefined);
  }

  /** Calls `signal.notify()` on every notification of `channel` for `projectId` until the returned function is called. */
  listen(channel: StreamChannel, projectId: string, signal: Signal): () => void {
    const key = `${channel}:${projectId}`;
    let set = this.signals.get(key);
    if (!set) this.signals.set(key, (set = new Set()));
    set.add(signal);
    return () => {
      set!.delete(signal);
      if (set!.size === 0 && this.signals.get(key) === set) this.signals.delete(key);
    };
  }

  /** Counts a stream that is live (listening, its start position known) until the returned function is called. */
  track(channel: StreamChannel, projectId: string): () => void {
    const key = `${channel}:${projectId}`;
    this.live.set(key, (this.live.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.live.get(key) ?? 1) - 1;
      if (n) this.live.set(key, n);
      else this.live.delete(key);
    };
  }

  /** How many subscriptions of this process are live on a project's channel (tests wait on it). */
  liveStreams(channel: StreamChannel, projectId: string): number {
    return this.live.get(`${channel}:${projectId}`) ?? 0;
  }

  /**
   * The transactions (xid8, as text) that a horizon of `channel` is waiting for right now:
   * subscribers of the channel are held back until they end. Tests wait on it to know that a
   * stream has met a transaction they hold open, instead of sleeping.
   */
  waitingFor(channel: StreamChannel): string[] {
    return [...(this.waits.get(channel) ?? [])].flatMap((w) => w.pending);
  }

  /**
   * The largest id of the channel's table below which every row of `projectId` is final (see
   * the class comment); with `projectId` null, every row of every project (a position any
   * project's stream may start from).
   */
  horizon(channel: StreamChannel, projectId: string | null): Promise<string> {
    let p = this.queued.get(channel);
    if (!p) {
      p = this.snapshot(channel);
      this.queued.set(channel, p);
    }
    return p.then((round) => {
      const key = projectId === null ? null : String(projectLockKey(projectId));
      let settled = round.settled.get(key ?? '*');
      if (!settled) {
        // The writers that may add rows of this project: those that declared it, and those that declared nothing.
        const pending = round.writers.filter((w) => key === null || w.projects.length === 0 || w.projects.includes(key)).map((w) => w.xid);
        settled = this.settle(channel, pending).then(() => round.bound);
        round.settled.set(key ?? '*', settled);
      }
      return settled;
    });
  }

  /** Step 1 of the class comment, in one statement: the bound, and the writers with their projects. */
  private async snapshot(channel: StreamChannel): Promise<HorizonRound> {
    await null;
    // Callers from here on need a snapshot taken after they asked: they start a new round.
    this.queued.delete(channel);
    // One statement: its snapshot is taken before pg_locks is read during its execution, as the class comment needs.
    const [{ bound, writers }]: { bound: string; writers: { xid: string; projects: string[] }[] }[] = await this.query(
      `SELECT (SELECT coalesce(max(id), 0)::text FROM ${TABLE[channel]}) AS bound,
              coalesce((SELECT json_agg(json_build_object('xid', d.xid, 'projects', d.projects)) FROM (${declaredWritersOf('$1')}) d), '[]') AS writers`,
      [TABLE[channel]],
    );
    return { bound, writers: writers.map((w) => ({ xid: w.xid, projects: w.projects.map(String) })), settled: new Map() };
  }

  /** Step 2: waits until each of `pending` (xids) has stopped writing the channel's table. */
  private async settle(channel: StreamChannel, pending: string[]): Promise<void> {
    let delay = 2;
    const wait = { pending };
    let waits: Set<{ pending: string[] }> | undefined;
    try {
      while (!this.stopped && wait.pending.length) {
        if (!waits) {
          waits = this.waits.get(channel) ?? new Set();
          this.waits.set(channel, waits.add(wait));
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 100);
        const rows: { xid: string }[] = await this.query(stillWriting('$1', '$2'), [wait.pending, TABLE[channel]]);
        wait.pending = rows.map((r) => r.xid);
      }
    } finally {
      waits?.delete(wait);
    }
  }

  /** Horizon statements run on a runner marked so that SqlStatementCounter counts them apart. */
  private async query(sql: string, params: unknown[]) {
    const runner = this.db.createQueryRunner();
    runner.data = { purpose: HORIZON };
    try {
      return await this.db.query(sql, params, runner);
    } finally {
      await runner.release();
    }
  }

  private dispatch(channel: string, payload: string): void {
    if (channel === KEYS_CHANNEL) {
      this.keys?.dropKey(payload);
      return;
    }
    const projectId = payload.split(':')[0];
    for (const s of this.signals.get(`${channel}:${projectId}`) ?? []) s.notify();
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.url });
    client.on('notification', (n) => this.dispatch(n.channel, n.payload ?? ''));
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      await client.query(`LISTEN ${POINTS_CHANNEL}`);
      await client.query(`LISTEN ${KEYS_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryDelay = 100;
    this.keys?.setListening(true);
  }

  /**
   * The LISTEN connection failed: reconnect with backoff, then wake every subscriber, since
   * notifications sent meanwhile were lost (the rows were not: subscribers read from `last`).
   */
  private lost(client: Client, err: Error | null): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    // Revocations sent while disconnected would be missed: stop trusting cached keys.
    this.keys?.setListening(false);
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    this.log.warn({ err }, 'event LISTEN connection lost; reconnecting');
    this.reconnect();
  }

  private reconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().then(
        () => {
          this.log.info('event LISTEN connection restored');
          for (const set of this.signals.values()) for (const s of set) s.notify();
        },
        (err) => {
          this.log.warn({ err }, 'event LISTEN reconnect failed');
          this.retryDelay = Math.min(this.retryDelay * 2, 5000);
          this.reconnect();
        },
      );
    }, this.retryDelay);
    this.retryTimer.unref();
  }

  /** For tests: drops the LISTEN connection as a network failure would. */
  async dropConnectionForTest(): Promise<void> {
    const c = this.client;
    if (c) this.lost(c, new Error('dropped for test'));
  }
}
