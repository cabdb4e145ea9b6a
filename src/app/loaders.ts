import type { DataSource } from 'typeorm';
import type { Loaders } from '../core/graphql/context';
import { ORDER } from './modules';

/**
 * The per-request loaders bag, made of every module's loaders. A new one per HTTP request and
 * per subscription event, so a cache never outlives the request that filled it.
 */
export function createLoaders(db: DataSource, batch = true): Loaders {
  const bag = {};
  for (const m of ORDER) if (m.loaders) Object.assign(bag, m.loaders(db, batch));
  return bag as Loaders;
}

export type { Loaders };
