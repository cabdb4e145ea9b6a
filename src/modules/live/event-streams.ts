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
const POINT_PAGE = 5000;
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
  // Without a cursor the stream starts at the horizon: what commits from now on.
  const init = async () => { if (sinceId === null) last = await deps.hub.horizon(EVENTS_CHANNEL); };
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
 * Where a metric stream stands: every matching point with id <= lo was delivered, and of the
 * points in (lo, hi] the series up to `afterSeries` (in series id order). Points are delivered
 * in rounds of an id range, one event per series, so an event's cursor names the range and
 * the last series delivered; the last event of a round names just `hi`.
 */
interface PointPosition {
  lo: string;
  hi: string;
  afterSeries: string;
}

const pointCursor = (p: PointPosition) => encodeCursor(['p', p.lo, p.hi, p.afterSeries]);

export function parsePointCursor(since: string): PointPosition {
  const key = decodeCursor(since, 4, 'since')!;
  if (key[0] !== 'p') throw badInput('since is not a cursor of this stream', 'since');
  checkCursorValues([key[1], key[2]], ['bigint', 'bigint'], 'since');
  const [lo, hi, afterSeries] = [String(key[1]), String(key[2]), String(key[3])];
  if (BigInt(lo) < 0n || BigInt(hi) < BigInt(lo) || (afterSeries !== '' && !UUID_PATTERN.test(afterSeries))) {
    throw badInput('since is not a valid cursor', 'since');
  }
  return { lo, hi, afterSeries };
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

/** The matching points of the project with lo < id <= hi, at most `limit`, in id order. */
async function readPoints(db: DataSource, projectId: string, f: PointFilter, lo: string, hi: string, limit: number | null) {
  const p = new Params();
  const sql = `SELECT p.id::text AS id, p.series_id, p.ts, p.value FROM metric_point p JOIN metric_series s ON s.id = p.series_id
     WHERE p.id > ${p.add(lo)} AND p.id <= ${p.add(hi)} AND s.project_id = ${p.add(projectId)}${filterSql(f, p)}
     ORDER BY p.id${limit ? ` LIMIT ${limit}` : ''}`;
  return db.query(sql, p.values) as Promise<{ id: string; series_id: string; ts: Date; value: number }[]>;
}

/** Pushes one event per series of a round, in series id order, skipping those up to `after`. */
function pushRound(stream: Stream<MetricPointsItem>, rows: { series_id: string; ts: Date; value: number }[], lo: string, hi: string, after: string) {
  const bySeries = groupBy(rows, (r) => r.series_id);
  const ids = [...bySeries.keys()].filter((id) => after === '' || id > after).sort();
  ids.forEach((seriesId, i) => {
    const last = i === ids.length - 1;
    stream.push({ cursor: pointCursor(last ? { lo: hi, hi, afterSeries: '' } : { lo, hi, afterSeries: seriesId }), seriesId,
      points: bySeries.get(seriesId)!.map((r): StreamedPoint => ({ timestamp: r.ts, value: r.value, min: r.value, max: r.value, count: 1 })) });
  });
}

/** New points of the series that match, batched per series; resumable like registryEventStream. */
export async function metricPointStream(
  deps: StreamDeps, projectId: string, filter: PointFilter, since: PointPosition | null,
): Promise<Stream<MetricPointsItem | Revoked>> {
  let pos: PointPosition = since ?? { lo: '0', hi: '0', afterSeries: '' };
  const init = async () => {
    if (since !== null) return;
    const now = await deps.hub.horizon(POINTS_CHANNEL);
    pos = { lo: now, hi: now, afterSeries: '' };
  };
  return startStream<MetricPointsItem>(deps, POINTS_CHANNEL, projectId, init, async (stream) => {
    const bound = await deps.hub.horizon(POINTS_CHANNEL);
    if (pos.afterSeries !== '') {
      // Resuming inside a round: the rest of its series, then on from its end.
      const rows = await readPoints(deps.db, projectId, filter, pos.lo, pos.hi, null);
      pushRound(stream, rows, pos.lo, pos.hi, pos.afterSeries);
      pos = { lo: pos.hi, hi: pos.hi, afterSeries: '' };
    }
    for (;;) {
      const rows = await readPoints(deps.db, projectId, filter, pos.lo, bound, POINT_PAGE);
      const full = rows.length === POINT_PAGE;
      const hi = full ? rows[rows.length - 1].id : maxId(pos.lo, bound);
      pushRound(stream, rows, pos.lo, hi, '');
      pos = { lo: hi, hi, afterSeries: '' };
      await stream.drained();
      if (!full || stream.closed) return;
    }
  });
}
