import { Extensions } from 'type-graphql';
import {
  GraphQLField, GraphQLFieldResolver, GraphQLObjectType, GraphQLSchema, defaultFieldResolver, getNullableType, isListType, isNonNullType,
} from 'graphql';
import type { Context } from '../graphql/context';
import { AppError } from '../graphql/errors';
import type { Principal } from './principal';
import { Role, roleAtLeast } from './role';

/** A root field's arguments as graphql-js passes them: coerced, not yet validated by type-graphql. */
export type Args = Record<string, unknown>;

/**
 * Where a permission applies, as a locator finds it from the arguments. `projectId` null means
 * every project: only a key of no single project reaches it. `role` is what the object itself
 * asks for when that is more than the field's role (reading an API key needs ADMIN).
 */
export interface Target {
  projectId: string | null;
  role?: Role;
  /**
   * What a key outside the target's project gets: the very answer the locator gives when nothing
   * is there (its NOT_FOUND, or null: the field answers null), so that another project's object
   * and a missing one look alike and ids and slugs reveal nothing. Unset, for targets that are no
   * lookup (GLOBAL): FORBIDDEN. A key with too low a role in its own scope is FORBIDDEN either way.
   */
  unseen?: Error | null;
}

/**
 * One located entry: a target to check, the error the lookup ended in (NOT_FOUND ...), or null:
 * there is nothing there, so nothing to guard, and the resolver answers null.
 */
export type Located = Target | Error | null;

/** Finds, from a root field's arguments, the project (or projects) its permission applies to. */
export interface Locator {
  /** How the declaration reads when the schema is inspected, e.g. `Model at input.modelId`. */
  readonly describe: string;
  /**
   * A list argument whose entries are decided one by one (`nodes`): a refused entry becomes that
   * entry's error while the others resolve. Otherwise any refusal fails the whole field.
   */
  readonly perEntry?: boolean;
  /** Checks, when the schema is built, what the declaration names (a node type that exists). */
  readonly verify?: () => void;
  /**
   * Whether it can locate nothing, or a target with `unseen: null`, so that the field (for a
   * per-entry locator: the entry) answers null; the schema build checks that null is allowed there.
   */
  readonly answersNull?: boolean;
  /** Looks up through `ctx.loaders`, so the resolver's own load of the same row is a cache hit. */
  locate(args: Args, ctx: Context): Promise<Located[]>;
}

/** The role-free requirement: any valid key; the resolver filters or checks per object itself. */
export const AUTHENTICATED = 'AUTHENTICATED';

/** Keys valid for every project: a key scoped to one project is refused whatever its role. */
export const GLOBAL: Locator = {
  describe: 'every project',
  locate: async () => [{ projectId: null }],
};

/** The value at a dotted path of the arguments (`input.modelId`, `reference.datasetVersionId`). */
export function argAt(args: Args, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Args)[k] : undefined), args);
}

/** A root field's declared permission, as it sits in the built schema's field extensions. */
export class Permission {
  constructor(readonly role: Role | typeof AUTHENTICATED, readonly scopes: readonly Locator[]) {}

  /** The inspectable form: `{ role: 'EDITOR', scopes: ['Model at input.modelId'] }`. */
  toJSON(): { role: string; scopes: string[] } {
    return { role: this.role, scopes: this.scopes.map((s) => s.describe) };
  }
}

/** The key under which a field's Permission is recorded in its GraphQL extensions. */
export const PERMISSION_EXTENSION = 'permission';

/**
 * Declares who may call a Query, Mutation or Subscription field, next to its declaration:
 * `@Allow(AUTHENTICATED)`, `@Allow(Role.EDITOR, GLOBAL)`, `@Allow(Role.VIEWER, fromSlug('projectSlug'))`,
 * `@Allow(Role.EDITOR, fromId('input.modelId', 'Model'))`. Several locators must all pass. The
 * declaration is recorded in the schema; `enforcePermissions` applies it before the resolver
 * (for a subscription: before its stream starts).
 */
export function Allow(role: typeof AUTHENTICATED): MethodDecorator;
export function Allow(role: Role, ...scopes: [Locator, ...Locator[]]): MethodDecorator;
export function Allow(role: Role | typeof AUTHENTICATED, ...scopes: Locator[]): MethodDecorator {
  // Declaration mistakes fail when the module loads, not at the first request.
  if (role === AUTHENTICATED && scopes.length) throw new Error('@Allow(AUTHENTICATED) takes no locator: it checks no project');
  if (role !== AUTHENTICATED && !scopes.length) throw new Error(`@Allow(${role}) needs a locator (GLOBAL for keys of every project)`);
  if (scopes.some((s) => s.perEntry) && scopes.length > 1) throw new Error('a per-entry locator must be the only one');
  return Extensions({ [PERMISSION_EXTENSION]: new Permission(role, scopes) });
}

/** The permission declared on a field, if any. */
export function permissionOf<C>(field: GraphQLField<unknown, C>): Permission | undefined {
  const p = field.extensions?.[PERMISSION_EXTENSION];
  return p instanceof Permission ? p : undefined;
}

const unauthenticated = () => new AppError('UNAUTHENTICATED', 'Send an API key: Authorization: Bearer <secret>');

/** A refusal that answers null, as for an object that is not there (see `Target.unseen`). */
const UNSEEN = Symbol('unseen');
/** What a located entry comes to: an error, UNSEEN (answer null), or null: it may go on. */
type Verdict = Error | typeof UNSEEN | null;

