import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { ROLLUP_LOCK } from './rollups';

/**
 * The storage round of metric_point (partitioned by UTC day of `ts`, see the PointStorage
 * migration): it creates the partitions of the coming days, moves rows that landed in the
 * DEFAULT partition into a partition of their day, and applies each project's retention.
 *
 * Several server processes may run it at once: a round runs under a session advisory lock
 * taken with pg_try_advisory_lock, so one process does the work and the others skip that round; every CREATE also says IF NOT EXISTS, so a partition someone made by
 * hand is not an error either.
 */

const DAY_MS = 86_400_000;
/** Advisory lock key of the storage round: an arbitrary constant of this code. */
export const STORAGE_LOCK = 0x6d67_7374; // "mgst"
/** Retention deletes at most this many rows per project and round, so a round stays short. */
export const RETENTION_DELETE_BATCH = 50_000;

export interface StorageRoundResult {
  created: string[];
  /** Rows moved out of the DEFAULT partition. */
  moved: number;
  dropped: string[];
  /** Rows deleted by per-project retention. */
  deleted: number;
  /** False when another process held the round's lock. */
  ran: boolean;
}

export const partitionName = (day: Date) => `metric_point_p${day.toISOString().slice(0, 10).replace(/-/g, '')}`;
const dayStart = (t: Date) => new Date(Math.floor(t.getTime() / DAY_MS) * DAY_MS);

/**
 * Makes the partition of the UTC day starting at `day`, moving the rows of that day out of the
 * DEFAULT partition, in the caller's transaction; returns how many rows moved, or null when the
 * partition already existed.
 *
 * Why the ACCESS EXCLUSIVE lock on metric_point: rows leave DEFAULT and enter the new
 * partition in this one transaction, so every snapshot sees each row in exactly one of them.
 * But a reader's plan fixes the set of partitions it scans, and its execution snapshot is taken
 * after planning: a reader that planned before the ATTACH (no new partition) and took its
 * snapshot after the commit (rows gone from DEFAULT) would miss the rows. Locking the parent
 * table makes every reader plan either wholly before (then this waits for it) or wholly after
 * the commit (a REPEATABLE READ reader must take its lock before its snapshot: see
 * lockPointsForSnapshot in history.ts). Inserts wait too, for the length of the move; DEFAULT normally holds few rows
 * (only points older than every partition, or far ahead of the clock), and the lock waits at
 * most `lock_timeout`, after which the next round tries again.
 */
/**
 * Takes the locks of partition DDL in the order writers take theirs. Attaching, creating or
 * dropping a partition adds or drops its foreign key to metric_series, which locks metric_series
 * SHARE ROW EXCLUSIVE; a recordMetrics transaction locks metric_series ROW EXCLUSIVE as its first
 * step (storeBatch in metrics.service.ts) and only then writes metric_point. Both sides take the
 * two tables in this order, so neither can hold one while waiting for the other: a writer that
 * holds metric_series finishes before we go on, and one that comes after waits at that first
 * lock, before it touches metric_point.
 */
async function lockForDdl(m: EntityManager): Promise<void> {
  await m.query(`LOCK TABLE metric_series IN SHARE ROW EXCLUSIVE MODE`);
  await m.query(`LOCK TABLE metric_point IN ACCESS EXCLUSIVE MODE`);
}

