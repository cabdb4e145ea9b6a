import { DocumentNode, GraphQLError, GraphQLSchema, ValidationContext, ValidationRule, validate } from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { ComplexityEstimator, fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { planSizes, sizedListEstimator } from './sized-args';
import type { WorkLimits } from './context';

/** The limits every operation is checked against (configured in `app/config.ts`). */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxBodyBytes: number;
  /** Most lexical tokens a document may have; parsing stops there, so a huge document costs little. */
  maxTokens: number;
  /** Deepest nesting of objects and lists in one input value. */
  maxInputDepth: number;
  /** Most bytes of JSON text in one JSON or JSONObject input value. */
  maxJsonBytes: number;
}

const limitError = (limit: string, message: string, max: number, actual?: number) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', limit, max, ...(actual !== undefined ? { actual } : {}) } });

/**
 * A list field costs its page size times what one item costs: `first: 100` over `first: 100`
 * is ten thousand objects, which a flat per-field count would call cheap.
 */
const connectionEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
  const hasFirst = field.args.some((a) => a.name === 'first');
  if (!hasFirst) return undefined;
  const first = typeof args.first === 'number' ? args.first : 20;
  return 1 + Math.max(1, first) * Math.max(1, childComplexity);
};

/**
 * Validation rules that refuse deep or alias-heavy documents before anything runs, each
 * reported as BAD_USER_INPUT with `extensions.limit` naming what was exceeded.
 *
 * They come as one rule that runs them on their own as the walk starts and, if they refuse the
 * document, ends the walk there: the ~30 standard rules never visit a document the limits refuse
 * anyway. Run alongside them, a 1,000-alias document took about 25 ms of validation to refuse,
 * time every other caller of the process waited for; refused by the limits alone it takes a
 * fraction of that. (A visitor's `enter` returning null skips the node, in graphql-js' visitor
 * API; on the Document that skips every rule's walk.)
 */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  const reject = (limit: string, what: string, max: number) => (ctx: ValidationContext | null, err: GraphQLError) => {
    const found = /found (\d+)/.exec(err.message);
    ctx?.reportError(limitError(limit, `Query ${what} the limit of ${max}`, max, found ? Number(found[1]) : undefined));
  };
  const checks = [
    // Fragments (`... on Model`) add no depth: `node(id:)` queries need one per type.
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, propagateOnRejection: false, onReject: [reject('maxDepth', 'is deeper than', limits.maxDepth)] }),
    maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject: [reject('maxAliases', 'uses more aliases than', limits.maxAliases)] }),
  ] as unknown as ValidationRule[];
  const limitsFirst: ValidationRule = (context) => ({
    Document: {
      enter(document) {
        const refused = validate(context.getSchema(), document, checks);
        if (!refused.length) return undefined;
        for (const error of refused) context.reportError(error);
        return null;
      },
    },
  });
  return [limitsFirst];
}

/**
 * The variables with every list cut to its first element, for the cost estimate when the
 * executor coerces (and refuses, see jit-executor.ts) the full values anyway. The estimate reads
 * only scalars (`first`) from arguments, list sizes come from `planSizes` over the raw
 * variables, and coercing a 5,000-point batch here cost as much as the executor's own coercion.
 * A value the cut one fails, the full one fails too, so nothing the estimate refused passes.
 */
function firstOfEachList(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const cut = (v: unknown, d: number): unknown => {
    // Deeper than any input may nest (checkInputs refused those already): left as it is.
    if (v === null || typeof v !== 'object' || d > 64) return v;
    if (Array.isArray(v)) return v.length ? [cut(v[0], d + 1)] : v;
    if (v instanceof Date) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = cut((v as Record<string, unknown>)[k], d + 1);
    return out;
  };
  return cut(value, depth) as Record<string, unknown>;
}

/**
 * The cost check needs the operation's variables (`first: $n`, `entityKeys: $keys`), which
 * validation rules do not see, so it runs once the operation is resolved. A list costs its
 * size times what one element selects, whether `first` sizes it or a list argument does
 * (`onlineFeatures(entityKeys:, features:)`: keys times features values, see `SizeRule`); every
 * sized argument is checked against its maximum first, and the early argument checks run
 * (`CheckedArgs`, with the configured work limits). Throws BAD_USER_INPUT over a limit and
 * returns the cost, which the resolvers may add to (`chargeSize`) and the rate limit charges for.
 */
export function checkCost(
  schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined, maxCost: number,
  work?: WorkLimits, executorCoerces = false,
): number {
  let cost: number;
  try {
    const factors = planSizes(schema, document, variables, operationName, work);
    cost = getComplexity({
      schema, query: document, variables: executorCoerces ? firstOfEachList(variables ?? {}, 0) : variables ?? {}, operationName,
      estimators: [sizedListEstimator(factors), fieldExtensionsEstimator(), connectionEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (err) {
    // Variables that do not fit their types fail here first; uncoded, Apollo would mask them as internal errors.
    if (!(err instanceof GraphQLError)) throw err;
    if (err.extensions?.code) {
      // Nothing ran: the whole request is refused, as a 400 over HTTP.
      (err.extensions as Record<string, unknown>).http = { status: 400 };
      throw err;
    }
    throw new GraphQLError(err.message, { nodes: err.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
  }
  if (cost > maxCost) {
    const err = limitError('maxCost', `Query costs ${cost}, more than the limit of ${maxCost}`, maxCost, cost);
    (err.extensions as Record<string, unknown>).http = { status: 400 };
    throw err;
  }
  return cost;
}
