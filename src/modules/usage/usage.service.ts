import { EntityManager } from 'typeorm';
import { BinaryCopyWriter, copyIn, uuidBytes } from '../../core/db/binary-copy';
import { isUniqueViolation } from '../../core/db/errors';
import { AppError, badInput } from '../../core/graphql/errors';
import { parseGlobalId, toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { DerivedSeries, recordDerivedSeries } from '../monitoring/metrics.service';
import { RouteAt, resolveRoutesAt } from '../deployment/deployment.as-of';
import { RecordUsageInput } from './dto/usage.input';
import { PriceStep, priceAt } from './pricing.service';

export const MAX_RECORDS_PER_CALL = 10_000;
const MAX_REQUEST_ID = 200;
/** Records may be stamped a little ahead of the server's clock (client skew), as metric points may. */
const MAX_FUTURE_MS = 5 * 60 * 1000;
/** The counting series are summed per second of the records' time (see usageSeries). */
const BUCKET_MS = 1000;

/**
 * The metric series recordUsage feeds, per model version and per deployment route. `usage.latency_ms` has a point per
 * request (its value the request's latency), so P50/P95/P99/MAX/AVG over a window are the
 * requests' own, and COUNT is the number of requests. The counting series have one point per
 * second of the records' time (at the start of that second) holding that second's total of the
 * records of the call: SUM over a window is the requests, errors, tokens or cost in it (what
 * their monitors should use); a second with no error still writes usage.errors 0, so an error
 * monitor sees data, not NO_DATA. usage.cost_usd sums the priced records only, and a second
 * with none has no cost point (unknown, not 0).
 */
export const USAGE_SERIES = {
  requests: 'usage.requests', inputTokens: 'usage.input_tokens', outputTokens: 'usage.output_tokens',
  cost: 'usage.cost_usd', latency: 'usage.latency_ms', errors: 'usage.errors',
} as const;

/** A checked call, column by column (typed arrays: 10,000 records are a few allocations, not 10,000 objects). */
interface ParsedUsage {
  n: number;
  requestIds: string[];
  /** Per record, the index of its version in `versions`; -1 for a record naming a route, until resolveRoutes. */
  versionOf: Int32Array;
  versions: string[];
  /** Per record, the index of its (deployment, route, moment) in `routeRefs`; -1 for a record naming its version. */
  routeOf: Int32Array;
  routeRefs: RouteAt[];
  /** Per route ref, the field (records.<i>) of the first record naming it, for errors. */
  routeField: string[];
  /** Per record, the deployment (row key) and route it names, or null. */
  deployments: (string | null)[];
  routes: (string | null)[];
  /** Deployment key -> its name, once resolveRoutes has read it (the label of its route series). */
  deploymentNames: Map<string, string>;
  /** Version key -> the field of the first record naming it, for NOT_FOUND. */
  versionField: Map<string, string>;
  promptVersions: (string | null)[];
  promptField: Map<string, string>;
  tsMs: Float64Array;
  inputTokens: Int32Array;
  outputTokens: Int32Array;
  latencyMs: Float64Array;
  error: boolean[];
  /** Records dropped because an earlier record of the call has their requestId. */
  repeated: number;
}

const isCount = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;

/** Checks every record before anything is written; the first problem fails the call, naming `records.<i>.<field>`. */
function parseUsage(input: RecordUsageInput, now: number): ParsedUsage {
  const records = input.records;
  if (records.length === 0 || records.length > MAX_RECORDS_PER_CALL) {
    throw badInput(`records must hold 1 to ${MAX_RECORDS_PER_CALL} records, not ${records.length}`, 'records');
  }
  const size = records.length;
  const out: ParsedUsage = {
    n: 0, requestIds: [], versionOf: new Int32Array(size), versions: [], versionField: new Map(), promptVersions: [], promptField: new Map(),
    routeOf: new Int32Array(size), routeRefs: [], routeField: [], deployments: [], routes: [], deploymentNames: new Map(),
    tsMs: new Float64Array(size), inputTokens: new Int32Array(size), outputTokens: new Int32Array(size), latencyMs: new Float64Array(size),
    error: [], repeated: 0,
  };
  const seen = new Set<string>();
  // Global id as sent -> index in out.versions / row key: each distinct id is decoded once per call.
  const versionIndex = new Map<string, number>();
  const promptKeys = new Map<string, string>();
  const deploymentKeys = new Map<string, string>();
  // (deployment key, route, ms) -> index in out.routeRefs: each distinct route and moment is resolved once.
  const routeIndex = new Map<string, number>();
  const latest = now + MAX_FUTURE_MS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const f = (field: string) => `records.${i}.${field}`;
    if (typeof r.requestId !== 'string' || r.requestId.length === 0 || r.requestId.length > MAX_REQUEST_ID) {
      throw badInput(`${f('requestId')} must be 1 to ${MAX_REQUEST_ID} characters`, f('requestId'));
    }
    const byRoute = r.deploymentId != null || r.route != null;
    if (r.modelVersionId != null && byRoute) {
      throw badInput(`${f('modelVersionId')}: give modelVersionId, or deploymentId with route, not both`, f(r.deploymentId != null ? 'deploymentId' : 'route'));
    }
    if (r.modelVersionId == null && !byRoute) throw badInput(`${f('modelVersionId')}: give modelVersionId, or deploymentId with route`, f('modelVersionId'));
    let v = -1;
    let deployment: string | null = null;
    if (r.modelVersionId != null) {
      const known = versionIndex.get(r.modelVersionId);
      if (known === undefined) {
        const parsed = parseGlobalId(r.modelVersionId, f('modelVersionId'));
        if (parsed.type !== 'ModelVersion') throw badInput(`${f('modelVersionId')} must be a ModelVersion id`, f('modelVersionId'));
        v = out.versions.push(parsed.key) - 1;
        versionIndex.set(r.modelVersionId, v);
        if (!out.versionField.has(parsed.key)) out.versionField.set(parsed.key, f('modelVersionId'));
      } else v = known;
    } else {
      if (r.deploymentId == null) throw badInput(`${f('route')} needs deploymentId`, f('deploymentId'));
      if (typeof r.route !== 'string' || r.route.length === 0) throw badInput(`${f('deploymentId')} needs route, the name of the route that served the request`, f('route'));
      deployment = deploymentKeys.get(r.deploymentId) ?? null;
      if (deployment === null) {
        const parsed = parseGlobalId(r.deploymentId, f('deploymentId'));
        if (parsed.type !== 'Deployment') throw badInput(`${f('deploymentId')} must be a Deployment id`, f('deploymentId'));
        deployment = parsed.key;
        deploymentKeys.set(r.deploymentId, deployment);
      }
    }
    let prompt: string | null = null;
    if (r.promptVersionId != null) {
      prompt = promptKeys.get(r.promptVersionId) ?? null;
      if (prompt === null) {
        const parsed = parseGlobalId(r.promptVersionId, f('promptVersionId'));
        if (parsed.type !== 'PromptVersion') throw badInput(`${f('promptVersionId')} must be a PromptVersion id`, f('promptVersionId'));
        prompt = parsed.key;
        promptKeys.set(r.promptVersionId, prompt);
        if (!out.promptField.has(prompt)) out.promptField.set(prompt, f('promptVersionId'));
      }
    }
    if (!isCount(r.inputTokens)) throw badInput(`${f('inputTokens')} must be an integer of at least 0`, f('inputTokens'));
    if (!isCount(r.outputTokens)) throw badInput(`${f('outputTokens')} must be an integer of at least 0`, f('outputTokens'));
    if (!Number.isFinite(r.latencyMs) || r.latencyMs < 0) throw badInput(`${f('latencyMs')} must be a finite number of at least 0`, f('latencyMs'));
    const ts = r.timestamp == null ? now : r.timestamp.getTime();
    if (ts > latest) throw badInput(`${f('timestamp')} is more than 5 minutes in the future`, f('timestamp'));
    let route = -1;
    if (deployment !== null) {
      const key = `${deployment}\u0000${r.route}\u0000${ts}`;
      const known = routeIndex.get(key);
      if (known === undefined) {
        route = out.routeRefs.push({ deploymentId: deployment, route: r.route!, at: new Date(ts) }) - 1;
        out.routeField.push(`records.${i}`);
        routeIndex.set(key, route);
      } else route = known;
    }
    // Checked whole before it is dropped: a repeat must be as valid as any record.
    if (seen.has(r.requestId)) { out.repeated++; continue; }
    seen.add(r.requestId);
    const k = out.n++;
    out.requestIds.push(r.requestId);
    out.versionOf[k] = v;
    out.routeOf[k] = route;
    out.deployments.push(deployment);
    out.routes.push(deployment === null ? null : r.route!);
    out.promptVersions.push(prompt);
    out.tsMs[k] = ts;
    out.inputTokens[k] = r.inputTokens;
    out.outputTokens[k] = r.outputTokens;
    out.latencyMs[k] = r.latencyMs;
    out.error.push(r.error === true);
  }
  return out;
}