export async function createPartition(m: EntityManager, day: Date): Promise<number | null> {
  const name = partitionName(day);
  const lo = day.toISOString();
  const hi = new Date(day.getTime() + DAY_MS).toISOString();
  await lockForDdl(m);
  // Under the lock: no other round can create it meanwhile.
  const [{ exists }] = await m.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [name]);
  if (exists) return null;
  // Under the lock: no insert can add a row of the day to DEFAULT any more.
  const [{ waiting }] = await m.query(
    `SELECT EXISTS (SELECT 1 FROM metric_point_default WHERE ts >= $1 AND ts < $2) AS waiting`, [lo, hi]);
  if (!waiting) {
    // Nothing to move: a plain CREATE ... PARTITION OF (it checks DEFAULT holds no row of the day).
    await m.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF metric_point FOR VALUES FROM ('${lo}') TO ('${hi}')`);
    return 0;
  }
  await m.query(`CREATE TABLE ${name} (LIKE metric_point INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  const moved: { n: number }[] = await m.query(
    `WITH gone AS (DELETE FROM metric_point_default WHERE ts >= $1 AND ts < $2 RETURNING id, project_id, series_id, ts, value),
          put AS (INSERT INTO ${name} (id, project_id, series_id, ts, value) OVERRIDING SYSTEM VALUE SELECT * FROM gone RETURNING 1)
     SELECT count(*)::int AS n FROM put`, [lo, hi]);
  await m.query(`ALTER TABLE metric_point ATTACH PARTITION ${name} FOR VALUES FROM ('${lo}') TO ('${hi}')`);
  return moved[0].n;
}

/** The days (UTC midnights) that have rows waiting in the DEFAULT partition. */
async function daysInDefault(m: EntityManager): Promise<Date[]> {
  const rows: { day: Date }[] = await m.query(
    `SELECT DISTINCT date_trunc('day', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day FROM metric_point_default ORDER BY 1`);
  return rows.map((r) => new Date(r.day));
}

/** The daily partitions, with their range, oldest first. */
export async function listPartitions(m: EntityManager | DataSource): Promise<{ name: string; from: Date; to: Date }[]> {
  const rows: { name: string; bound: string }[] = await m.query(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'metric_point'::regclass AND c.relname <> 'metric_point_default'
      ORDER BY c.relname`);
  return rows.map((r) => {
    const [from, to] = [...r.bound.matchAll(/'([^']+)'/g)].map((x) => new Date(x[1]));
    return { name: r.name, from, to };
  });
}

/**
 * Retention, as users of Prometheus and TimescaleDB expect it: a point is removed once its
 * whole UTC day is older than the project's retention (so never earlier than `days` after it
 * was stamped, at most a day later), and rollups of those days go with it, so a read answers
 * the same from either. A partition whose day every project with points in it lets go is
 * dropped whole (TimescaleDB's drop_chunks: no dead rows, no vacuum); a project with a shorter
 * retention than its neighbours in a partition has its own rows deleted, in batches.
 */
export function retentionCutoff(now: Date, days: number): Date {
  return new Date(dayStart(now).getTime() - days * DAY_MS);
}

type Step = (fn: (m: EntityManager) => Promise<void>) => Promise<void>;

/**
 * Each drop and each batch of deletes is a step of its own (its own short transaction): a
 * partition's ACCESS EXCLUSIVE lock is held for its DROP alone, and the deletes take no DDL
 * lock, so ingest, streams and reads wait at most for one step, never for the whole retention.
 */
async function applyRetention(m: EntityManager, step: Step, now: Date, result: StorageRoundResult): Promise<void> {
  const policies: { project_id: string; days: number }[] = await m.query(`SELECT project_id, days FROM metric_retention`);
  if (policies.length === 0) return;
  const days = new Map(policies.map((p) => [p.project_id, p.days]));
  const shortest = retentionCutoff(now, Math.min(...policies.map((p) => p.days))).getTime();
  for (const part of await listPartitions(m)) {
    // Only a partition that some policy lets go is worth looking into.
    if (part.to.getTime() > shortest) continue;
    // The projects with rows in it, one index probe each (a loose scan of (project_id, id)).
    const projects: { id: string }[] = await m.query(
      `WITH RECURSIVE p AS (SELECT (SELECT project_id FROM ${part.name} ORDER BY project_id LIMIT 1) AS id
                            UNION ALL
                            SELECT (SELECT project_id FROM ${part.name} WHERE project_id > p.id ORDER BY project_id LIMIT 1) FROM p WHERE p.id IS NOT NULL)
       SELECT id FROM p WHERE id IS NOT NULL`);
    if (projects.every((p) => days.has(p.id) && part.to.getTime() <= retentionCutoff(now, days.get(p.id)!).getTime())) {
      await step(async (t) => {
        await lockForDdl(t);
        await t.query(`DROP TABLE ${part.name}`);
      });
      result.dropped.push(part.name);
    }
  }
  for (const p of policies) {
    const cutoff = retentionCutoff(now, p.days).toISOString();
    await step(async (t) => {
      const [{ n }] = await t.query(
        `WITH gone AS (DELETE FROM metric_point WHERE (id, ts) IN (
                         SELECT id, ts FROM metric_point WHERE project_id = $1 AND ts < $2 LIMIT ${RETENTION_DELETE_BATCH}) RETURNING 1)
         SELECT count(*)::int AS n FROM gone`, [p.project_id, cutoff]);
      result.deleted += n;
    });
    // Hours before minutes: the order in which the rollup round writes them, so the two never
    // wait on each other's rows in opposite orders (a deadlock). Batched like the points.
    for (const unit of ['1h', '1m']) {
      await step(async (t) => {
        await t.query(
          `DELETE FROM metric_rollup_${unit} WHERE ctid IN (
             SELECT ctid FROM metric_rollup_${unit} WHERE project_id = $1 AND bucket < $2 LIMIT ${RETENTION_DELETE_BATCH})`, [p.project_id, cutoff]);
      });
    }
  }
}

/**
 * One storage round: partitions for today and the next `aheadDays` days, a partition for each
 * day with rows in DEFAULT (their rows moved), then retention. Returns what it did.
 */
export async function storageRound(
  db: DataSource,
  opts: { now?: Date; aheadDays?: number; /** How long a DDL step waits for its locks; 1 s unless said (tests say more). */ lockTimeoutMs?: number } = {},
): Promise<StorageRoundResult> {
  const now = opts.now ?? new Date();
  const result: StorageRoundResult = { created: [], moved: 0, dropped: [], deleted: 0, ran: false };
  // A session lock held across the round's short transactions, one per partition and one for
  // retention, so that the DDL locks are held for one step at a time.
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock($1) AS locked`, [STORAGE_LOCK]);
    if (!locked) return result;
    try {
      result.ran = true;
      const step: Step = async (fn) => {
        await runner.startTransaction();
        try {
          // Waits for a rollup transaction in flight (each is one chunk), and keeps the next one
          // out meanwhile (the round only tries the lock): a rollup catching up holds ACCESS
          // SHARE on metric_point longer than the lock_timeout below would let the DDL wait.
          await runner.query(`SELECT pg_advisory_xact_lock($1)`, [ROLLUP_LOCK]);
          // A DDL lock waits behind running readers and holds every later one up meanwhile: give up soon, the next round retries.
          await runner.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(opts.lockTimeoutMs ?? 1000))}`);
          await fn(runner.manager);
          await runner.commitTransaction();
        } catch (err) {
          if (runner.isTransactionActive) await runner.rollbackTransaction();
          throw err;
        }
      };
      const today = dayStart(now);
      const days = new Map<number, Date>();
      for (let k = 0; k <= (opts.aheadDays ?? 3); k++) days.set(today.getTime() + k * DAY_MS, new Date(today.getTime() + k * DAY_MS));
      for (const d of await daysInDefault(runner.manager)) days.set(d.getTime(), d);
      for (const day of [...days.values()].sort((a, b) => a.getTime() - b.getTime())) {
        const [{ exists }] = await runner.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [partitionName(day)]);
        if (exists) continue;
        await step(async (m) => {
          const moved = await createPartition(m, day);
          if (moved === null) return;
          result.moved += moved;
          result.created.push(partitionName(day));
        });
      }
      await applyRetention(runner.manager, step, now, result);
    } finally {
      await runner.query(`SELECT pg_advisory_unlock($1)`, [STORAGE_LOCK]);
    }
  } finally {
    await runner.release();
  }
  return result;
}

/** Runs `round` every `intervalMs` (the first at once) until stopped; a failed round is logged and retried at the next tick. */
export function everyInterval(name: string, intervalMs: number, log: Logger, round: (stopped: () => boolean) => Promise<unknown>): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = round(() => stopped).then(() => undefined, (err) => { if (!stopped) log.warn({ err }, `${name} round failed`); })
      .finally(() => { if (!stopped) { timer = setTimeout(tick, intervalMs); timer.unref(); } });
  };
  tick();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
