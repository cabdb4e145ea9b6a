import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { badInput } from '../../core/graphql/errors';
import { UUID_PATTERN, type NodeType } from '../../core/graphql/ids';
import { Params } from '../../core/db/sql';
import { groupBy } from '../../core/util/group-by';
import { checkCursorValues, decodeCursor, encodeCursor } from '../../core/graphql/pagination';
import { EventHub, Signal, StreamChannel } from '../../core/events/event-hub';
import { EVENTS_CHANNEL, POINTS_CHANNEL } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Stream } from './stream';

const EVENT_PAGE = 500;
const maxId = (a: string, b: string) => (BigInt(a) >= BigInt(b) ? a : b);

export interface StreamDeps {
  db: DataSource;
  hub: EventHub;
  log: Logger;
  /** Runs as each item is handed to graphql-js: the per-event fresh loaders bag. */
  onDeliver: () => void;
  /** Whether the subscriber's key still works; checked before each round, as HTTP checks per request. */
  authorized: () => Promise<boolean>;
}

/** The last item of a stream whose key was revoked: its resolver raises UNAUTHENTICATED. */
export class Revoked {}

/**
 * Starts a stream over one channel of one project: listens first (so nothing committed from
 * here on is missed), runs `init` (which fixes the start position), then runs `round` now and
 * after every notification. A round reads from the stream's position up to the hub's horizon
 * and pushes what it read; a failed round is retried with backoff rather than failing the
 * subscription.
 */
async function startStream<T>(
  deps: StreamDeps, channel: StreamChannel, projectId: string, init: () => Promise<void>, round: (stream: Stream<T>) => Promise<void>,
): Promise<Stream<T | Revoked>> {
  const signal = new Signal();
  const unlisten = deps.hub.listen(channel, projectId, signal);
  let untrack = () => undefined as void;
  const stream = new Stream<T | Revoked>(() => { unlisten(); untrack(); signal.notify(); }, deps.onDeliver);
  try {
    await init();
  } catch (err) {
    stream.close();
    throw err;
  }
  untrack = deps.hub.track(channel, projectId);
  void (async () => {
    let failures = 0;
    while (!stream.closed) {
      try {
        if (!(await deps.authorized())) {
          stream.push(new Revoked());
          stream.finish();
          break;
        }
        await round(stream as Stream<T>);
        failures = 0;
      } catch (err) {
        if (stream.closed) break;
        failures++;
        deps.log.warn({ err, projectId, channel }, 'subscription read failed; retrying');
        await sleep(Math.min(50 * 2 ** failures, 5000));
        signal.notify();
      }
      await signal.wait();
    }
  })();
  return stream;
}

// ---------------------------------------------------------------- registry events

export interface RegistryEventItem {
  id: string;
  type: RegistryEventType;
  at: Date;
  actor: string;
  subjectType: NodeType;
  subjectId: string;
}

export const registryEventCursor = (id: string) => encodeCursor(['e', id]);

/** The event id a `since` cursor names; BAD_USER_INPUT when it is not one of ours. */
export function parseEventCursor(since: string): string {
  const key = decodeCursor(since, 2, 'since')!;
  if (key[0] !== 'e') throw badInput('since is not a cursor of this stream', 'since');
  checkCursorValues([key[1]], ['bigint'], 'since');
  if (BigInt(String(key[1])) < 0n) throw badInput('since is not a valid cursor', 'since');
  return String(key[1]);
}

/**
 * The events of a project in id order: those after `sinceId` first (a replay), then live;
 * with no `sinceId`, those committed from now on. Only `types`, when given.
 */
export async function registryEventStream(
  deps: StreamDeps, projectId: string, types: RegistryEventType[] | null, sinceId: string | null,
): Promise<Stream<RegistryEventItem | Revoked>> {
  const wanted = types?.length ? new Set(types) : null;
  let last = sinceId ?? '0';
  const init = async () => {
    const now = await deps.hub.horizon(EVENTS_CHANNEL);
    // Without a cursor the stream starts at the horizon: what commits from now on.
    if (sinceId === null) last = now;
    // A cursor above the horizon was never handed out (horizons only grow): resuming from it would skip what commits below it.
    else if (BigInt(sinceId) > BigInt(now)) throw badInput('since names a position this stream has not reached', 'since');
  };
  return startStream<RegistryEventItem>(deps, EVENTS_CHANNEL, projectId, init, async (stream) => {
    const bound = await deps.hub.horizon(EVENTS_CHANNEL);
    for (;;) {
      const rows: { id: string; type: RegistryEventType; at: Date; actor: string; subject_type: NodeType; subject_id: string }[] = await deps.db.query(
        // Ordered by e.id, the bigint: a bare `id` would name the text output column.
        `SELECT e.id::text AS id, e.type, e.at, e.actor, e.subject_type, e.subject_id FROM registry_event e
          WHERE e.project_id = $1 AND e.id > $2 AND e.id <= $3 ORDER BY e.id LIMIT ${EVENT_PAGE}`,
        [projectId, last, bound],
      );
      for (const r of rows) {
        if (!wanted || wanted.has(r.type)) {
          stream.push({ id: r.id, type: r.type, at: r.at, actor: r.actor, subjectType: r.subject_type, subjectId: r.subject_id });
        }
      }
      const full = rows.length === EVENT_PAGE;
      last = full ? rows[rows.length - 1].id : maxId(last, bound);
      await stream.drained();
      if (!full || stream.closed) return;
    }
  });
}

