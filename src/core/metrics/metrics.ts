import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * What the server counts for Prometheus (GET /metrics; docs/operations.md lists every metric).
 * One instance per running server, so that two servers in one process (the tests) count apart;
 * the composition root makes it and hands it to the context, through which modules count.
 */

/** How a GraphQL request reached the server. */
export type Transport = 'http' | 'ws';

/** Label values of operations whose name cannot be told or is not kept. */
export const OPERATION_UNKNOWN = '__unknown';
export const OPERATION_ANONYMOUS = '__anonymous';
export const OPERATION_OTHER = '__other';

/** Longest operation name kept as a label; a longer one is counted as `__other`. */
const MAX_NAME_LENGTH = 64;
/** An error code as the server writes them; anything else is counted as `OTHER`. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,39}$/;

/**
 * Latency buckets in seconds: from a cached point read (about a millisecond) to the statement
 * timeout's order (15 s), about three per decade.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The code of the first error of an answer, as counted; null for an answer without errors. */
export function firstErrorCode(errors: readonly { extensions?: Record<string, unknown> }[] | null | undefined): string | null {
  if (!errors?.length) return null;
  const code = errors[0].extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

/** A pg pool as TypeORM's driver holds it (pg's Pool): counts of its clients and waiters. */
export interface PoolCounts { totalCount: number; idleCount: number; waitingCount: number }

let processRegistry: Registry | null = null;

/**
 * The process's own metrics (CPU, memory, handles, GC, event loop lag): prom-client's default
 * metrics, collected once per process whatever the number of servers, since each collection
 * starts its own event loop monitor and GC observer that are never stopped.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly names = new Set<string>();
  private readonly requests: Counter<'transport' | 'operation' | 'type' | 'outcome'>;
  private readonly duration: Histogram<'operation' | 'type'>;
  private readonly points: Counter;

  /**
   * `maxOperationNames` caps the distinct operation names kept as label values: callers choose
   * the names, and each one kept is a series held in memory until the process ends.
   */
  constructor(readonly maxOperationNames: number) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'modelgraph_graphql_requests_total',
      help: 'GraphQL requests answered, by transport, operation name, operation type and outcome (ok or the first error code).',
      labelNames: ['transport', 'operation', 'type', 'outcome'], registers,
    });
    this.duration = new Histogram({
      name: 'modelgraph_graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL request over HTTP to sending its answer, by operation name and type.',
      labelNames: ['operation', 'type'], buckets: LATENCY_BUCKETS, registers,
    });
    this.points = new Counter({
      name: 'modelgraph_points_ingested_total',
      help: 'Metric points committed by recordMetrics and recordMetricColumns (a repeated idempotency key adds none).',
      registers,
    });
  }

  /**
   * The label of an operation: its name when it has one and the cap is not reached, else one
   * of the collapsed values. `undefined`: no operation was resolved (the document did not parse
   * or validate, or the request was refused before it was read).
   */
  operationLabel(operation: { name?: { value: string } } | null | undefined): string {
    if (!operation) return OPERATION_UNKNOWN;
    const name = operation.name?.value;
    if (!name) return OPERATION_ANONYMOUS;
    if (this.names.has(name)) return name;
    if (name.length > MAX_NAME_LENGTH || this.names.size >= this.maxOperationNames) return OPERATION_OTHER;
    this.names.add(name);
    return name;
  }

  /**
   * Counts one answered request; `seconds` (HTTP only) also observes its latency. `code` is
   * the first error's code, or null when the answer has no error.
   */
  answered(transport: Transport, operation: string, type: string | undefined, code: unknown, seconds?: number): void {
    const outcome = code === null ? 'ok' : typeof code === 'string' && ERROR_CODE.test(code) ? code : 'OTHER';
    const kind = type === 'query' || type === 'mutation' || type === 'subscription' ? type : 'unknown';
    this.requests.inc({ transport, operation, type: kind, outcome });
    if (seconds !== undefined) this.duration.observe({ operation, type: kind }, seconds);
  }

  /** Called after the points of a write are committed. */
  pointsIngested(n: number): void {
    this.points.inc(n);
  }

  /** A gauge read at scrape time from `read`, which returns one value per label set. */
  gauge<L extends string>(name: string, help: string, labelNames: L[], read: () => [Partial<Record<L, string>>, number][]): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  /** Gauges of a pg pool's clients: all of them, the idle ones, and the requests waiting for one. */
  pools(read: () => [string, PoolCounts | null][]): void {
    const each = (pick: (p: PoolCounts) => number) => () =>
      read().flatMap(([pool, p]) => (p ? [[{ pool }, pick(p)] as [Partial<Record<'pool', string>>, number]] : []));
    this.gauge('modelgraph_db_pool_connections', 'Connections the database pool holds (idle and in use), by pool.', ['pool'], each((p) => p.totalCount));
    this.gauge('modelgraph_db_pool_idle_connections', 'Connections of the database pool that are idle, by pool.', ['pool'], each((p) => p.idleCount));
    this.gauge('modelgraph_db_pool_waiting_requests', 'Requests waiting for a connection of the database pool, by pool.', ['pool'], each((p) => p.waitingCount));
  }

  readonly contentType = this.registry.contentType;

  /** The exposition text: this server's metrics, then the process's. */
  async render(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }
}
