import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { Client as WsClient } from 'graphql-ws';
import { encodeCursor } from '../src/core/graphql/pagination';
import { registryEventCursor } from '../src/modules/live/event-streams';
import { EVENTS_CHANNEL, POINTS_CHANNEL } from '../src/core/events/registry-events';
import {
  GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, testDatabaseUrl, unique,
} from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

/** Every bounded wait in this file gives up after this long, so a lost event fails instead of hanging. */
const WAIT_MS = 8000;

/** A subscription whose results a test takes a known number at a time, each wait bounded. */
function subscribe<T = any>(client: WsClient, query: string, variables?: Record<string, unknown>) {
  const results: GqlResponse<T>[] = [];
  let ended: unknown = null;
  let wake: (() => void) | null = null;
  const stop = client.subscribe<T>({ query, variables }, {
    next: (r) => { results.push({ status: 0, data: r.data as T, errors: r.errors as GqlResponse['errors'] }); wake?.(); },
    error: (e) => { ended = e ?? 'error'; wake?.(); },
    complete: () => { ended ??= 'complete'; wake?.(); },
  });
  let taken = 0;
  return {
    /** The next `n` results; fails when they do not all come within WAIT_MS or the stream ends first. */
    async take(n: number): Promise<GqlResponse<T>[]> {
      const deadline = Date.now() + WAIT_MS;
      while (results.length < taken + n) {
        if (ended) throw new Error(`subscription ended (${JSON.stringify(ended)}) after ${JSON.stringify(results.slice(taken))}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`waited for ${n} results, got ${results.length - taken}: ${JSON.stringify(results.slice(taken))}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => { clearTimeout(timer); resolve(); };
        });
        wake = null;
      }
      const out = results.slice(taken, taken + n);
      taken += n;
      return out;
    },
    /**
     * The errors of an operation that fails at once: a result with errors then complete, or an
     * `error` message (refused before it ran, e.g. without a key).
     */
    async failure(): Promise<GqlResponse<T>> {
      const deadline = Date.now() + WAIT_MS;
      while (!results.length && ended === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      if (!results.length && Array.isArray(ended)) return { status: 0, errors: ended as GqlResponse['errors'] };
      const [r] = await this.take(1);
      return r;
    },
    stop,
  };
}

/** Waits (bounded) until the server has `n` live subscriptions on a project's channel, so "live from now" has begun. */
async function live(server: TestServer, channel: string, projectId: string, n = 1) {
  const deadline = Date.now() + WAIT_MS;
  while (server.server.events.liveStreams(channel as never, projectId) < n) {
    if (Date.now() > deadline) throw new Error('subscription did not go live');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const EVENTS = `subscription($s: String!, $types: [RegistryEventType!], $since: String) {
  registryEvents(projectSlug: $s, types: $types, since: $since) { cursor type actor at subject { id __typename } } }`;
const ALERTS = `subscription($s: String!) { alerts(projectSlug: $s) { id status value resolvedAt monitor { id name } } }`;
const POINTS = `subscription($s: String!, $filter: MetricStreamFilter!, $since: String) {
  metricPoints(projectSlug: $s, filter: $filter, since: $since) { cursor series { id name labels modelVersion { id } } points { value count } } }`;

/** The start of a project's event stream: everything a fresh project has is after it. */
const FROM_START = registryEventCursor('0');
const POINTS_FROM_START = encodeCursor(['p', '0', '0', '']);
const idOf = (cursor: string) => BigInt(JSON.parse(Buffer.from(cursor, 'base64url').toString())[1]);

type Ev = { cursor: string; type: string; actor: string; subject: { id: string; __typename: string } };
const events = (rs: GqlResponse[]): Ev[] => rs.map((r) => {
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.registryEvents;
});
const brief = (es: Ev[]) => es.map((e) => [e.type, e.subject.__typename]);

const SET_ALIAS = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { revision } } }`;
const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;

async function projectId(slug: string): Promise<string> {
  const [{ id }] = await t.server.db.query(`SELECT id FROM project WHERE slug = $1`, [slug]);
  return id;
}

/**
 * Waits (bounded) until the server holds a stream of `channel` back for transaction `xid`:
 * the stream has met the open transaction and waits for it to end. A stream that ran ahead of
 * it instead (and so would skip or reorder its rows) never gets here, and the test fails.
 */
async function heldBack(server: TestServer, channel: string, xid: string) {
  const deadline = Date.now() + WAIT_MS;
  while (!server.server.events.waitingFor(channel as never).includes(xid)) {
    if (Date.now() > deadline) throw new Error(`no ${channel} stream waited for the open transaction ${xid}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A transaction on its own connection that records an event and stays open until told. */
