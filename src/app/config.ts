import path from 'node:path';
import type { QueryLimits } from '../core/graphql/limits';
import type { SessionLimits } from '../core/db/data-source';
import type { RateLimits } from '../core/graphql/rate-limit';
import type { SubscriptionLimits } from '../core/graphql/subscription-limits';
import type { WorkLimits } from '../core/graphql/context';
import { POINTS_WINDOW_DEFAULTS } from '../modules/monitoring/points-window';
import { ENGAGEMENT_WINDOW_DEFAULTS } from '../modules/feedback/feedback.service';
import { DRIFT_WINDOW_DEFAULTS } from '../modules/drift/drift.service';
import { VERSION_FILTER_DEFAULTS } from '../modules/model/model.filters';
import { MONITOR_TIMER_DEFAULTS, type MonitorTimerSettings } from '../modules/monitoring/monitor.timer';

export type { QueryLimits, RateLimits };

/** Everything the server reads from its environment, parsed and validated once at start-up. */
export interface Config {
  port: number;
  host: string;
  /** null: start an embedded PostgreSQL in `dataDir`. */
  databaseUrl: string | null;
  databasePoolSize: number;
  dataDir: string;
  /** The secret of the first ADMIN key, used only when the database has no key yet. */
  adminKey: string | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  limits: QueryLimits;
  /** The token bucket of each API key, shared by every server on the database. */
  rateLimit: RateLimits;
  /** Bounds on the work of fields whose work the data decides: time windows, filter sizes. */
  work: WorkLimits;
  /** Timeouts of every database session the server's pool opens. */
  session: SessionLimits;
  /** Most subscriptions active at once per WebSocket, per API key and per process. */
  subscriptions: SubscriptionLimits;
  /**
   * WebSocket delivery: the most bytes a socket may have waiting to be sent (queued results
   * plus the socket's own buffer) before it is closed as a slow consumer (4008), and how often
   * a metric point feed looks for points without a notification; and the interval of the
   * WebSocket keep-alive pings (a socket that has not answered one by the next is ended; 0: no
   * pings).
   */
  streams: { maxSendBufferBytes: number; pointsRecheckMs: number; keepAliveMs: number };
  shutdownTimeoutMs: number;
  /** The monitor timer: how often the leader evaluates monitors that are due, and how many per transaction. */
  monitorTimer: MonitorTimerSettings;
  /** The background rounds of metric point storage (partitions, retention) and of the rollups; 0 turns a round off. */
  storage: { intervalMs: number; rollupIntervalMs: number; partitionsAheadDays: number };
  /**
   * Batch and cache field loads through DataLoader. Only the benchmark turns this off, to
   * measure what DataLoader buys; every load is then its own statement, with no cache.
   */
  batchLoads: boolean;
  /**
   * GET /metrics (Prometheus text): off with MODELGRAPH_METRICS=false; served on the API's port,
   * or on a port of its own when MODELGRAPH_METRICS_PORT is set; at most `maxOperationNames`
   * distinct operation names become label values (docs/operations.md).
   */
  metrics: { enabled: boolean; port: number | null; maxOperationNames: number };
  /**
   * Where traces are sent (OTEL_EXPORTER_OTLP_ENDPOINT), null when tracing is off. The SDK reads
   * its settings itself, before this file is loaded (app/tracing.ts); it is checked here so that a
   * malformed endpoint stops the start with the other configuration problems.
   */
  tracing: { endpoint: string | null };
  /** The explorer (GraphiQL) at GET /graphql for browsers, with its files under /assets/explorer/ (MODELGRAPH_EXPLORER=false turns it off). */
  explorer: boolean;
  /** The live dashboard at /dashboard, with its files under /assets/dashboard/ (MODELGRAPH_DASHBOARD=false turns it off). */
  dashboard: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

type Env = Record<string, string | undefined>;

/** The longest window a setting may name, in seconds: beyond it, no timestamp the server stores. */
const YEARS_100 = 100 * 366 * 86400;

/**
 * Reads and validates the environment. Every problem is collected before failing, so that an
 * operator fixes them all in one go instead of one restart per mistake.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = str(name);
    if (v === null) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const v = str(name);
    if (v === null) return def;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    problems.push(`${name} must be true or false, got "${v}"`);
    return def;
  };

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl !== null) {
    try {
      const u = new URL(databaseUrl);
      if (!/^postgres(ql)?:$/.test(u.protocol)) problems.push(`DATABASE_URL must be a postgres:// URL, got protocol "${u.protocol}"`);
    } catch {
      problems.push('DATABASE_URL is not a valid URL');
    }
  }
  const adminKey = str('MODELGRAPH_ADMIN_KEY');
  if (adminKey !== null && adminKey.length < 16) problems.push('MODELGRAPH_ADMIN_KEY must be at least 16 characters long');
  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  const levels = ['debug', 'info', 'warn', 'error', 'silent'];
  if (!levels.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${levels.join(', ')}, got "${logLevel}"`);

  const ratePerMinute = int('MODELGRAPH_RATE_LIMIT_PER_MINUTE', 6000, 0, 1_000_000_000);

  const config: Config = {
    port: int('PORT', 4000, 0, 65535),
    host: str('HOST') ?? '127.0.0.1',
    databaseUrl,
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 1000),
    dataDir: path.resolve(str('MODELGRAPH_DATA_DIR') ?? './.modelgraph'),
    adminKey,
    logLevel: logLevel as Config['logLevel'],
    limits: {
      maxDepth: int('MODELGRAPH_MAX_DEPTH', 12, 1, 1000),
      maxAliases: int('MODELGRAPH_MAX_ALIASES', 50, 1, 100000),
      maxCost: int('MODELGRAPH_MAX_COST', 20000, 1, 100000000),
      // 4 MiB: the largest calls the API documents (10,000 usage records, about 2 MB of JSON;
      // 10,000 metric points) fit with room; bulk writers have the columnar input.
      maxBodyBytes: int('MODELGRAPH_MAX_BODY_BYTES', 4194304, 1024, 1073741824),
      maxTokens: int('MODELGRAPH_MAX_TOKENS', 20000, 100, 10000000),
      maxInputDepth: int('MODELGRAPH_MAX_INPUT_DEPTH', 32, 2, 1000),
      maxJsonBytes: int('MODELGRAPH_MAX_JSON_BYTES', 65536, 256, 1073741824),
    },
    rateLimit: {
      perMinute: ratePerMinute,
      burst: int('MODELGRAPH_RATE_LIMIT_BURST', Math.max(1, ratePerMinute), 1, 1_000_000_000),
      costPerToken: int('MODELGRAPH_RATE_LIMIT_COST_PER_TOKEN', 100, 1, 100_000_000),
    },
    work: {
      points: {
        defaultSeconds: int('MODELGRAPH_POINTS_DEFAULT_WINDOW_SECONDS', POINTS_WINDOW_DEFAULTS.defaultSeconds, 1, YEARS_100),
        maxRangeSeconds: int('MODELGRAPH_POINTS_MAX_RANGE_SECONDS', POINTS_WINDOW_DEFAULTS.maxRangeSeconds, 1, YEARS_100),
      },
      engagement: {
        defaultSeconds: int('MODELGRAPH_ENGAGEMENT_DEFAULT_WINDOW_SECONDS', ENGAGEMENT_WINDOW_DEFAULTS.defaultSeconds, 1, YEARS_100),
        maxRangeSeconds: int('MODELGRAPH_ENGAGEMENT_MAX_RANGE_SECONDS', ENGAGEMENT_WINDOW_DEFAULTS.maxRangeSeconds, 1, YEARS_100),
      },
      drift: {
        defaultSeconds: int('MODELGRAPH_DRIFT_DEFAULT_WINDOW_SECONDS', DRIFT_WINDOW_DEFAULTS.defaultSeconds, 1, YEARS_100),
        maxRangeSeconds: int('MODELGRAPH_DRIFT_MAX_RANGE_SECONDS', DRIFT_WINDOW_DEFAULTS.maxRangeSeconds, 1, YEARS_100),
        maxProfiles: int('MODELGRAPH_DRIFT_MAX_PROFILES', DRIFT_WINDOW_DEFAULTS.maxProfiles, 1, 100000),
      },
      versionFilter: {
        maxDepth: int('MODELGRAPH_MAX_FILTER_DEPTH', VERSION_FILTER_DEFAULTS.maxDepth, 0, 15),
        maxConditions: int('MODELGRAPH_MAX_FILTER_CONDITIONS', VERSION_FILTER_DEFAULTS.maxConditions, 1, 100000),
      },
    },
    session: {
      statementTimeoutMs: int('MODELGRAPH_STATEMENT_TIMEOUT_MS', 15000, 0, 3600000),
      lockTimeoutMs: int('MODELGRAPH_LOCK_TIMEOUT_MS', 5000, 0, 3600000),
      idleInTransactionTimeoutMs: int('MODELGRAPH_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30000, 0, 3600000),
    },
    subscriptions: {
      perSocket: int('MODELGRAPH_MAX_SUBSCRIPTIONS_PER_SOCKET', 100, 1, 1000000),
      perKey: int('MODELGRAPH_MAX_SUBSCRIPTIONS_PER_KEY', 250, 1, 1000000),
      perProcess: int('MODELGRAPH_MAX_SUBSCRIPTIONS', 1000, 1, 1000000),
    },
    streams: {
      maxSendBufferBytes: int('MODELGRAPH_MAX_SEND_BUFFER_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      pointsRecheckMs: int('MODELGRAPH_STREAM_RECHECK_MS', 1000, 0, 3600000),
      // graphql-ws's own default.
      keepAliveMs: int('MODELGRAPH_WS_KEEPALIVE_MS', 12000, 0, 3600000),
    },
    shutdownTimeoutMs: int('MODELGRAPH_SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    monitorTimer: {
      // 0 turns the timer off in this process (monitors are then evaluated on writes and alias moves only).
      intervalMs: int('MODELGRAPH_MONITOR_INTERVAL_MS', MONITOR_TIMER_DEFAULTS.intervalMs, 0, 86_400_000),
      batchSize: int('MODELGRAPH_MONITOR_BATCH_SIZE', MONITOR_TIMER_DEFAULTS.batchSize, 1, 100_000),
    },
    storage: {
      intervalMs: int('MODELGRAPH_STORAGE_INTERVAL_MS', 60000, 0, 86400000),
      // See docs/scaling.md ("Why every 5 s").
      rollupIntervalMs: int('MODELGRAPH_ROLLUP_INTERVAL_MS', 5000, 0, 86400000),
      partitionsAheadDays: int('MODELGRAPH_PARTITIONS_AHEAD_DAYS', 3, 1, 366),
    },
    batchLoads: bool('MODELGRAPH_BATCH_LOADS', true),
    metrics: {
      enabled: bool('MODELGRAPH_METRICS', true),
      port: str('MODELGRAPH_METRICS_PORT') === null ? null : int('MODELGRAPH_METRICS_PORT', 0, 0, 65535),
      maxOperationNames: int('MODELGRAPH_METRICS_MAX_OPERATIONS', 200, 0, 100_000),
    },
    tracing: { endpoint: str('OTEL_EXPORTER_OTLP_ENDPOINT') },
    explorer: bool('MODELGRAPH_EXPLORER', true),
    dashboard: bool('MODELGRAPH_DASHBOARD', true),
  };
  if (config.metrics.port !== null && config.metrics.port !== 0 && config.metrics.port === config.port) {
    problems.push(`MODELGRAPH_METRICS_PORT must differ from PORT (${config.port}); unset it to serve /metrics on the API's port`);
  }
  if (config.tracing.endpoint !== null && !/^https?:\/\/[^/]/.test(config.tracing.endpoint)) {
    problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL, got "${config.tracing.endpoint}"`);
  }
  for (const [name, w] of [['POINTS', config.work.points], ['ENGAGEMENT', config.work.engagement], ['DRIFT', config.work.drift]] as const) {
    if (w.defaultSeconds > w.maxRangeSeconds) {
      problems.push(`MODELGRAPH_${name}_DEFAULT_WINDOW_SECONDS (${w.defaultSeconds}) must not exceed MODELGRAPH_${name}_MAX_RANGE_SECONDS (${w.maxRangeSeconds})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
