import type { DataSource } from 'typeorm';
import type { Loaders } from '../core/graphql/context';
import { ORDER } from './modules';

/**
 * The prototype of every bag of one data source: a getter per loader that builds its module's
 * loaders on first use, on the bag itself. The names are learnt once, from one bag built whole.
 */
const prototypes = new WeakMap<DataSource, Map<boolean, object>>();

function prototypeOf(db: DataSource, batch: boolean): object {
  let byBatch = prototypes.get(db);
  if (!byBatch) prototypes.set(db, (byBatch = new Map()));
  const proto = byBatch.get(batch);
  if (proto) return proto;
  const made: object = {};
  for (const m of ORDER) {
    const factory = m.loaders;
    if (!factory) continue;
    for (const name of Object.keys(factory(db, batch))) {
      Object.defineProperty(made, name, {
        enumerable: true,
        configurable: true,
        get(this: Record<string, unknown>) {
          // The module's loaders are made together (they may share a cache), and kept on this bag.
          const built = factory(db, batch) as Record<string, unknown>;
          for (const [k, v] of Object.entries(built)) Object.defineProperty(this, k, { value: v, enumerable: true, configurable: true, writable: true });
          return built[name];
        },
      });
    }
  }
  byBatch.set(batch, made);
  return made;
}

/**
 * The per-request loaders bag, made of every module's loaders. A new one per HTTP request and
 * per subscription event, so a cache never outlives the request that filled it. Lazy: a
 * module's loaders are made when first read, so a bag nothing reads (an idle subscription's)
 * costs one empty object.
 */
export function createLoaders(db: DataSource, batch = true): Loaders {
  return Object.create(prototypeOf(db, batch)) as Loaders;
}

export type { Loaders };
