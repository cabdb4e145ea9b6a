import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal';
import type { EventHub } from '../events/event-hub';
import type { PrincipalCache } from '../auth/principal-cache';
import type { ServerMetrics } from '../metrics/metrics';

/**
 * The per-request loaders bag. Empty here, so that the kernel names no feature: each module's
 * `<module>.loaders.ts` adds its loaders to this interface by declaration merging, and the
 * composition root (`app/loaders.ts`) builds the bag from the module descriptors.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Loaders {}

/**
 * Bounds on the work of fields whose work the data decides (time windows, filter sizes),
 * configured in `app/config.ts`. Empty here for the same reason as Loaders: each module adds
 * its own by declaration merging, and the composition root fills them from the environment.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WorkLimits {}

/** What the operation may still spend: the cost estimate's total, plus what resolvers charged since (see `chargeSize`). */
export interface CostBudget {
  max: number;
  /** The estimate made before the operation ran. */
  estimated: number;
  spent: number;
}

/** What every resolver gets: the caller, a fresh loaders bag and the database. */
export interface Context {
  requestId: string;
  log: Logger;
  db: DataSource;
  principal: Principal | null;
  loaders: Loaders;
  /** A new loaders bag; subscriptions take one per event. */
  freshLoaders: () => Loaders;
  /** The process's LISTEN connection, which subscriptions wait on. */
  events: EventHub;
  /** Recently authenticated keys; revocation drops a key from it. */
  keys: PrincipalCache;
  /** The configured bounds on work the data decides. */
  limits: WorkLimits;
  /** This server's Prometheus counters (GET /metrics). */
  metrics: ServerMetrics;
  /**
   * Over WebSocket: the most bytes that may wait to be sent to the socket, and what closes it
   * as a slow consumer (close code 4008) when they pass that bound.
   */
  sendBound?: { maxBytes: number; closeSlow: () => void };
  /** The operation's cost budget, once its cost was estimated (absent before, and outside an operation). */
  cost?: CostBudget;
}
