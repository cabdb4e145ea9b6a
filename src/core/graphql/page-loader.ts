import DataLoader from 'dataloader';
import { DataSource, ObjectLiteral } from 'typeorm';
import { Params, hydrate } from '../db/sql';
import { groupBy } from '../util/group-by';
import { badInput } from './errors';
import { Connection, checkCursorValues, decodeCursor, toConnection } from './pagination';

/** How to read one keyset page of a child list (e.g. a model's versions) for any parent. */
export interface PageSpec {
  /** Identifies the statement shape and its parameters: equal strings batch together. */
  group: string;
  /** Names the sort order; cursors carry it. */
  tag: string;
  table: string;
  parentColumn: string;
  parentType: 'uuid';
  /** Sort key columns with their SQL types; all in one direction so a row comparison works. */
  keyColumns: { column: string; type: string; prop: string }[];
  desc: boolean;
  /** `first + 1`: the extra row tells whether a next page exists. */
  limit: number;
  after: unknown[] | null;
  /** Extra conditions on alias `t`, or null. */
  where: (p: Params) => string | null;
}

export interface PageKey {
  parentId: string;
  spec: PageSpec;
}

/**
 * A DataLoader that fetches one page per parent for many parents in a single statement: a
 * LATERAL subquery per parent walks the (parent, sort key) index, so each parent costs an
 * index range scan of `limit` rows, never a scan of all its children.
 */
export function pageLoader<T extends ObjectLiteral>(db: DataSource, cls: { new (): T }, batch: boolean, onRows?: (rows: T[]) => void) {
  return new DataLoader<PageKey, T[], string>(
    async (keys) => {
      const groups = groupBy(keys, (k) => k.spec.group);
      const byKey = new Map<string, T[]>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const spec = group[0].spec;
          const p = new Params();
          const parents = p.add(group.map((k) => k.parentId));
          const conds = [`t.${spec.parentColumn} = k.pid`];
          const extra = spec.where(p);
          if (extra) conds.push(extra);
          if (spec.after) {
            const cols = spec.keyColumns.map((c) => `t.${c.column}`).join(', ');
            const vals = spec.keyColumns.map((c, i) => `${p.add(spec.after![i])}::${c.type}`).join(', ');
            conds.push(`(${cols}) ${spec.desc ? '<' : '>'} (${vals})`);
          }
          const dir = spec.desc ? 'DESC' : 'ASC';
          const order = spec.keyColumns.map((c) => `t.${c.column} ${dir}`).join(', ');
          const outerOrder = spec.keyColumns.map((c) => `x.${c.column} ${dir}`).join(', ');
          // The outer ORDER BY makes each parent's rows come back in page order whatever plan
          // Postgres picks; it sorts only the rows already limited per parent.
          const sql = `SELECT x.*, k.pid AS __parent FROM unnest(${parents}::${spec.parentType}[]) WITH ORDINALITY AS k(pid, ord)
            CROSS JOIN LATERAL (SELECT t.* FROM ${spec.table} t WHERE ${conds.join(' AND ')}
                                ORDER BY ${order} LIMIT ${p.add(spec.limit)}) x
            ORDER BY k.ord, ${outerOrder}`;
          const rows: Record<string, unknown>[] = await db.query(sql, p.values);
          const entities = hydrate(db, cls, rows);
          onRows?.(entities);
          groupBy(entities, (_, i) => `${rows[i].__parent}|${spec.group}`, byKey);
        }),
      );
      return keys.map((k) => byKey.get(`${k.parentId}|${k.spec.group}`) ?? []);
    },
    { batch, cache: batch, cacheKeyFn: (k) => `${k.parentId}|${k.spec.group}` },
  );
}

/** A loader of rows by a key column, answering in key order (null where nothing matched). */
export function rowLoader<T extends ObjectLiteral>(
  db: DataSource,
  cls: { new (): T },
  batch: boolean,
  sql: (keysParam: string) => string,
  keyOf: (row: T) => string,
  onRows?: (rows: T[]) => void,
) {
  return new DataLoader<string, T | null>(
    async (keys) => {
      const rows = hydrate(db, cls, await db.query(sql('$1'), [keys]));
      onRows?.(rows);
      const map = new Map(rows.map((r) => [keyOf(r), r]));
      return keys.map((k) => map.get(k) ?? null);
    },
    { batch, cache: batch },
  );
}

/** A loader of rows by key that other loaders of the same request fill with the rows they read. */
export type FilledLoader<T> = DataLoader<string, T | null> & {
  /** Puts rows another loader read into this one, so loading them costs no statement. */
  fill(rows: T[]): void;
  /** Declares `loader` as one that fills this one (its statements return rows of this kind); returns it. */
  fedBy<L extends { load(key: never): Promise<unknown> }>(loader: L): L;
};

/**
 * Holds a loader's batches until the loaders it follows ("feeders") have no load in flight,
 * including loads that finishing ones set off. A loader reached along several paths of one
 * query (a revision's routes, from the routes in force and from the history) would otherwise
 * send one statement or two depending on which feeder's statement answered first; held, its
 * batch takes every key those paths ask for. The wait costs nothing in time: the request cannot
 * answer before those statements do anyway. Loaders that follow each other would wait for each
 * other: the feeders must not follow (directly or not) the loader they feed.
 */
