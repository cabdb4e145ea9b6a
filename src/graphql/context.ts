import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Principal } from '../modules/auth/principal';
import type { Loaders } from './loaders';
import type { EventHub } from '../modules/events/event-hub';
import type { PrincipalCache } from '../modules/auth/principal-cache';

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
}