/**
 * Gives each record that names a deployment route the model version that route served at the
 * record's timestamp (the deployment module's as-of reading, one statement for the whole call).
 * A deployment not of this project is NOT_FOUND; a route the route set in force then did not
 * have (or whose alias pointed nowhere then) is BAD_USER_INPUT naming records.<i>.route.
 */
async function resolveRoutes(m: EntityManager, projectId: string, u: ParsedUsage): Promise<void> {
  if (u.routeRefs.length === 0) return;
  const resolved = await resolveRoutesAt(m, projectId, u.routeRefs);
  const versionIndex = new Map(u.versions.map((v, i) => [v, i]));
  const versionOfRef = resolved.map((r, j) => {
    const field = u.routeField[j];
    if (r.deploymentName === null) throw new AppError('NOT_FOUND', `${field}.deploymentId names no deployment of this project`, { field: `${field}.deploymentId` });
    u.deploymentNames.set(u.routeRefs[j].deploymentId, r.deploymentName);
    const { route, at } = u.routeRefs[j];
    if (!r.route) throw badInput(`The deployment had no route "${route}" at ${at.toISOString()}`, `${field}.route`);
    if (r.modelVersionId === null) throw badInput(`Route "${route}" follows an alias that pointed to no version at ${at.toISOString()}`, `${field}.route`);
    let v = versionIndex.get(r.modelVersionId);
    if (v === undefined) versionIndex.set(r.modelVersionId, (v = u.versions.push(r.modelVersionId) - 1));
    return v;
  });
  for (let k = 0; k < u.n; k++) if (u.routeOf[k] >= 0) u.versionOf[k] = versionOfRef[u.routeOf[k]];
}

