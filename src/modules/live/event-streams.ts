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

export interface StreamDeps {
  db: DataSource;
  hub: EventHub;
  log: Logger;
  /** Runs as each item is handed to graphql-js: the per-event fresh loaders bag. */
  onDeliver: () => void;
  /** Whether the subscriber's key still works; checked before each round, as HTTP checks per request. */
  authorized: () => Promise<boolean>;
  /** The subscriber's key, and which of many keys still work (one statement): a feed checks its members together. */
  keyId: string;
  activeKeys: (keyIds: string[]) => Promise<Set<string>>;
  /** Over WebSocket: the bound on what may wait for the subscriber, and what closes its socket past it. */
  sendBound?: { maxBytes: number; closeSlow: () => void };
}

/** A rough size of an event as sent (JSON of its cursor, series and points), to bound what waits for a slow subscriber. */
const weighPoints = (item: MetricPointsItem | Revoked) => (item instanceof Revoked ? 0 : 200 + 80 * item.points.length);

/** The last item of a stream whose key was revoked: its resolver raises UNAUTHENTICATED. */
export class Revoked {}

/**
 * Runs a subscriber's reads in the background until its stream closes: `catchUp` reads on its
 * own and ends by joining its feed (or closing the stream); it runs again when the feed bounces
 * it. A failed read is retried with backoff rather than failing the subscription.
 */
function followFeed<T>(deps: StreamDeps, channel: StreamChannel, projectId: string, stream: Stream<T>, wake: Signal, inFeed: () => boolean, catchUp: () => Promise<void>): void {
  void (async () => {
    let failures = 0;
    while (!stream.closed) {
      try {
        if (!inFeed()) await catchUp();
        failures = 0;
      } catch (err) {
        if (stream.closed) break;
        failures++;
        deps.log.warn({ err, projectId, channel }, 'subscription read failed; retrying');
        await sleep(Math.min(50 * 2 ** failures, 5000));
        continue;
      }
      await wake.wait();
    }
  })();
}

// ---------------------------------------------------------------- feeds

/** A live subscriber of a feed: everything it wants with id <= `floor` was delivered. */
interface FeedMember<T> {
  floor: string;
  keyId: string;
  stream: Stream<T | Revoked>;
  /** Told when the feed moved past `floor` before it could admit the member: it catches up on its own and joins again. */
  bounce: () => void;
}

/**
 * The live subscribers of one channel of one project in one process, read together. On a
 * wake-up (a notification, or the hub's periodic re-check) the feed takes the channel's horizon
 * and reads each page once for every member (one statement per page, whatever their number and
 * filters), and hands every member the same item objects as the others of its filter, so the
 * executor can resolve and serialize an item once per filter and selection, not per
 * subscriber. Members are at one position, the feed's `lo`, except one just admitted above it
 * (it takes only rows above its own `floor`). A subscriber that resumes from a cursor, or starts
 * below the feed, first reads on its own up to the feed's position and then joins. The feed
 * never waits for a member: a slow one is closed by the server (a bound on what waits to be
 * sent), never lets the others wait.
 *
 * A subclass reads one page (`readPage`) and delivers it to the members.
 */
abstract class Feed<T, M extends FeedMember<T>> {
  readonly members = new Set<M>();
  private joining: M[] = [];
  private readonly signal = new Signal();
  private readonly unlisten: () => void;
  private stopped = false;

  constructor(
    protected readonly deps: StreamDeps, private readonly channel: StreamChannel, protected readonly projectId: string,
    public lo: string, private readonly done: () => void,
  ) {
    this.unlisten = deps.hub.listen(channel, projectId, this.signal);
    void this.run();
  }

  /**
   * Reads the page after `lo` up to `bound`, hands each member what it wants above its floor and
   * moves every member's floor to the page's end, which it returns (with whether the page was full).
   */
  protected abstract readPage(lo: string, bound: string): Promise<{ hi: string; full: boolean }>;

  /** Admits a member at its next page, if the feed has not passed `floor` by then (else `bounce`). */
  join(m: M): boolean {
    if (this.stopped || BigInt(m.floor) < BigInt(this.lo)) return false;
    this.joining.push(m);
    // What committed between the member's start and now may have been announced before the feed listened.
    this.signal.notify();
    return true;
  }

