import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Principal } from '../modules/auth/principal';
import type { Loaders } from './loaders';

/** What every resolver gets: the caller, a fresh loaders bag and the database. */
export interface Context {
  requestId: string;
  log: Logger;
  db: DataSource;
  principal: Principal | null;
  loaders: Loaders;
}
