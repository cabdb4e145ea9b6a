import type { Context } from '../graphql/context';
import { badInput, notFound } from '../graphql/errors';
import { NodeType, keyOf, nodeTypeSpec, parseGlobalId } from '../graphql/ids';
import { Located, Locator, argAt } from './permission';
import { Role } from './role';

/** The field name errors report for an argument path: what the client wrote inside `input`. */
const fieldOf = (path: string) => path.replace(/^input\./, '');

/**
 * The project of the object a global id argument names, through the node registry (the type's
 * by-id loader, then its `projectOf`). A list argument locates every entry; all must pass. A
 * malformed id is BAD_USER_INPUT naming the field (`modelId`, `ids.2`); a missing object, or one
 * outside the key's project, is NOT_FOUND. `optional`: an absent argument locates nothing. `max`:
 * more ids are BAD_USER_INPUT before anything is loaded.
 */
export function fromId(path: string, type: NodeType, opts: { optional?: boolean; max?: number; field?: string } = {}): Locator {
  const field = opts.field ?? fieldOf(path);
  return {
    describe: `${type} at ${path}`,
    verify: () => { nodeTypeSpec(type); },
    async locate(args, ctx) {
      const value = argAt(args, path);
      if (value === null || value === undefined) {
        if (opts.optional) return [];
        throw new Error(`${path} is absent but its locator is not optional`);
      }
      const list = Array.isArray(value);
      const ids = (list ? value : [value]) as string[];
      if (opts.max !== undefined && ids.length > opts.max) throw badInput(`${field} takes at most ${opts.max} ids`, field);
      // Every id is parsed before any is loaded: a malformed one fails without a statement sent.
      const keys = ids.map((id, i) => keyOf(id, type, list ? `${field}.${i}` : field));
      const spec = nodeTypeSpec(type);
      const rows = await Promise.all(keys.map((k) => spec.load(ctx.loaders, k)));
      return Promise.all(rows.map(async (row, i): Promise<Located> => (
        row ? { projectId: await spec.projectOf(row, ctx.loaders), unseen: notFound(type, ids[i]) } : notFound(type, ids[i]))));
    },
  };
}

/**
 * Any node by global id: its project, with the role its type asks for reading (VIEWER unless the
 * type says otherwise); a node of no project (a global key, its audit records) belongs to the
 * global admins. A missing node locates nothing, and one outside the key's project is unseen:
 * `node` answers null for both alike, so sequential ids tell nothing of other projects.
 */
async function locateNode(ctx: Context, id: string, field: string): Promise<Located> {
  const { type, key } = parseGlobalId(id, field);
  const spec = nodeTypeSpec(type);
  const row = await spec.load(ctx.loaders, key);
  if (!row) return null;
  const projectId = await spec.projectOf(row, ctx.loaders);
  return { projectId, role: projectId === null ? Role.ADMIN : spec.readRole, unseen: null };
}

/** The node a global id argument names, of whatever type (for `node`). */
export function fromNode(path: string): Locator {
  return {
    describe: `any node at ${path}`,
    answersNull: true,
    locate: async (args, ctx) => [await locateNode(ctx, argAt(args, path) as string, fieldOf(path))],
  };
}

/**
 * The nodes a list of global ids names, each decided alone (for `nodes`): a malformed id, or one
 * the key may not read, fails only its own entry; a missing one, or one outside the key's
 * project, is a null entry. More than `max` ids fail the field.
 */
export function eachNode(path: string, opts: { max: number; field: string }): Locator {
  return {
    describe: `each node at ${path}`,
    perEntry: true,
    answersNull: true,
    async locate(args, ctx) {
      const ids = argAt(args, path) as string[];
      if (ids.length > opts.max) throw badInput(`${fieldOf(path)} takes at most ${opts.max} ids`, fieldOf(path));
      return Promise.all(ids.map((id) => locateNode(ctx, id, opts.field).catch((e: Error) => e)));
    },
  };
}