  leave(m: M): void {
    this.members.delete(m);
    this.joining = this.joining.filter((j) => j !== m);
    if (!this.members.size && !this.joining.length) this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unlisten();
    this.done();
    this.signal.notify();
  }

  private admit(): void {
    const joining = this.joining;
    this.joining = [];
    for (const m of joining) {
      if (m.stream.closed) continue;
      if (BigInt(m.floor) >= BigInt(this.lo)) this.members.add(m);
      else m.bounce();
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      await this.signal.wait();
      if (this.stopped) break;
      try {
        await this.round();
        failures = 0;
      } catch (err) {
        if (this.stopped) break;
        failures++;
        this.deps.log.warn({ err, projectId: this.projectId, channel: this.channel }, 'subscription feed read failed; retrying');
        await sleep(Math.min(50 * 2 ** failures, 5000));
        this.signal.notify();
      }
    }
  }

  private async round(): Promise<void> {
    const bound = await this.deps.hub.horizon(this.channel, this.projectId);
    let authorized = false;
    while (!this.stopped) {
      this.admit();
      if (BigInt(bound) <= BigInt(this.lo) || !this.members.size) {
        // Nothing to read: the members above the feed's position wait where they are.
        return;
      }
      if (!authorized) {
        // As a subscriber alone checked its key before each read: all the members' keys in one statement.
        const active = await this.deps.activeKeys([...new Set([...this.members].map((m) => m.keyId))]);
        for (const m of this.members) {
          if (active.has(m.keyId)) continue;
          this.members.delete(m);
          m.stream.push(new Revoked());
          m.stream.finish();
        }
        authorized = true;
        if (!this.members.size) continue;
      }
      const { hi, full } = await this.readPage(this.lo, bound);
      this.lo = hi;
      if (!full) return;
    }
  }
}

/** What the process's table of feeds needs of a feed, whatever its items. */
type SomeFeed = { readonly members: ReadonlySet<unknown> };
const feedsByHub = new WeakMap<EventHub, Map<string, SomeFeed>>();

/** The feed of a channel of a project in this process, made by its first member at that member's position. */
function feedOf<F extends SomeFeed>(
  hub: EventHub, channel: StreamChannel, projectId: string, make: (done: () => void) => F,
): F {
  let feeds = feedsByHub.get(hub);
  if (!feeds) feedsByHub.set(hub, (feeds = new Map()));
  const key = `${channel}\u0000${projectId}`;
  let feed = feeds.get(key) as F | undefined;
  if (!feed) {
    const made: F = make(() => { if (feeds!.get(key) === made) feeds!.delete(key); });
    feeds.set(key, (feed = made));
  }
  return feed;
}