// ---------------------------------------------------------------- metric points

export interface PointFilter {
  versionId: string | null;
  /** With `alias`: the version the alias points to when each point is read; alone: any version of the model. */
  modelId: string | null;
  alias: string | null;
  names: string[] | null;
  labels: Record<string, string> | null;
}

export interface StreamedPoint {
  timestamp: Date;
  value: number;
  min: number;
  max: number;
  count: number;
}

export interface MetricPointsItem {
  cursor: string;
  seriesId: string;
  points: StreamedPoint[];
}

/**
 * Where a metric stream stands. Every matching point with id <= `lo` was delivered. Above it,
 * `parts` split the ids into consecutive ranges, the first (lo, parts[0].hi], the next
 * (parts[0].hi, parts[1].hi] and so on: of the points of a range, those of the series up to
 * its `after` (in series id order; '' for none) were delivered. Nothing above the last part's
 * `hi` was. Points are delivered in pages of an id range, one event per series in series id
 * order, so the cursor of an event inside a page names the page's range and its series, and
 * the last event of a page names just the page's end.
 *
 * A live stream needs at most one part. A resumed stream pages the rest of the first part
 * like a live round, at most POINT_PAGE points per statement and per event: when the rest
 * holds more points than that (a forged cursor, or a filter that matches more now than when
 * the cursor was made, as an alias that moved), the part splits at the last point of the page,
 * and that page's cursors have one part more than the cursor resumed from.
 */
interface PointPosition {
  lo: string;
  parts: { hi: string; after: string }[];
}

/** Most points per statement and per event, live or replayed. */
export const POINT_PAGE = 5000;
/**
 * Most parts a cursor may have. A resume that splits a part hands out cursors with one part
 * more, so this allows that many such resumes in a row; it also bounds the ranges a forged
 * cursor can name (each is read in pages all the same).
 */
const MAX_CURSOR_PARTS = 16;

const pointCursor = (p: PointPosition) =>
  encodeCursor(['p', p.lo, ...(p.parts.length ? p.parts.flatMap((x) => [x.hi, x.after]) : [p.lo, ''])]);

/** Drops the parts that name nothing: empty ranges, and trailing ones with nothing delivered. */
function normalize(pos: PointPosition): PointPosition {
  const parts: PointPosition['parts'] = [];
  let prev = BigInt(pos.lo);
  for (const part of pos.parts) {
    if (BigInt(part.hi) > prev) parts.push(part);
    prev = BigInt(part.hi);
  }
  while (parts.length && parts[parts.length - 1].after === '') parts.pop();
  return { lo: pos.lo, parts };
}

/** The highest id a position names. */
const positionEnd = (p: PointPosition) => (p.parts.length ? p.parts[p.parts.length - 1].hi : p.lo);

export function parsePointCursor(since: string): PointPosition {
  const key = decodeCursor(since, (n) => n >= 4 && n % 2 === 0 && n <= 2 + 2 * MAX_CURSOR_PARTS, 'since')!;
  if (key[0] !== 'p') throw badInput('since is not a cursor of this stream', 'since');
  const ids = key.filter((_, i) => i === 1 || (i >= 2 && i % 2 === 0));
  checkCursorValues(ids, ids.map(() => 'bigint'), 'since');
  const lo = String(key[1]);
  const parts: PointPosition['parts'] = [];
  for (let i = 2; i < key.length; i += 2) parts.push({ hi: String(key[i]), after: String(key[i + 1]) });
  let prev = BigInt(lo);
  for (const part of parts) {
    if (BigInt(part.hi) < prev || (part.after !== '' && !UUID_PATTERN.test(part.after))) throw badInput('since is not a valid cursor', 'since');
    prev = BigInt(part.hi);
  }
  if (BigInt(lo) < 0n) throw badInput('since is not a valid cursor', 'since');
  return normalize({ lo, parts });
}

