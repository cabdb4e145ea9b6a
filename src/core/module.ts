import type { DataSource } from 'typeorm';
import type { HookBinding } from './hooks';
import type { NodeTypeSpec } from './graphql/ids';

/**
 * What a feature module gives the composition root (`app/modules.ts`), which lists the
 * descriptors in the declared order. Nothing else about a module is known outside it.
 */
export interface ModuleDescriptor {
  /** The folder name under `src/modules/`. */
  name: string;
  /** TypeORM entities whose tables this module owns. */
  entities: readonly (abstract new (...args: never[]) => object)[];
  /** type-graphql resolver classes, including field resolvers on earlier modules' types. */
  resolvers: readonly (abstract new (...args: never[]) => object)[];
  /** This module's part of the per-request loaders bag. */
  loaders?: (db: DataSource, batch: boolean) => object;
  /** The node types this module owns. */
  nodeTypes?: readonly NodeTypeSpec[];
  /** Handlers this module adds to hooks declared by earlier modules. */
  hooks?: readonly HookBinding[];
  /**
   * Synchronous `resolveType` for this module's abstract types: graphql-jit needs the type name
   * at once, while type-graphql wraps every resolveType in a promise.
   */
  resolveTypes?: Readonly<Record<string, (value: object) => string>>;
}
