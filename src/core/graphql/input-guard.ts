import { ASTNode, DocumentNode, GraphQLError, Kind, visit } from 'graphql';

/** Bounds on what an operation's inputs may hold, checked before anything runs. */
export interface InputLimits {
  /** Deepest nesting of objects and lists in one input value (a variable or a literal). */
  maxInputDepth: number;
}

/**
 * A code unit PostgreSQL cannot store in text: NUL, or half of a surrogate pair (which no UTF-8
 * encoding exists for). Either would fail deep in a statement as an internal error.
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point of this pattern
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const refuse = (message: string, field: string, extra: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 }, ...extra } });

/** `String.prototype.isWellFormed` (ES2024, in Node 20's V8; not yet in the TypeScript lib we target). */
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

function checkText(text: string, field: string | (() => string)): void {
  // The common case asks two native scans: the pattern (a lookbehind at every position) cost 2%
  // of the server's CPU in the ingest profile, run on each of a batch's 50,000 strings and keys.
  if (!text.includes('\u0000') && wellFormed(text)) return;
  const m = UNSTORABLE.exec(text);
  if (m) {
    const name = typeof field === 'string' ? field : field();
    const what = m[0] === '\u0000' ? 'a NUL character' : 'an unpaired surrogate';
    throw refuse(`${name} contains ${what} (at ${m.index}), which cannot be stored`, name);
  }
}

/**
 * Walks a variable's JSON value. Recursive, but never deeper than `maxInputDepth`: the depth is
 * checked before descending, so a hostile depth is refused long before the stack could overflow.
 * The place of each value is kept as a path of keys and spelled out only for an error: building
 * a name for every element made a 5,000-point batch allocate tens of thousands of strings, on
 * the path of every write.
 */
function checkValue(value: unknown, path: (string | number)[], depth: number, limits: InputLimits): void {
  if (typeof value === 'string') {
    checkText(value, () => path.join('.'));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= limits.maxInputDepth) {
    throw refuse(`${path[0]} nests deeper than the limit of ${limits.maxInputDepth}`, path.join('.'), { limit: 'maxInputDepth', max: limits.maxInputDepth });
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      checkValue(value[i], path, depth + 1, limits);
      path.pop();
    }
    return;
  }
  for (const key of Object.keys(value)) {
    path.push(key);
    checkText(key, () => path.join('.'));
    checkValue((value as Record<string, unknown>)[key], path, depth + 1, limits);
    path.pop();
  }
}

/**
 * Refuses, as BAD_USER_INPUT naming the place, any input an operation carries that the server
 * could not store or that nests without bound: in the variables and in the document's literals,
 * for every argument at once rather than field by field in each resolver.
 */
export function checkInputs(document: DocumentNode, variables: Record<string, unknown> | null | undefined, limits: InputLimits): void {
  for (const [name, value] of Object.entries(variables ?? {})) {
    checkText(name, `$${name}`);
    checkValue(value, [`$${name}`], 0, limits);
  }
  // Literal values: depth counts nested object and list values within one argument.
  let depth = 0;
  const nesting = new Set<string>([Kind.OBJECT, Kind.LIST]);
  visit(document, {
    enter(node: ASTNode) {
      if (node.kind === Kind.STRING) checkText(node.value, `the literal at line ${node.loc?.startToken.line ?? '?'}`);
      // JSON cannot carry an infinity, but a literal can (1e400); no column should store one.
      if (node.kind === Kind.FLOAT && !Number.isFinite(Number(node.value))) {
        throw refuse(`The number ${node.value.slice(0, 40)} is out of the range of a double`, 'query');
      }
      if (nesting.has(node.kind)) {
        depth++;
        if (depth > limits.maxInputDepth) {
          throw refuse(`A literal input nests deeper than the limit of ${limits.maxInputDepth}`, 'query', { limit: 'maxInputDepth', max: limits.maxInputDepth });
        }
      }
    },
    leave(node: ASTNode) {
      if (nesting.has(node.kind)) depth--;
    },
  });
}