/** How many subscribers the process's feed of a channel (default: metric points) of a project holds (tests and the benchmark read it). */
export function feedMembers(hub: EventHub, projectId: string, channel: StreamChannel = POINTS_CHANNEL): number {
  return feedsByHub.get(hub)?.get(`${channel}\u0000${projectId}`)?.members.size ?? 0;
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

/**
 * The cursor of the registry event stream as it stands now: a subscription given it as `since`
 * receives exactly what commits after this call, so a client can fix its start before it
 * subscribes and resume from there if it loses the socket before its first event. The horizon
 * (not the largest id) is the position: every event at or below it is committed or never will be.
 */
export async function registryEventsNow(hub: EventHub): Promise<string> {
  return registryEventCursor(await hub.horizon(EVENTS_CHANNEL, null));
}

/** The event id a `since` cursor names; BAD_USER_INPUT when it is not one of ours. */
export function parseEventCursor(since: string): string {
  const key = decodeCursor(since, 2, 'since')!;
  if (key[0] !== 'e') throw badInput('since is not a cursor of this stream', 'since');
  checkCursorValues([key[1]], ['bigint'], 'since');
  if (BigInt(String(key[1])) < 0n) throw badInput('since is not a valid cursor', 'since');
  return String(key[1]);
}

/** The events of a project with lo < id <= hi, in id order, at most EVENT_PAGE of them. */
async function readEvents(db: DataSource, projectId: string, lo: string, hi: string): Promise<RegistryEventItem[]> {
  const rows: { id: string; type: RegistryEventType; at: Date; actor: string; subject_type: NodeType; subject_id: string }[] = await db.query(
    // Ordered by e.id, the bigint: a bare `id` would name the text output column.
    `SELECT e.id::text AS id, e.type, e.at, e.actor, e.subject_type, e.subject_id FROM registry_event e
      WHERE e.project_id = $1 AND e.id > $2 AND e.id <= $3 ORDER BY e.id LIMIT ${EVENT_PAGE}`,
    [projectId, lo, hi],
  );
  return rows.map((r) => ({ id: r.id, type: r.type, at: r.at, actor: r.actor, subjectType: r.subject_type, subjectId: r.subject_id }));
}

/** A live registryEvents (or alerts) subscriber: the event types it wants (null: all). */
interface EventMember extends FeedMember<RegistryEventItem> {
  wanted: Set<RegistryEventType> | null;
}

/** The registry event feed of a project: one statement a page for all its members, whatever types they want. */
class EventFeed extends Feed<RegistryEventItem, EventMember> {
  protected async readPage(lo: string, bound: string): Promise<{ hi: string; full: boolean }> {
    const items = await readEvents(this.deps.db, this.projectId, lo, bound);
    const full = items.length === EVENT_PAGE;
    const hi = full ? items[items.length - 1].id : bound;
    for (const m of this.members) {
      if (BigInt(m.floor) >= BigInt(hi)) continue;
      // Every member gets the same item objects, so the executor shares their results per selection.
      const above = BigInt(m.floor) <= BigInt(lo) ? items : items.filter((e) => BigInt(e.id) > BigInt(m.floor));
      for (const e of above) if (!m.wanted || m.wanted.has(e.type)) m.stream.push(e);
      m.floor = hi;
    }
    return { hi, full };
  }
}

/**
 * The events of a project in id order: those after `sinceId` first (a replay), then live;
 * with no `sinceId`, those committed from now on. Only `types`, when given. The subscriber
 * reads on its own while it replays, then joins its project's feed (see Feed).
 */
export async function registryEventStream(
  deps: StreamDeps, projectId: string, types: RegistryEventType[] | null, sinceId: string | null,
): Promise<Stream<RegistryEventItem | Revoked>> {
  const now = await deps.hub.horizon(EVENTS_CHANNEL, projectId);
  // A cursor above the horizon was never handed out (horizons only grow): resuming from it would skip what commits below it.
  if (sinceId !== null && BigInt(sinceId) > BigInt(now)) throw badInput('since names a position this stream has not reached', 'since');
  // Without a cursor the stream starts at the horizon: what commits from now on.
  let last = sinceId ?? now;
  let feed: EventFeed | null = null;
  const wake = new Signal();
  const member: EventMember = {
    wanted: types?.length ? new Set(types) : null, floor: last, keyId: deps.keyId, stream: null!,
    bounce: () => { feed = null; last = member.floor; wake.notify(); },
  };
  const untrack = deps.hub.track(EVENTS_CHANNEL, projectId);
  const stream = new Stream<RegistryEventItem | Revoked>(() => { untrack(); feed?.leave(member); wake.notify(); }, deps.onDeliver);
  member.stream = stream;
  followFeed(deps, EVENTS_CHANNEL, projectId, stream, wake, () => feed !== null, async () => {
    for (;;) {
      if (stream.closed) return;
      const target = feedOf(deps.hub, EVENTS_CHANNEL, projectId, (done) => new EventFeed(deps, EVENTS_CHANNEL, projectId, last, done));
      member.floor = last;
      if (target.join(member)) {
        feed = target;
        return;
      }
      if (!(await deps.authorized())) {
        stream.push(new Revoked());
        stream.finish();
        return;
      }
      // Below the feed: the events up to its position, a page at a time, then join it.
      // The feed's position as the read starts: the feed may move on while the read waits, and
      // what it passes meanwhile is this member's to read on the next turn, not to skip.
      const hi = target.lo;
      const items = await readEvents(deps.db, projectId, last, hi);
      for (const e of items) if (!member.wanted || member.wanted.has(e.type)) stream.push(e);
      last = items.length === EVENT_PAGE ? items[items.length - 1].id : hi;
      await stream.drained();
    }
  });
  return stream;
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

/** The cursor of the metric point stream as it stands now; see registryEventsNow. */
export async function metricPointsNow(hub: EventHub): Promise<string> {
  return pointCursor({ lo: await hub.horizon(POINTS_CHANNEL, null), parts: [] });
}

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

/**
 * Builds the events of one page for one subscriber: its rows of (lo, hi] (those above
 * `floor` only, for a subscriber that joined a feed above the page's start), one event per
 * series in series id order.
 */
function pageItems(rows: { series_id: string; ts: Date; value: number }[], lo: string, hi: string, rest: PointPosition['parts']): MetricPointsItem[] {
  const items: MetricPointsItem[] = [];
  const bySeries = groupBy(rows, (r) => r.series_id);
  const ids = [...bySeries.keys()].sort();
  ids.forEach((seriesId, i) => {
    const last = i === ids.length - 1;
    const at = last ? { lo: hi, parts: rest } : { lo, parts: [{ hi, after: seriesId }, ...rest] };
    items.push({ cursor: pointCursor(at), seriesId,
      points: bySeries.get(seriesId)!.map((r): StreamedPoint => ({ timestamp: r.ts, value: r.value, min: r.value, max: r.value, count: 1 })) });
  });
  return items;
}

/** The filter as the feed's statement takes it: one JSON object per distinct filter. */
function filterJson(f: PointFilter) {
  return {
    versionId: f.versionId, modelId: f.modelId, alias: f.modelId ? f.alias : null,
    names: f.names?.length ? [...f.names].sort() : null,
    labels: f.labels && Object.keys(f.labels).length ? f.labels : null,
  };
}

/**
 * One statement for a page of every filter of a feed: the points of the project with
 * lo < id <= hi that match at least one filter, at most POINT_PAGE, in id order, each with the
 * indexes of the filters it matches. An alias is resolved once per statement, when the page
 * is read (as a subscriber alone resolved it).
 */
async function readFeedPage(db: DataSource, projectId: string, filters: string, lo: string, hi: string) {
  return db.query(
    `WITH f AS (
       SELECT (o - 1)::int AS i, (v->>'versionId')::uuid AS version_id, (v->>'modelId')::uuid AS model_id,
              v->>'alias' AS alias, nullif(v->'names', 'null') AS names, nullif(v->'labels', 'null') AS labels,
              (SELECT a.version_id FROM model_alias a WHERE a.model_id = (v->>'modelId')::uuid AND a.name = v->>'alias') AS alias_version
         FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS t(v, o))
     SELECT p.id::text AS id, p.series_id, p.ts, p.value, array_agg(f.i) AS m
       FROM metric_point p JOIN metric_series s ON s.id = p.series_id
       JOIN f ON (f.version_id IS NULL OR s.model_version_id = f.version_id)
             AND (f.model_id IS NULL OR CASE WHEN f.alias IS NOT NULL THEN s.model_version_id = f.alias_version
                                             ELSE s.model_version_id IN (SELECT id FROM model_version WHERE model_id = f.model_id) END)
             AND (f.names IS NULL OR s.name IN (SELECT jsonb_array_elements_text(f.names)))
             AND (f.labels IS NULL OR s.labels @> f.labels)
      WHERE p.id > $1 AND p.id <= $2 AND s.project_id = $3
      GROUP BY p.id, p.series_id, p.ts, p.value
      ORDER BY p.id LIMIT ${POINT_PAGE}`,
    [lo, hi, projectId, filters],
  ) as Promise<{ id: string; series_id: string; ts: Date; value: number; m: number[] }[]>;
}

/** A live metricPoints subscriber: its filter's key (the JSON the page statement takes) besides its place. */
interface PointMember extends FeedMember<MetricPointsItem> {
  filterKey: string;
}

/** The metricPoints feed: one statement a page for every filter of its members (readFeedPage). */
class PointFeed extends Feed<MetricPointsItem, PointMember> {
  protected async readPage(lo: string, bound: string): Promise<{ hi: string; full: boolean }> {
    const groups = new Map<string, PointMember[]>();
    for (const m of this.members) {
      const g = groups.get(m.filterKey);
      if (g) g.push(m);
      else groups.set(m.filterKey, [m]);
    }
    const keys = [...groups.keys()];
    const rows = await readFeedPage(this.deps.db, this.projectId, `[${keys.join(',')}]`, lo, bound);
    const full = rows.length === POINT_PAGE;
    const hi = full ? rows[rows.length - 1].id : bound;
    const byFilter = keys.map(() => [] as typeof rows);
    for (const r of rows) for (const i of r.m) byFilter[i].push(r);
    keys.forEach((key, i) => {
      const mine = byFilter[i];
      let shared: MetricPointsItem[] | null = null;
      for (const m of groups.get(key)!) {
        if (!this.members.has(m)) continue;
        if (BigInt(m.floor) >= BigInt(hi)) continue;
        if (BigInt(m.floor) <= BigInt(lo)) {
          shared ??= pageItems(mine, lo, hi, []);
          for (const item of shared) m.stream.push(item);
        } else {
          for (const item of pageItems(mine.filter((r) => BigInt(r.id) > BigInt(m.floor)), m.floor, hi, [])) m.stream.push(item);
        }
        m.floor = hi;
      }
    });
    return { hi, full };
  }
}

/**
 * New points of the series that match, batched per series; resumable like registryEventStream.
 * The subscriber reads on its own while it replays from a cursor or is below its project's
 * feed, then joins the feed (see PointFeed).
 */
/** The last id metric_point's identity drew (0 before the first). */
async function lastPointId(deps: StreamDeps): Promise<string> {
  const [{ last }] = await deps.db.query(`SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('metric_point', 'id')), 0)::text AS last`);
  return last;
}

export async function metricPointStream(
  deps: StreamDeps, projectId: string, filter: PointFilter, since: PointPosition | null,
): Promise<Stream<MetricPointsItem | Revoked>> {
  let pos: PointPosition = since ?? { lo: '0', parts: [] };
  const now = await deps.hub.horizon(POINTS_CHANNEL, projectId);
  if (since === null) {
    pos = { lo: now, parts: [] };
  } else if (BigInt(positionEnd(since)) > BigInt(now) && BigInt(positionEnd(since)) > BigInt(await lastPointId(deps))) {
    // Every position this server hands out is at or below a horizon, so at or below the last id
    // drawn. (Not the horizon itself: it is the largest stored id, which falls back when
    // retention deletes the newest rows; a cursor above it is then still a genuine one.)
    throw badInput('since names a position this stream has not reached', 'since');
  }
  let feed: PointFeed | null = null;
  const wake = new Signal();
  const member: PointMember = {
    filterKey: JSON.stringify(filterJson(filter)), floor: pos.lo, keyId: deps.keyId, stream: null!,
    bounce: () => { feed = null; pos = { lo: member.floor, parts: [] }; wake.notify(); },
  };
  const untrack = deps.hub.track(POINTS_CHANNEL, projectId);
  const bound = deps.sendBound;
  const stream = new Stream<MetricPointsItem | Revoked>(
    () => { untrack(); feed?.leave(member); wake.notify(); },
    deps.onDeliver,
    bound && { weigh: weighPoints, max: bound.maxBytes, onOverflow: bound.closeSlow },
  );
  member.stream = stream;
  followFeed(deps, POINTS_CHANNEL, projectId, stream, wake, () => feed !== null, catchUp);

  /** Reads on its own until at or above the feed's position, then joins it. */
  async function catchUp(): Promise<void> {
    for (;;) {
      if (stream.closed) return;
      // A feed is made only to be joined: one with no member would never stop.
      const target = pos.parts.length ? null : feedOf(deps.hub, POINTS_CHANNEL, projectId, (done) => new PointFeed(deps, POINTS_CHANNEL, projectId, pos.lo, done));
      if (target) {
        member.floor = pos.lo;
        if (target.join(member)) {
          feed = target;
          return;
        }
      }
      if (!(await deps.authorized())) {
        stream.push(new Revoked());
        stream.finish();
        return;
      }
      // The first part left of a resumed position, or else the ids up to the feed's position.
      const part = pos.parts[0] ?? { hi: target!.lo, after: '' };
      const rows = await readPoints(deps.db, projectId, filter, pos.lo, part.hi, part.after);
      const full = rows.length === POINT_PAGE;
      const hi = full ? rows[rows.length - 1].id : part.hi;
      // A full page that ends below the part's end splits it: the rest of the part keeps its `after`.
      const rest = normalize({ lo: hi, parts: [...(hi === part.hi ? [] : [part]), ...pos.parts.slice(1)] }).parts;
      pushPage(stream as Stream<MetricPointsItem>, rows, pos.lo, hi, rest);
      pos = { lo: hi, parts: rest };
      await stream.drained();
    }
  }
  return stream;
}