/** usage_record's columns in the order insertRecords writes them. */
const USAGE_COLUMNS = 'project_id, request_id, model_version_id, prompt_version_id, ts, input_tokens, output_tokens, latency_ms, error, ' +
  'input_usd_per_million, output_usd_per_million, gpu_hour_cost_usd, tokens_per_second, cost_usd, deployment_id, route';
const COPY_USAGE_SQL = `COPY usage_record (${USAGE_COLUMNS}) FROM STDIN (FORMAT binary)`;
/** Bytes of a record with a short request id and route (about 200 with every field set): the COPY buffer's first size, grown for longer ones. */
const RECORD_BYTES = 256;

/**
 * Stores the parsed records, skipping any whose requestId the project already has; returns the
 * indexes of the records skipped (usually none).
 *
 * The common call holds only new request ids, and goes as one binary COPY (see core/db/binary-copy:
 * about a third less database CPU a record than the INSERT below). COPY cannot skip a conflict,
 * so it runs under a savepoint: a replayed request id makes it fail on the unique key, changing
 * nothing, and the call is stored again by the INSERT, which skips the ids already stored (a
 * concurrent call with the same id makes either wait for the other to commit or roll back).
 */
async function insertRecords(m: EntityManager, projectId: string, u: ParsedUsage, prices: (PriceStep | null)[], cost: (number | null)[]): Promise<number[]> {
  const n = u.n;
  const project = uuidBytes(projectId);
  const versionBytes = u.versions.map(uuidBytes);
  const bytesOf = new Map<string, Buffer>();
  const keyBytes = (key: string | null) => {
    if (key === null) return null;
    let b = bytesOf.get(key);
    if (!b) bytesOf.set(key, (b = uuidBytes(key)));
    return b;
  };
  // In request id order, in the COPY and in the INSERT alike: two calls sharing ids then take
  // them in the same order, so one waits for the other rather than each for the other (in the
  // order sent, two calls with the same ids in opposite orders deadlocked, and one failed).
  const order = Array.from({ length: n }, (_, k) => k);
  const ids = u.requestIds;
  order.sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  const w = new BinaryCopyWriter(n * RECORD_BYTES);
  for (const k of order) {
    const p = prices[k];
    w.row(16).uuid(project).text(u.requestIds[k]).uuid(versionBytes[u.versionOf[k]]).uuid(keyBytes(u.promptVersions[k]))
      .timestamptz(u.tsMs[k]).int4(u.inputTokens[k]).int4(u.outputTokens[k]).float8(u.latencyMs[k]).bool(u.error[k])
      .float8(p?.input ?? null).float8(p?.output ?? null).float8(p?.gpuHour ?? null).float8(p?.tps ?? null).float8(cost[k])
      .uuid(keyBytes(u.deployments[k])).text(u.routes[k]);
  }
  await m.query('SAVEPOINT usage_copy');
  try {
    await copyIn(m, COPY_USAGE_SQL, w.finish());
    await m.query('RELEASE SAVEPOINT usage_copy');
    return [];
  } catch (err) {
    if (!isUniqueViolation(err, 'usage_record_request_key')) throw err;
    await m.query('ROLLBACK TO SAVEPOINT usage_copy');
  }
  // One statement: the insert skips requestIds already stored, and answers the ordinals (in
  // `order`) of the records it skipped.
  const skipped: { ord: string }[] = await m.query(
    `WITH r AS (
       SELECT * FROM unnest($2::text[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::int[], $7::int[], $8::float8[], $9::bool[],
                            $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::uuid[], $16::text[])
         WITH ORDINALITY r(req, v, pv, ts, it, ot, lat, err, pin, pout, gpu, tps, cost, dep, route, ord)),
     ins AS (
       INSERT INTO usage_record (${USAGE_COLUMNS})
       SELECT $1, req, v, pv, ts, it, ot, lat, err, pin, pout, gpu, tps, cost, dep, route FROM r
       ON CONFLICT (project_id, request_id) DO NOTHING
       RETURNING request_id)
     SELECT r.ord FROM r WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.request_id = r.req)`,
    // Typed arrays would reach pg as bytea: the parameters are plain arrays of the n records kept, in `order`.
    [projectId, ...[
      (k: number): unknown => u.requestIds[k], (k: number) => u.versions[u.versionOf[k]], (k: number) => u.promptVersions[k],
      (k: number) => new Date(u.tsMs[k]).toISOString(), (k: number) => u.inputTokens[k], (k: number) => u.outputTokens[k],
      (k: number) => u.latencyMs[k], (k: number) => u.error[k], (k: number) => prices[k]?.input ?? null, (k: number) => prices[k]?.output ?? null,
      (k: number) => prices[k]?.gpuHour ?? null, (k: number) => prices[k]?.tps ?? null, (k: number) => cost[k],
      (k: number) => u.deployments[k], (k: number) => u.routes[k],
    ].map((column: (k: number) => unknown) => order.map(column))],
  );
  return skipped.map((r) => order[Number(r.ord) - 1]);
}