function filterSql(f: PointFilter, p: Params): string {
  const where: string[] = [];
  if (f.versionId) where.push(`s.model_version_id = ${p.add(f.versionId)}`);
  if (f.modelId && f.alias) {
    // Resolved at read time, so the stream follows the alias across moves.
    where.push(`s.model_version_id = (SELECT version_id FROM model_alias WHERE model_id = ${p.add(f.modelId)} AND name = ${p.add(f.alias)})`);
  } else if (f.modelId) {
    where.push(`s.model_version_id IN (SELECT id FROM model_version WHERE model_id = ${p.add(f.modelId)})`);
  }
  if (f.names?.length) where.push(`s.name = ANY(${p.add(f.names)}::text[])`);
  if (f.labels && Object.keys(f.labels).length) where.push(`s.labels @> ${p.add(JSON.stringify(f.labels))}::jsonb`);
  return where.map((w) => ` AND ${w}`).join('');
}

/** The matching points of the project with lo < id <= hi of the series after `after` ('' for all), at most POINT_PAGE, in id order. */
async function readPoints(db: DataSource, projectId: string, f: PointFilter, lo: string, hi: string, after: string) {
  const p = new Params();
  const sql = `SELECT p.id::text AS id, p.series_id, p.ts, p.value FROM metric_point p JOIN metric_series s ON s.id = p.series_id
     WHERE p.id > ${p.add(lo)} AND p.id <= ${p.add(hi)} AND p.project_id = ${p.add(projectId)}${after ? ` AND s.id > ${p.add(after)}` : ''}${filterSql(f, p)}
     ORDER BY p.id LIMIT ${POINT_PAGE}`;
  return db.query(sql, p.values) as Promise<{ id: string; series_id: string; ts: Date; value: number }[]>;
}

/**
 * Pushes the points of one page, (lo, hi] of the series after those already delivered, one
 * event per series in series id order; `rest` are the parts above the page.
 */
function pushPage(stream: Stream<MetricPointsItem>, rows: { series_id: string; ts: Date; value: number }[], lo: string, hi: string, rest: PointPosition['parts']) {
  const bySeries = groupBy(rows, (r) => r.series_id);
  const ids = [...bySeries.keys()].sort();
  ids.forEach((seriesId, i) => {
    const last = i === ids.length - 1;
    const at = last ? { lo: hi, parts: rest } : { lo, parts: [{ hi, after: seriesId }, ...rest] };
    stream.push({ cursor: pointCursor(at), seriesId,
      points: bySeries.get(seriesId)!.map((r): StreamedPoint => ({ timestamp: r.ts, value: r.value, min: r.value, max: r.value, count: 1 })) });
  });
}

/** New points of the series that match, batched per series; resumable like registryEventStream. */
export async function metricPointStream(
  deps: StreamDeps, projectId: string, filter: PointFilter, since: PointPosition | null,
): Promise<Stream<MetricPointsItem | Revoked>> {
  let pos: PointPosition = since ?? { lo: '0', parts: [] };
  const init = async () => {
    const now = await deps.hub.horizon(POINTS_CHANNEL);
    if (since === null) {
      pos = { lo: now, parts: [] };
    } else if (BigInt(positionEnd(since)) > BigInt(now)) {
      // Every position this server hands out is at or below a horizon, and horizons only grow.
      throw badInput('since names a position this stream has not reached', 'since');
    }
  };
  return startStream<MetricPointsItem>(deps, POINTS_CHANNEL, projectId, init, async (stream) => {
    const bound = await deps.hub.horizon(POINTS_CHANNEL);
    while (!stream.closed) {
      // The first part left of a resumed position, or else a live round up to the horizon.
      const part = pos.parts[0] ?? (BigInt(bound) > BigInt(pos.lo) ? { hi: bound, after: '' } : null);
      if (!part) return;
      const rows = await readPoints(deps.db, projectId, filter, pos.lo, part.hi, part.after);
      const full = rows.length === POINT_PAGE;
      const hi = full ? rows[rows.length - 1].id : part.hi;
      // A full page that ends below the part's end splits it: the rest of the part keeps its `after`.
      const rest = normalize({ lo: hi, parts: [...(hi === part.hi ? [] : [part]), ...pos.parts.slice(1)] }).parts;
      pushPage(stream, rows, pos.lo, hi, rest);
      pos = { lo: hi, parts: rest };
      await stream.drained();
    }
  });
}