export function feederGate() {
  const inFlight = new Set<Promise<unknown>>();
  /** Resolves once no feeding load is in flight, including loads that finishing ones set off. */
  const quiet = async () => {
    do {
      // After the promise jobs of what just finished: resolvers it woke have made their loads.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (inFlight.size) await Promise.allSettled([...inFlight]);
    } while (inFlight.size);
  };
  return {
    /** A DataLoader `batchScheduleFn`: dispatches once the feeders are quiet. */
    schedule: (dispatch: () => void) => { void quiet().then(dispatch); },
    /** Declares `feeder` as one this gate waits for; returns it. */
    track<L extends { load(key: never): Promise<unknown> }>(feeder: L): L {
      const load = feeder.load.bind(feeder);
      feeder.load = ((key: never) => {
        const p = load(key);
        inFlight.add(p);
        const done = () => { inFlight.delete(p); };
        p.then(done, done);
        return p;
      }) as L['load'];
      return feeder;
    },
  };
}

/**
 * A rowLoader that its sibling loaders fill: a page of versions fills versions-by-id, so
 * `baseVersion` under it costs nothing. Filling from a sibling is a race, though: a load
 * dispatched while the sibling statement that returns its row is still running reads the row
 * a second time, one dispatched after it does not, so the same request would cost one
 * statement more or less depending on which of two concurrent statements answered first.
 * So a load here waits until the loaders that feed this one (`fedBy`) have no load in
 * flight (feederGate), and then reads only the keys they did not bring. Without batching
 * nothing is cached or filled: it is a plain rowLoader.
 */
export function filledRowLoader<T extends ObjectLiteral>(
  db: DataSource,
  cls: { new (): T },
  batch: boolean,
  sql: (keysParam: string) => string,
  keyOf: (row: T) => string,
): FilledLoader<T> {
  const known = new Map<string, T>();
  const gate = feederGate();
  const loader = new DataLoader<string, T | null>(
    async (keys) => {
      const missing = keys.filter((k) => !known.has(k));
      if (missing.length) {
        for (const row of hydrate(db, cls, await db.query(sql('$1'), [missing]))) known.set(keyOf(row), row);
      }
      return keys.map((k) => known.get(k) ?? null);
    },
    { batch, cache: batch, ...(batch ? { batchScheduleFn: gate.schedule } : {}) },
  );
  return Object.assign(loader, {
    fill(rows: T[]) {
      if (!batch) return;
      for (const row of rows) {
        const key = keyOf(row);
        known.set(key, row);
        loader.prime(key, row);
      }
    },
    fedBy<L extends { load(key: never): Promise<unknown> }>(feeder: L): L {
      return batch ? gate.track(feeder) : feeder;
    },
  });
}

/**
 * A loader keyed by pairs such as (project, name) or (model, number); `sql` takes the two key
 * columns as arrays $1 and $2. Answers in key order; `onRows` primes other caches.
 */
export function pairLoader<T extends ObjectLiteral>(
  db: DataSource,
  cls: { new (): T },
  batch: boolean,
  sql: string,
  pairOf: (row: T) => [string, string],
  onRows: (rows: T[]) => void,
) {
  return new DataLoader<[string, string], T | null, string>(
    async (keys) => {
      const rows = hydrate(db, cls, await db.query(sql, [keys.map((k) => k[0]), keys.map((k) => k[1])]));
      onRows(rows);
      const map = new Map(rows.map((r) => [pairOf(r).join('\u0000'), r]));
      return keys.map((k) => map.get(k.join('\u0000')) ?? null);
    },
    { batch, cache: batch, cacheKeyFn: (k) => k.join('\u0000') },
  );
}

/** One sort order of a list: its key columns (with the entity property holding each). */
export interface SortKey {
  tag: string;
  columns: { column: string; type: string; prop: string }[];
  desc: boolean;
}

/**
 * Builds the page request for a connection field. The cursor carries the order's tag, so a
 * cursor from one order used with another is rejected instead of silently skipping rows.
 */
export function pageSpec(o: {
  table: string;
  parentColumn: string;
  sort: SortKey;
  first: number;
  after: string | null | undefined;
  filterKey: unknown;
  where: (p: Params) => string | null;
}): PageSpec {
  const after = decodeCursor(o.after, o.sort.columns.length + 1);
  if (after && after[0] !== o.sort.tag) throw badInput('after is a cursor of another list or order', 'after');
  const afterKey = after ? after.slice(1) : null;
  if (afterKey) checkCursorValues(afterKey, o.sort.columns.map((c) => c.type), 'after');
  return {
    group: JSON.stringify([o.table, o.parentColumn, o.sort.tag, o.first, afterKey, o.filterKey]),
    tag: o.sort.tag,
    table: o.table,
    parentColumn: o.parentColumn,
    parentType: 'uuid',
    keyColumns: o.sort.columns,
    desc: o.sort.desc,
    limit: o.first + 1,
    after: afterKey,
    where: o.where,
  };
}

/** The connection for a page of rows fetched with `pageSpec`. */
export function pageConnection<T extends object>(rows: T[], spec: PageSpec): Connection<T> {
  const key = (row: T) => [
    spec.tag,
    ...spec.keyColumns.map((c) => {
      const v = (row as Record<string, unknown>)[c.prop];
      return v instanceof Date ? v.toISOString() : (v as string | number);
    }),
  ];
  return toConnection(rows, spec.limit - 1, spec.after !== null, key);
}
