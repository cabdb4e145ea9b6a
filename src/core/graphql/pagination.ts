import { ArgsType, ClassType, Field, Int, ObjectType } from 'type-graphql';
import { IsOptional, IsString } from 'class-validator';
import { badInput } from './errors';
import { UUID_PATTERN } from './ids';

@ObjectType({ description: 'Where a page of a connection sits in the whole list.' })
export class PageInfo {
  @Field({ description: 'True when more items follow the last one of this page.' })
  hasNextPage: boolean;

  @Field({ description: 'True when this page was fetched with `after`, so items precede it.' })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of the page.' })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item; pass it as `after` for the next page.' })
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
}

/**
 * Declares `<Name>Connection` and `<Name>Edge` for a node type, the Relay shape every growing
 * list in the schema uses.
 */
export function ConnectionType<T extends object>(nodeType: ClassType<T>, name: string, what: string) {
  @ObjectType(`${name}Edge`, { description: `One ${what} in a page, with its cursor.` })
  class EdgeClass {
    @Field({ description: 'Opaque position of this item; pass it as `after` to continue after it.' })
    cursor: string;

    @Field(() => nodeType, { description: `The ${what}.` })
    node: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${what}s, keyset-paginated.` })
  class ConnectionClass {
    @Field(() => [EdgeClass], { description: 'The items of this page with their cursors.' })
    edges: EdgeClass[];

    @Field(() => [nodeType], { description: 'The items of this page, without cursors.' })
    nodes: T[];

    @Field(() => PageInfo, { description: 'Whether more pages exist, and the cursors to fetch them.' })
    pageInfo: PageInfo;
  }
  return ConnectionClass;
}

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** The `first` argument of a list: the same words and bounds everywhere (pageSize enforces them). */
export const firstArg = (def = DEFAULT_PAGE, max = MAX_PAGE) => ({
  nullable: true,
  defaultValue: def,
  description: `How many items to return: 0 to ${max} (default ${def}). Outside that range, BAD_USER_INPUT.`,
});

/** The `first` argument of most lists: at most 100, 20 by default. */
export const FIRST_ARG = firstArg();

/** The `after` argument of a connection. */
export const AFTER_ARG = {
  nullable: true,
  description: 'Continue after this cursor: the `endCursor` of the previous page, or an edge\'s `cursor`. A cursor that is not one of this list\'s is BAD_USER_INPUT.',
};

/** Validates `first`; out of range is a client error, not silently clamped. */
export function pageSize(first: number | null | undefined, def = DEFAULT_PAGE, max = MAX_PAGE): number {
  const n = first ?? def;
  if (!Number.isInteger(n) || n < 0 || n > max) throw badInput(`first must be between 0 and ${max}`, 'first');
  return n;
}

/** Cursors are base64url JSON of the sort key, opaque to clients. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor whose key must have `arity` parts (or a number of parts `arity` accepts); anything else is BAD_USER_INPUT. */
export function decodeCursor(cursor: string | null | undefined, arity: number | ((parts: number) => boolean), field = 'after'): unknown[] | null {
  if (cursor === null || cursor === undefined) return null;
  let key: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw badInput(`${field} is not a valid cursor`, field);
  }
  const fits = typeof arity === 'number' ? (n: number) => n === arity : arity;
  if (!Array.isArray(key) || !fits(key.length) || key.some((k) => typeof k !== 'string' && typeof k !== 'number')) {
    throw badInput(`${field} is not a valid cursor for this list`, field);
  }
  return key;
}

const CURSOR_INTEGER = /^-?[0-9]{1,19}$/;

function cursorValueFits(v: unknown, type: string): boolean {
  switch (type) {
    case 'uuid': return typeof v === 'string' && UUID_PATTERN.test(v);
    // Cursors hold toISOString() values; anything else did not come from this server.
    case 'timestamptz': return typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;
    case 'int': return Number.isInteger(Number(v)) && CURSOR_INTEGER.test(String(v)) && Math.abs(Number(v)) <= 2147483647;
    case 'bigint': return CURSOR_INTEGER.test(String(v)) && BigInt(String(v)) <= 9223372036854775807n && BigInt(String(v)) >= -9223372036854775808n;
    default: return typeof v === 'string';
  }
}

/**
 * Checks a decoded cursor's values against the SQL types they are bound as, so a forged
 * cursor is BAD_USER_INPUT rather than a failed cast in SQL (an internal error).
 */
export function checkCursorValues(key: unknown[], types: string[], field = 'after'): void {
  if (key.length !== types.length || !types.every((type, i) => cursorValueFits(key[i], type))) {
    throw badInput(`${field} is not a valid cursor for this list`, field);
  }
}

/**
 * Builds a connection from `first + 1` fetched rows: the extra row only says a next page
 * exists. Cursors are encoded only when a client selects them (getters), since most reads
 * ask for `nodes` and a large nested page would otherwise encode hundreds for nothing.
 */
export function toConnection<T>(rows: T[], first: number, hadCursor: boolean, keyOf: (row: T) => unknown[]): Connection<T> {
  const nodes = rows.slice(0, first);
  const cursorAt = (i: number) => (nodes.length ? encodeCursor(keyOf(nodes[i])) : null);
  return {
    get edges() {
      return nodes.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
    },
    nodes,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: hadCursor,
      get startCursor() {
        return cursorAt(0);
      },
      get endCursor() {
        return cursorAt(nodes.length - 1);
      },
    },
  };
}

/** `first` and `after` of a connection field, for fields that take nothing else. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, FIRST_ARG)
  first?: number;

  @Field(() => String, AFTER_ARG)
  @IsOptional() @IsString()
  after?: string | null;
}
