import type { Role } from '../auth/role';
import type { Loaders } from './context';
import { badInput, notFound } from './errors';

/** The name of a type that has global ids (see the node registry below). */
export type NodeType = string;

/** How a node type's row keys look, so a forged id fails as BAD_USER_INPUT, not in SQL. */
export type KeyShape = 'uuid' | 'bigint';

/**
 * One node type, as the module that owns it registers it: everything `node(id:)`, id parsing,
 * `resolveType` and the registry event stream need to know, written once.
 */
export interface NodeTypeSpec<T extends object = object> {
  /** The GraphQL type name; also the prefix inside the opaque id. */
  name: NodeType;
  /** The entity class whose instances are this type's objects. */
  cls: abstract new (...args: never[]) => T;
  key: KeyShape;
  /** Loads a row by key through the request's loaders (batched); null when absent. */
  load(loaders: Loaders, key: string): Promise<T | null>;
  /** The project the row belongs to (null: none, such as a global key), loading parents if needed. */
  projectOf(row: T, loaders: Loaders): Promise<string | null> | string | null;
  /** The role a key needs on that project to read the node; VIEWER when not given. */
  readRole?: Role;
}

/**
 * Types a module's node spec against its entity class (inferred from `cls`), and erases that
 * type for the registry, which holds every module's specs side by side.
 */
export const defineNodeType = <T extends object>(spec: NodeTypeSpec<T>): NodeTypeSpec => spec as unknown as NodeTypeSpec;

const REGISTRY = new Map<NodeType, NodeTypeSpec>();
const BY_CLASS = new Map<unknown, NodeType>();

/**
 * Registers a node type. The composition root calls this once per type from the module
 * descriptors; registering the same spec again is harmless, another spec under a taken name is a bug.
 */
export function registerNodeType(s: NodeTypeSpec): void {
  const had = REGISTRY.get(s.name);
  if (had && had !== s) throw new Error(`node type ${s.name} is registered twice`);
  REGISTRY.set(s.name, s);
  BY_CLASS.set(s.cls, s.name);
}

/** The spec of a registered node type; throws for a name nobody registered (a programming error). */
export function nodeTypeSpec(name: NodeType): NodeTypeSpec {
  const spec = REGISTRY.get(name);
  if (!spec) throw new Error(`node type ${name} is not registered`);
  return spec;
}

/** The GraphQL type of an entity instance, from the class it was registered with. */
export function resolveNodeType(value: object): string {
  const name = BY_CLASS.get(value.constructor);
  if (!name) throw new Error(`${value.constructor.name} is not a registered node type`);
  return name;
}

/**
 * A uuid as Postgres prints it (lowercase, hyphenated). Keys are compared as strings after
 * they are read back (loader maps, cursor positions), so other spellings are refused, not cast.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const SHAPES: Record<KeyShape, RegExp> = {
  uuid: UUID_PATTERN,
  bigint: /^[1-9][0-9]{0,18}$/,
};
/** 19 digits can exceed a Postgres bigint, which would fail in SQL instead of as bad input. */
const MAX_BIGINT = 9223372036854775807n;

const fitsShape = (shape: KeyShape, key: string) => SHAPES[shape].test(key) && (shape !== 'bigint' || BigInt(key) <= MAX_BIGINT);

/** Opaque global id: base64url of `Type:key`. Opaque so clients never build ids by hand. */
export function toGlobalId(type: NodeType, key: string): string {
  return Buffer.from(`${type}:${key}`).toString('base64url');
}

export function parseGlobalId(id: string, field = 'id'): { type: NodeType; key: string } {
  const raw = typeof id === 'string' && /^[A-Za-z0-9_-]+$/.test(id) ? Buffer.from(id, 'base64url').toString() : '';
  const sep = raw.indexOf(':');
  const type = raw.slice(0, sep);
  const key = raw.slice(sep + 1);
  const spec = sep < 0 ? undefined : REGISTRY.get(type);
  if (!spec || !fitsShape(spec.key, key)) throw badInput(`${field} is not a valid ModelGraph id`, field);
  return { type, key };
}

/** Decodes an id that must be of one type; an id of another type is a client mistake. */
export function keyOf(id: string, type: NodeType, field = 'id'): string {
  const parsed = parseGlobalId(id, field);
  if (parsed.type !== type) throw badInput(`${field} must be a ${type} id, got a ${parsed.type} id`, field);
  return parsed.key;
}

/**
 * The row a global id of one type names, through the request's loaders (so a permission check
 * that located it already makes this a cache hit); NOT_FOUND when there is none. A lookup, not
 * a check: who may see the row is the field's declared permission.
 */
export async function loadByGlobalId<T extends object>(
  loaders: Loaders, cls: abstract new (...args: never[]) => T, id: string, field = 'id',
): Promise<T> {
  const type = BY_CLASS.get(cls);
  if (!type) throw new Error(`${cls.name} is not a registered node type`);
  const row = await nodeTypeSpec(type).load(loaders, keyOf(id, type, field));
  if (!row) throw notFound(type, id);
  return row as T;
}