export interface RecordUsageResult {
  accepted: number;
  duplicates: number;
  unpriced: number;
  /** Points written to the usage.* series. */
  points: number;
  /** Metric names written, for evaluating their monitors after commit. */
  names: string[];
}

/**
 * Stores a call's usage records all or nothing, in a fixed number of statements whatever its
 * size: the versions (checked as the project's) with their prices, the prompt versions if any,
 * the records (one COPY, see insertRecords), the usage.* points of the records stored (through
 * the monitoring module's storage), and the audit record.
 *
 * Idempotent per project by requestId: a requestId the project already has is skipped (the
 * unique key decides; a concurrent call with the same id waits for the first to commit or roll
 * back), and answered as a duplicate; skipped records feed no metric.
 */
export async function recordUsage(m: EntityManager, actor: Principal, projectId: string, input: RecordUsageInput): Promise<RecordUsageResult> {
  const u = parseUsage(input, Date.now());
  await resolveRoutes(m, projectId, u);

  // The versions and every price each ever had, oldest first: a version has a handful of
  // prices, so the one in force at each record is found here rather than by a lookup per row.
  const priceRows: { id: string; valid_from: Date | number | null; i: number | null; o: number | null; g: number | null; t: number | null }[] = await m.query(
    `SELECT v.id, p.valid_from, p.input_usd_per_million AS i, p.output_usd_per_million AS o, p.gpu_hour_cost_usd AS g, p.tokens_per_second AS t
       FROM model_version v LEFT JOIN model_version_price p ON p.model_version_id = v.id
      WHERE v.id = ANY($1::uuid[]) AND v.project_id = $2 ORDER BY v.id, p.valid_from`,
    [u.versions, projectId],
  );
  const steps = new Map<string, PriceStep[]>();
  for (const r of priceRows) {
    let list = steps.get(r.id);
    if (!list) steps.set(r.id, (list = []));
    if (r.valid_from === null) continue;
    list.push({ from: r.valid_from instanceof Date ? r.valid_from.getTime() : -Infinity, input: r.i, output: r.o, gpuHour: r.g, tps: r.t });
  }
  for (const [id, field] of u.versionField) {
    // Another project's version is reported like a missing one: its existence is not ours to tell.
    if (!steps.has(id)) throw new AppError('NOT_FOUND', `${field} names no model version of this project`, { field });
  }
  if (u.promptField.size) {
    const found: { id: string }[] = await m.query(`SELECT id FROM prompt_version WHERE id = ANY($1::uuid[]) AND project_id = $2`, [[...u.promptField.keys()], projectId]);
    const have = new Set(found.map((r) => r.id));
    for (const [id, field] of u.promptField) if (!have.has(id)) throw new AppError('NOT_FOUND', `${field} names no prompt version of this project`, { field });
  }

  // The price in force at each record's time, and the cost it gives (PricingKind's formulas).
  const n = u.n;
  const prices: (PriceStep | null)[] = new Array(n);
  const cost: (number | null)[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const p = priceAt(steps.get(u.versions[u.versionOf[k]]), u.tsMs[k]);
    prices[k] = p;
    cost[k] = !p ? null
      : p.gpuHour !== null ? (u.inputTokens[k] + u.outputTokens[k]) / p.tps! / 3600 * p.gpuHour
        : (u.inputTokens[k] * p.input! + u.outputTokens[k] * p.output!) / 1e6;
  }
  const skipped = await insertRecords(m, projectId, u, prices, cost);
  const stored = new Uint8Array(n).fill(1);
  for (const k of skipped) stored[k] = 0;
  const accepted = n - skipped.length;

  let unpriced = 0;
  for (let k = 0; k < n; k++) if (stored[k] && cost[k] === null) unpriced++;
  const series = usageSeries(u, stored, cost);
  const written = accepted ? await recordDerivedSeries(m, actor, projectId, series) : { accepted: 0, names: [] as string[] };

  await recordAudit(m, {
    projectId, actor: actor.name, action: 'usage.record', targetType: 'Project', targetId: toGlobalId('Project', projectId),
    after: { accepted, duplicates: skipped.length + u.repeated, unpriced, points: written.accepted },
  });
  return { accepted, duplicates: skipped.length + u.repeated, unpriced, points: written.accepted, names: written.names };
}