async function heldEvent(slug: string, modelId: string) {
  const c = new PgClient({ connectionString: testDatabaseUrl() });
  await c.connect();
  await c.query('BEGIN');
  // As a service does: a write first (the transaction takes its xid), then the event.
  await c.query(`UPDATE model SET updated_at = now() WHERE id = (SELECT id FROM model WHERE project_id = (SELECT id FROM project WHERE slug = $1) LIMIT 1)`, [slug]);
  const [{ xid }] = (await c.query(`SELECT pg_current_xact_id()::xid::text AS xid`)).rows;
  const modelKey = Buffer.from(modelId, 'base64url').toString().split(':')[1];
  const [{ id }] = (await c.query(
    `WITH e AS (INSERT INTO registry_event (project_id, type, actor, subject_type, subject_id)
                SELECT id, 'MODEL_CREATED', 'held', 'Model', $2 FROM project WHERE slug = $1 RETURNING id, project_id)
     SELECT e.id::text AS id, pg_notify('${EVENTS_CHANNEL}', e.project_id || ':' || e.id) FROM e`,
    [slug, modelKey],
  )).rows;
  return {
    id: BigInt(id),
    xid: xid as string,
    commit: async () => { await c.query('COMMIT'); await c.end(); },
    rollback: async () => { await c.query('ROLLBACK'); await c.end(); },
  };
}