/**
 * Why `p` may not act with `role` on `t`, or null when it may. Outside the key's scope: what the
 * locator answers for nothing there. Inside it, with too low a role: FORBIDDEN (that tells the
 * key nothing it cannot read already).
 */
function refusal(p: Principal, t: Target, role: Role): Verdict {
  if (p.projectId !== null && p.projectId !== t.projectId) {
    if (t.unseen !== undefined) return t.unseen ?? UNSEEN;
    return new AppError('FORBIDDEN', t.projectId === null ? 'This needs a key that is not scoped to one project' : 'This API key is not valid for that project');
  }
  const need = t.role && roleAtLeast(t.role, role) ? t.role : role;
  if (!roleAtLeast(p.role, need)) return new AppError('FORBIDDEN', `This needs the ${need} role; the key has ${p.role}`);
  return null;
}

/**
 * Applies a permission: UNAUTHENTICATED without a key; then every locator's entries in declared
 * order, so the first error (BAD_USER_INPUT, NOT_FOUND, FORBIDDEN) is the same whatever the
 * timing of the loads. The locators run together, so their loads share the loaders' batches.
 * Returns the per-entry verdicts of a per-entry locator; UNSEEN when the field is to answer
 * null without running; else null (everything passed).
 */
async function authorize(perm: Permission, args: Args, ctx: Context): Promise<Verdict[] | typeof UNSEEN | null> {
  const p = ctx.principal;
  if (!p) throw unauthenticated();
  if (perm.role === AUTHENTICATED) return null;
  const role = perm.role;
  const results = await Promise.allSettled(perm.scopes.map((s) => s.locate(args, ctx)));
  const verdict = (e: Located): Verdict => (e instanceof Error ? e : e ? refusal(p, e, role) : null);
  // An unseen entry answers null only once the other entries passed, as a missing one would.
  let unseen = false;
  for (const [i, r] of results.entries()) {
    if (r.status === 'rejected') throw r.reason;
    if (perm.scopes[i].perEntry) return r.value.map(verdict);
    for (const e of r.value) {
      const refused = verdict(e);
      if (refused === UNSEEN) unseen = true;
      else if (refused) throw refused;
    }
  }
  return unseen ? UNSEEN : null;
}

/** Every field of a root type, with the type's name for messages. */
const rootFields = (type: GraphQLObjectType | null | undefined) =>
  Object.values(type?.getFields() ?? {}).map((field) => ({ type: type!.name, field }));

/**
 * Puts every root field's declared permission in front of it, once, on the built schema: Query
 * and Mutation fields before `resolve`, Subscription fields before `subscribe`, so a refused
 * subscription starts no stream, and nothing is checked again per event (the stream itself
 * re-checks that the key was not revoked). A root field without a declaration fails the build:
 * a field cannot ship unguarded.
 */
export function enforcePermissions(schema: GraphQLSchema): void {
  const missing: string[] = [];
  const each = (type: GraphQLObjectType | null | undefined, wrap: (field: GraphQLField<unknown, Context>, perm: Permission) => void) => {
    for (const { type: name, field } of rootFields(type)) {
      const perm = permissionOf(field);
      perm?.scopes.forEach((s) => s.verify?.());
      if (perm) wrap(field, perm);
      else missing.push(`${name}.${field.name}`);
    }
  };
  const guardResolve = (field: GraphQLField<unknown, Context>, perm: Permission) => {
    for (const s of perm.scopes.filter((scope) => scope.answersNull)) {
      // What answers null must be nullable: the field, or for a per-entry locator its entries.
      const at = s.perEntry ? getNullableType(field.type) : field.type;
      const nullable = s.perEntry ? isListType(at) && !isNonNullType(at.ofType) : !isNonNullType(at);
      if (!nullable) throw new Error(`${field.name}: ${s.describe} answers null, which the field's type ${String(field.type)} does not allow`);
    }
    const resolve: GraphQLFieldResolver<unknown, Context> = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args, ctx, info) => {
      const verdicts = await authorize(perm, args, ctx);
      if (verdicts === UNSEEN) return null;
      const result = await resolve(source, args, ctx, info);
      // graphql-js turns an Error in a list into that entry's error, leaving the others.
      return verdicts && Array.isArray(result)
        ? result.map((r, i) => (verdicts[i] === UNSEEN ? null : verdicts[i] ?? r))
        : result;
    };
  };
  each(schema.getQueryType(), guardResolve);
  each(schema.getMutationType(), guardResolve);
  each(schema.getSubscriptionType(), (field, perm) => {
    if (perm.scopes.some((s) => s.perEntry)) throw new Error(`Subscription.${field.name}: a stream cannot refuse per entry`);
    if (perm.scopes.some((s) => s.answersNull)) throw new Error(`Subscription.${field.name}: a stream cannot answer null`);
    const subscribe = field.subscribe;
    if (!subscribe) throw new Error(`Subscription.${field.name} has no subscribe function`);
    field.subscribe = async (source, args, ctx, info) => {
      await authorize(perm, args, ctx); // never UNSEEN: no locator here answers null
      return subscribe(source, args, ctx, info);
    };
  });
  if (missing.length) throw new Error(`root fields without a declared permission (@Allow): ${missing.join(', ')}`);
}