/**
 * The usage.* points of the stored records (see USAGE_SERIES for what each holds): per version,
 * and for records served through a deployment route also per route, as project series labelled
 * {deployment: <name>, route: <name>} (a route's series carry on across revisions and versions).
 */
function usageSeries(u: ParsedUsage, stored: Uint8Array, cost: (number | null)[]): DerivedSeries[] {
  interface Bucket { requests: number; errors: number; input: number; output: number; cost: number; priced: number }
  interface Acc { versionId: string | null; labels: Record<string, string> | null; latTs: number[]; lat: number[]; buckets: Map<number, Bucket> }
  const newAcc = (versionId: string | null, labels: Record<string, string> | null): Acc => ({ versionId, labels, latTs: [], lat: [], buckets: new Map() });
  const perVersion = u.versions.map((v) => newAcc(v, null));
  const perRoute = new Map<string, Acc>();
  const add = (acc: Acc, k: number) => {
    const ts = u.tsMs[k];
    acc.latTs.push(ts);
    acc.lat.push(u.latencyMs[k]);
    const second = Math.floor(ts / BUCKET_MS) * BUCKET_MS;
    let b = acc.buckets.get(second);
    if (!b) acc.buckets.set(second, (b = { requests: 0, errors: 0, input: 0, output: 0, cost: 0, priced: 0 }));
    b.requests++;
    if (u.error[k]) b.errors++;
    b.input += u.inputTokens[k];
    b.output += u.outputTokens[k];
    const c = cost[k];
    if (c !== null) { b.cost += c; b.priced++; }
  };
  for (let k = 0; k < u.n; k++) {
    if (!stored[k]) continue;
    add(perVersion[u.versionOf[k]], k);
    const deployment = u.deployments[k];
    if (deployment !== null) {
      const key = `${deployment}\u0000${u.routes[k]}`;
      let acc = perRoute.get(key);
      if (!acc) perRoute.set(key, (acc = newAcc(null, { deployment: u.deploymentNames.get(deployment)!, route: u.routes[k]! })));
      add(acc, k);
    }
  }
  const out: DerivedSeries[] = [];
  for (const acc of [...perVersion, ...perRoute.values()]) {
    if (acc.lat.length === 0) continue;
    const { versionId, labels } = acc;
    const seconds = [...acc.buckets.keys()];
    const bs = [...acc.buckets.values()];
    const priced = seconds.filter((_, j) => bs[j].priced > 0);
    out.push(
      { versionId, labels, name: USAGE_SERIES.latency, tsMs: acc.latTs, values: acc.lat },
      { versionId, labels, name: USAGE_SERIES.requests, tsMs: seconds, values: bs.map((b) => b.requests) },
      { versionId, labels, name: USAGE_SERIES.errors, tsMs: seconds, values: bs.map((b) => b.errors) },
      { versionId, labels, name: USAGE_SERIES.inputTokens, tsMs: seconds, values: bs.map((b) => b.input) },
      { versionId, labels, name: USAGE_SERIES.outputTokens, tsMs: seconds, values: bs.map((b) => b.output) },
    );
    if (priced.length) out.push({ versionId, labels, name: USAGE_SERIES.cost, tsMs: priced, values: bs.filter((b) => b.priced > 0).map((b) => b.cost) });
  }
  return out;
}