describe('registryEvents', () => {
  test('every kind of change arrives once, in order, with its subject', async () => {
    const { slug } = await createProject(t, 'events');
    const viewer = await createKey(t, 'VIEWER', slug);
    const [editorA, editorB] = [await createKey(t, 'EDITOR', slug), await createKey(t, 'EDITOR', slug)];
    const sub = subscribe(t.ws(viewer), EVENTS, { s: slug, since: FROM_START });

    const model = await createModel(t, slug);
    const v1 = await createVersion(t, model.id);
    const v2 = await createVersion(t, model.id, { status: 'PENDING' });
    await t.ok(`mutation($id: ID!) { updateModelVersion(input: { id: $id, status: READY }) { modelVersion { status } } }`, { id: v2.id });
    await t.ok(`mutation($id: ID!) { updateModelVersion(input: { id: $id, description: "no status change" }) { modelVersion { id } } }`, { id: v2.id });
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'staging', versionNumber: 1 } });
    await t.ok(`mutation($m: ID!) { removeModelAlias(input: { modelId: $m, alias: "staging" }) { model { id } } }`, { m: model.id });
    await t.ok(`mutation($m: ID!) { setAliasPolicy(input: { modelId: $m, alias: "production", requiredApprovals: 1, gates: [] }) { model { id } } }`, { m: model.id });
    const request = (await t.ok(
      `mutation($m: ID!) { requestPromotion(input: { modelId: $m, alias: "production", versionNumber: 2 }) { promotionRequest { id } } }`,
      { m: model.id }, editorA,
    )).requestPromotion.promotionRequest;
    await t.ok(`mutation($id: ID!) { approvePromotion(input: { id: $id }) { promotionRequest { status } } }`, { id: request.id }, editorB);
    const evaluation = (await t.ok(
      `mutation($v: ID!) { createEvaluation(input: { modelVersionId: $v, name: "offline", metrics: [{ name: "acc", value: 0.9 }] }) { evaluation { id } } }`,
      { v: v1.id },
    )).createEvaluation.evaluation;
    await t.ok(`mutation($id: ID!) { completeEvaluation(input: { evaluationId: $id, status: COMPLETED }) { evaluation { id } } }`, { id: evaluation.id });
    const dataset = (await t.ok(`mutation($s: String!) { createDataset(input: { projectSlug: $s, name: "ds" }) { dataset { id } } }`, { s: slug })).createDataset.dataset;
    const dv = (await t.ok(
      `mutation($d: ID!) { createDatasetVersion(input: { datasetId: $d, digest: "sha256:1", columns: [] }) { datasetVersion { id } } }`,
      { d: dataset.id },
    )).createDatasetVersion.datasetVersion;

    const got = events(await sub.take(11));
    expect(brief(got)).toEqual([
      ['MODEL_CREATED', 'Model'],
      ['MODEL_VERSION_CREATED', 'ModelVersion'],
      ['MODEL_VERSION_CREATED', 'ModelVersion'],
      ['MODEL_VERSION_STATUS_CHANGED', 'ModelVersion'],
      ['ALIAS_SET', 'AliasEvent'],
      ['ALIAS_REMOVED', 'AliasEvent'],
      ['PROMOTION_REQUESTED', 'PromotionRequest'],
      ['ALIAS_SET', 'AliasEvent'],
      ['PROMOTION_DECIDED', 'PromotionRequest'],
      ['EVALUATION_COMPLETED', 'Evaluation'],
      ['DATASET_VERSION_CREATED', 'DatasetVersion'],
    ]);
    expect(got.map((e) => e.subject.id)).toEqual([
      model.id, v1.id, v2.id, v2.id, got[4].subject.id, got[5].subject.id, request.id, got[7].subject.id, request.id, evaluation.id, dv.id,
    ]);
    // Nothing else came in between: the next event is the next change.
    const sentinel = await createModel(t, slug);
    expect(events(await sub.take(1)).map((e) => e.subject.id)).toEqual([sentinel.id]);
    expect(got[6].actor).not.toBe(got[8].actor);
    // Cursors increase: the stream is in order.
    const ids = got.map((e) => idOf(e.cursor));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    sub.stop();
  });

  test('types keeps only the kinds asked for; a failed mutation announces nothing', async () => {
    const { slug } = await createProject(t, 'events');
    const sub = subscribe(t.ws(), EVENTS, { s: slug, since: FROM_START, types: ['MODEL_VERSION_CREATED', 'ALIAS_SET'] });
    const model = await createModel(t, slug);
    const v1 = await createVersion(t, model.id);
    // Rolled back inside the service after the version row was written: CONFLICT, no event.
    const failed = await t.gql(SET_ALIAS, { input: { modelId: model.id, alias: 'prod', versionNumber: 1, expectedRevision: 7 } });
    expect(failed.errors?.[0].extensions.code).toBe('CONFLICT');
    const dup = await t.gql(`mutation($s: String!) { createModel(input: { projectSlug: $s, name: "dup", kind: INTERNAL }) { model { id } } }`, { s: slug });
    expect(dup.errors).toBeUndefined();
    const again = await t.gql(`mutation($s: String!) { createModel(input: { projectSlug: $s, name: "dup", kind: INTERNAL }) { model { id } } }`, { s: slug });
    expect(again.errors?.[0].extensions.code).toBe('CONFLICT');
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'prod', versionNumber: 1 } });
    const v2 = await createVersion(t, model.id);

    expect(events(await sub.take(3)).map((e) => [e.type, e.subject.id])).toEqual([
      ['MODEL_VERSION_CREATED', v1.id], ['ALIAS_SET', expect.any(String)], ['MODEL_VERSION_CREATED', v2.id],
    ]);
    // And the store agrees: the failed setModelAlias and createModel left no row.
    const [{ n }] = await t.server.db.query(`SELECT count(*)::int AS n FROM registry_event WHERE project_id = $1`, [await projectId(slug)]);
    expect(n).toBe(5); // 2 models, 2 versions, 1 alias
    sub.stop();
  });

  test('an event of a transaction still open holds back later ones until it commits; a rolled-back one never arrives', async () => {
    const { slug } = await createProject(t, 'events');
    const first = await createModel(t, slug);
    const sub = subscribe(t.ws(), EVENTS, { s: slug, since: FROM_START });
    expect(events(await sub.take(1)).map((e) => e.subject.id)).toEqual([first.id]);

    // `held` draws its id first; a later mutation commits before it does.
    const held = await heldEvent(slug, first.id);
    const later = await createModel(t, slug);
    const laterId = (await t.server.db.query(`SELECT max(id)::text AS id FROM registry_event WHERE project_id = $1`, [await projectId(slug)]))[0].id;
    expect(BigInt(laterId)).toBeGreaterThan(held.id);
    await heldBack(t, EVENTS_CHANNEL, held.xid);
    await held.commit();
    const got = events(await sub.take(2));
    expect(got.map((e) => [idOf(e.cursor), e.actor])).toEqual([[held.id, 'held'], [BigInt(laterId), expect.any(String)]]);
    expect(got[1].subject.id).toBe(later.id);

    const aborted = await heldEvent(slug, first.id);
    const third = await createModel(t, slug);
    await heldBack(t, EVENTS_CHANNEL, aborted.xid);
    await aborted.rollback();
    const next = events(await sub.take(1));
    expect(next.map((e) => e.subject.id)).toEqual([third.id]);
    sub.stop();
  });

  test('since replays exactly the missed events, then goes live, with events committing during the replay', async () => {
    const { slug } = await createProject(t, 'events');
    const pid = await projectId(slug);
    const a = subscribe(t.ws(), EVENTS, { s: slug, since: FROM_START });
    const model = await createModel(t, slug);
    for (let i = 0; i < 4; i++) await createVersion(t, model.id);
    const seen = events(await a.take(5));
    a.stop();
    const resumeAt = seen[1].cursor;

    // Missed while nobody listened.
    for (let i = 0; i < 3; i++) await createVersion(t, model.id);
    // One transaction stays open across the resume; many commit while it replays.
    const held = await heldEvent(slug, model.id);
    const b = subscribe(t.ws(), EVENTS, { s: slug, since: resumeAt });
    await Promise.all(Array.from({ length: 8 }, () => createModel(t, slug)));
    // The 8 are committed and the stream has met the open transaction: it must wait for it,
    // where one that ran ahead would deliver the 8 now and miss the held event.
    await heldBack(t, EVENTS_CHANNEL, held.xid);
    await held.commit();
    const sentinel = await createModel(t, slug, unique('sentinel'));

    const stored: string[] = (await t.server.db.query(
      `SELECT e.id::text AS id FROM registry_event e WHERE e.project_id = $1 AND e.id > $2 ORDER BY e.id`, [pid, String(idOf(resumeAt))],
    )).map((r: { id: string }) => r.id);
    expect(stored.length).toBe(3 + 3 + 1 + 8 + 1);
    const got = events(await b.take(stored.length));
    expect(got.map((e) => String(idOf(e.cursor)))).toEqual(stored);
    expect(got[got.length - 1].subject.id).toBe(sentinel.id);
    // Still live afterwards, and nothing came twice in between.
    const after = await createModel(t, slug);
    expect(events(await b.take(1)).map((e) => e.subject.id)).toEqual([after.id]);
    b.stop();
  });

  test('without since the stream starts now', async () => {
    const { slug } = await createProject(t, 'events');
    await createModel(t, slug);
    const sub = subscribe(t.ws(), EVENTS, { s: slug });
    await live(t, EVENTS_CHANNEL, await projectId(slug));
    const next = await createModel(t, slug);
    expect(events(await sub.take(1)).map((e) => e.subject.id)).toEqual([next.id]);
    sub.stop();
  });

  test('each event is resolved with fresh loaders: the subject as it is when its event is delivered', async () => {
    const { slug } = await createProject(t, 'events');
    const model = await createModel(t, slug);
    const sub = subscribe(t.ws(), `subscription($s: String!) { registryEvents(projectSlug: $s, types: [MODEL_VERSION_CREATED, MODEL_VERSION_STATUS_CHANGED]) {
      type subject { ... on ModelVersion { id status } } } }`, { s: slug });
    await live(t, EVENTS_CHANNEL, await projectId(slug));
    const v = await createVersion(t, model.id, { status: 'PENDING' });
    expect((await sub.take(1))[0].data.registryEvents).toEqual({ type: 'MODEL_VERSION_CREATED', subject: { id: v.id, status: 'PENDING' } });
    await t.ok(`mutation($id: ID!) { updateModelVersion(input: { id: $id, status: READY }) { modelVersion { status } } }`, { id: v.id });
    expect((await sub.take(1))[0].data.registryEvents).toEqual({ type: 'MODEL_VERSION_STATUS_CHANGED', subject: { id: v.id, status: 'READY' } });
    sub.stop();
  });

  test('two servers on one database both deliver an event written through one of them', async () => {
    const t2 = await startTestServer();
    try {
      const { slug } = await createProject(t, 'events');
      const pid = await projectId(slug);
      const here = subscribe(t.ws(), EVENTS, { s: slug });
      const there = subscribe(t2.ws(), EVENTS, { s: slug });
      await live(t, EVENTS_CHANNEL, pid);
      await live(t2, EVENTS_CHANNEL, pid);
      const model = await createModel(t, slug);
      const [[a], [b]] = await Promise.all([here.take(1), there.take(1)]);
      expect(events([a])[0]).toEqual(events([b])[0]);
      expect(events([b])[0].subject.id).toBe(model.id);
      here.stop();
      there.stop();
    } finally {
      await t2.stop();
    }
  });

  test('a lost LISTEN connection is re-established and nothing committed meanwhile is missed', async () => {
    const { slug } = await createProject(t, 'events');
    const sub = subscribe(t.ws(), EVENTS, { s: slug, since: FROM_START });
    const m1 = await createModel(t, slug);
    expect(events(await sub.take(1)).map((e) => e.subject.id)).toEqual([m1.id]);
    await t.server.events.dropConnectionForTest();
    const m2 = await createModel(t, slug);
    expect(events(await sub.take(1)).map((e) => e.subject.id)).toEqual([m2.id]);
    sub.stop();
  });

  test('needs a key (UNAUTHENTICATED); another project is NOT_FOUND like a missing one; a bad cursor is BAD_USER_INPUT', async () => {
    const { slug } = await createProject(t, 'events');
    const other = await createProject(t, 'events');
    const otherViewer = await createKey(t, 'VIEWER', other.slug);
    const code = async (client: WsClient, vars: Record<string, unknown>) =>
      (await subscribe(client, EVENTS, vars).failure()).errors?.[0].extensions.code;
    expect(await code(t.ws(null), { s: slug })).toBe('UNAUTHENTICATED');
    expect(await code(t.ws(otherViewer), { s: slug })).toBe('NOT_FOUND');
    expect(await code(t.ws(), { s: unique('nope') })).toBe('NOT_FOUND');
    for (const since of ['garbage!', encodeCursor(['p', '0', '0', '']), encodeCursor(['e', 'x']), Buffer.from('{').toString('base64url')]) {
      expect({ since, code: await code(t.ws(), { s: slug, since }) }).toEqual({ since, code: 'BAD_USER_INPUT' });
    }
    expect((await subscribe(t.ws(null), ALERTS, { s: slug }).failure()).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await subscribe(t.ws(otherViewer), POINTS, { s: slug, filter: {} }).failure()).errors?.[0].extensions.code).toBe('NOT_FOUND');
  });

  test('a key revoked while subscribed gets UNAUTHENTICATED at the next change, and the stream ends', async () => {
    const { slug } = await createProject(t, 'events');
    const made = (await t.ok(
      `mutation($n: String!, $s: String) { createApiKey(input: { name: $n, role: VIEWER, projectSlug: $s }) { secret apiKey { id } } }`,
      { n: unique('sub-viewer'), s: slug },
    )).createApiKey;
    const sub = subscribe(t.ws(made.secret), EVENTS, { s: slug, since: FROM_START });
    const m1 = await createModel(t, slug);
    expect(events(await sub.take(1)).map((e) => e.subject.id)).toEqual([m1.id]);
    await t.ok(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }`, { id: made.apiKey.id });
    await createModel(t, slug);
    const [denied] = await sub.take(1);
    expect(denied.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(denied.data).toBeNull();
    const pid = await projectId(slug);
    const deadline = Date.now() + WAIT_MS;
    while (t.server.events.liveStreams(EVENTS_CHANNEL, pid) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(t.server.events.liveStreams(EVENTS_CHANNEL, pid)).toBe(0);
  });

  test('over HTTP a subscription is refused with BAD_USER_INPUT', async () => {
    const { slug } = await createProject(t, 'events');
    const res = await t.gql(EVENTS, { s: slug });
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

test('stopping the server closes a socket with live subscriptions with 1001, and stops', async () => {
  const t3 = await startTestServer();
  let stopped = false;
  try {
    const { slug } = await createProject(t3, 'events');
    const ws = new WebSocket(t3.server.wsUrl, 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t3.adminKey}` } }));
    await new Promise((r) => ws.once('message', r));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: EVENTS, variables: { s: slug } } }));
    ws.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: POINTS, variables: { s: slug, filter: {} } } }));
    const pid = (await t3.server.db.query(`SELECT id FROM project WHERE slug = $1`, [slug]))[0].id;
    await live(t3, EVENTS_CHANNEL, pid);
    await live(t3, POINTS_CHANNEL, pid);
    await t3.stop();
    stopped = true;
    expect(await closed).toBe(1001);
  } finally {
    if (!stopped) await t3.stop();
  }
});

describe('alerts', () => {
  test('alerts arrive as they open and as they resolve', async () => {
    const { slug } = await createProject(t, 'alerts');
    const monitor = (await t.ok(
      `mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id } } }`,
      { input: { projectSlug: slug, name: 'lat', metric: 'lat', aggregation: 'LAST', windowSeconds: 3600, comparator: 'GT', threshold: 100 } },
    )).createMonitor.monitor;
    const sub = subscribe(t.ws(), ALERTS, { s: slug });
    await live(t, EVENTS_CHANNEL, await projectId(slug));
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'lat', value: 500 }] } });
    const [opened] = await sub.take(1);
    expect(opened.errors).toBeUndefined();
    expect(opened.data.alerts).toMatchObject({ status: 'ALERT', value: 500, monitor: { id: monitor.id, name: 'lat' } });
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'lat', value: 1 }] } });
    const [resolved] = await sub.take(1);
    expect(resolved.data.alerts.id).toBe(opened.data.alerts.id);
    expect(resolved.data.alerts.resolvedAt).not.toBeNull();
    sub.stop();
  });
});

describe('metricPoints', () => {
  test('with modelName and alias, follows the version the alias points to across a move', async () => {
    const { slug } = await createProject(t, 'points');
    const model = await createModel(t, slug);
    const v1 = await createVersion(t, model.id);
    const v2 = await createVersion(t, model.id);
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
    const sub = subscribe(t.ws(), POINTS, { s: slug, filter: { modelName: model.name, alias: 'production', names: ['lat'] }, since: POINTS_FROM_START });
    const record = (points: Record<string, unknown>[]) => t.ok(RECORD, { input: { projectSlug: slug, points } });

    await record([{ modelVersionId: v1.id, name: 'lat', value: 1 }, { modelVersionId: v2.id, name: 'lat', value: 2 }, { modelVersionId: v1.id, name: 'other', value: 9 }]);
    const [first] = await sub.take(1);
    expect(first.data.metricPoints).toMatchObject({ series: { name: 'lat', modelVersion: { id: v1.id } }, points: [{ value: 1, count: 1 }] });

    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
    await record([{ modelVersionId: v1.id, name: 'lat', value: 3 }, { modelVersionId: v2.id, name: 'lat', value: 4 }]);
    await record([{ modelVersionId: v2.id, name: 'lat', value: 5 }, { modelVersionId: v2.id, name: 'lat', value: 6 }]);
    const [second, third] = await sub.take(2);
    expect(second.data.metricPoints).toMatchObject({ series: { modelVersion: { id: v2.id } }, points: [{ value: 4 }] });
    expect(third.data.metricPoints).toMatchObject({ series: { modelVersion: { id: v2.id } }, points: [{ value: 5 }, { value: 6 }] });
    sub.stop();
  });

  test('one event per series of a batch; since resumes inside a batch and after it, nothing twice', async () => {
    const { slug } = await createProject(t, 'points');
    const model = await createModel(t, slug);
    const v1 = await createVersion(t, model.id);
    const filter = { modelVersionId: v1.id, labels: { region: 'eu' } };
    const a = subscribe(t.ws(), POINTS, { s: slug, filter, since: POINTS_FROM_START });
    await t.ok(RECORD, { input: { projectSlug: slug, points: [
      { modelVersionId: v1.id, name: 'a', labels: { region: 'eu' }, value: 1 },
      { modelVersionId: v1.id, name: 'b', labels: { region: 'eu', pod: 'x' }, value: 2 },
      { modelVersionId: v1.id, name: 'a', labels: { region: 'eu' }, value: 3 },
      { modelVersionId: v1.id, name: 'c', labels: { region: 'eu' }, value: 4 },
      { modelVersionId: v1.id, name: 'd', labels: { region: 'us' }, value: 5 },
      { name: 'a', labels: { region: 'eu' }, value: 6 },
    ] } });
    const round = (await a.take(3)).map((r) => r.data.metricPoints);
    a.stop();
    const byName = Object.fromEntries(round.map((e: { series: { name: string }; points: { value: number }[] }) => [e.series.name, e.points.map((p) => p.value)]));
    expect(byName).toEqual({ a: [1, 3], b: [2], c: [4] });

    const b = subscribe(t.ws(), POINTS, { s: slug, filter, since: round[0].cursor });
    const rest = (await b.take(2)).map((r) => r.data.metricPoints);
    expect(rest.map((e: { series: { id: string } }) => e.series.id)).toEqual(round.slice(1).map((e: { series: { id: string } }) => e.series.id));
    expect(rest[1].cursor).toBe(round[2].cursor);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ modelVersionId: v1.id, name: 'b', labels: { region: 'eu', pod: 'x' }, value: 7 }] } });
    expect((await b.take(1))[0].data.metricPoints.points).toEqual([{ value: 7, count: 1 }]);
    b.stop();

    // From the end of the first batch: only what came after.
    const c = subscribe(t.ws(), POINTS, { s: slug, filter, since: round[2].cursor });
    expect((await c.take(1))[0].data.metricPoints.points).toEqual([{ value: 7, count: 1 }]);
    c.stop();
  });

  test('points of a transaction still open are not skipped by points committed after them', async () => {
    const { slug } = await createProject(t, 'points');
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'a', value: 1 }, { name: 'b', value: 2 }] } });
    const sub = subscribe(t.ws(), POINTS, { s: slug, filter: {}, since: POINTS_FROM_START });
    expect((await sub.take(2)).map((r) => r.data.metricPoints.points[0].value).sort()).toEqual([1, 2]);

    // An ingestion that drew its point id first stays open while a later one commits.
    const c = new PgClient({ connectionString: testDatabaseUrl() });
    await c.connect();
    try {
      await c.query('BEGIN');
      const [{ id: seriesA, project_id: projectId }] = (await c.query(
        `UPDATE metric_series SET last_value = 100 WHERE project_id = (SELECT id FROM project WHERE slug = $1) AND name = 'a' RETURNING id, project_id`, [slug],
      )).rows;
      await c.query(`INSERT INTO metric_point (project_id, series_id, ts, value) VALUES ($1, $2, now(), 100)`, [projectId, seriesA]);
      const [{ xid }] = (await c.query(`SELECT pg_current_xact_id()::xid::text AS xid`)).rows;
      await c.query(`SELECT pg_notify('${POINTS_CHANNEL}', (SELECT id::text FROM project WHERE slug = $1))`, [slug]);
      await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'b', value: 200 }] } });
      // Woken by the later commit, the stream has met the open ingestion and waits for it.
      await heldBack(t, POINTS_CHANNEL, xid);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
    const got = (await sub.take(2)).map((r) => [r.data.metricPoints.series.name, r.data.metricPoints.points.map((p: { value: number }) => p.value)]);
    expect(got.sort()).toEqual([['a', [100]], ['b', [200]]]);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'a', value: 300 }] } });
    expect((await sub.take(1))[0].data.metricPoints.points).toEqual([{ value: 300, count: 1 }]);
    sub.stop();
  });

  test('live from now; filter problems are BAD_USER_INPUT or NOT_FOUND', async () => {
    const { slug } = await createProject(t, 'points');
    const model = await createModel(t, slug);
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'q', value: 1 }] } });
    const sub = subscribe(t.ws(), POINTS, { s: slug, filter: { names: ['q'] } });
    await live(t, POINTS_CHANNEL, await projectId(slug));
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'q', value: 2 }] } });
    expect((await sub.take(1))[0].data.metricPoints.points).toEqual([{ value: 2, count: 1 }]);
    sub.stop();

    const code = async (filter: Record<string, unknown>, since?: string) =>
      (await subscribe(t.ws(), POINTS, { s: slug, filter, since }).failure()).errors?.[0].extensions.code;
    expect(await code({ alias: 'production' })).toBe('BAD_USER_INPUT');
    expect(await code({ modelName: model.name, modelVersionId: (await createVersion(t, model.id)).id })).toBe('BAD_USER_INPUT');
    expect(await code({ labels: { n: 1 } })).toBe('BAD_USER_INPUT');
    expect(await code({ modelVersionId: 'garbage' })).toBe('BAD_USER_INPUT');
    expect(await code({ modelName: 'no-such-model' })).toBe('NOT_FOUND');
    expect(await code({}, FROM_START)).toBe('BAD_USER_INPUT');
  });
});
