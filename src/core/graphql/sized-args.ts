import { Extensions } from 'type-graphql';
import {
  DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLError, GraphQLField, GraphQLFieldResolver, GraphQLInputType, GraphQLResolveInfo,
  GraphQLSchema, Kind, OperationDefinitionNode, SelectionSetNode, TypeInfo, defaultFieldResolver, getArgumentValues, getNamedType,
  getNullableType, getOperationAST, isInputObjectType, isInputType, isListType, isObjectType, typeFromAST, valueFromAST, visit,
  visitWithTypeInfo,
} from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import type { Context, WorkLimits } from './context';

/**
 * How one argument bounds the work of its field: the most it may hold, what happens to repeats,
 * and which lists of the answer it sizes, so the query cost counts every element it asks for.
 * Declared next to the field with `@SizedArgs`, read from the built schema by the cost
 * estimate (before anything runs) and by `enforceSizedArgs` (around the resolver).
 */
export interface SizeRule {
  /** Most items of a list argument, or the largest value of an Int argument. Over it: BAD_USER_INPUT naming the argument. */
  max: number;
  /**
   * Repeats in a list argument. `removed`: dropped before the resolver runs, the first of each
   * kept in order (names whose repeats ask for nothing more). `kept`: the answer holds one entry
   * per item, in order, as a lookup by position does; the loaders then fetch each distinct item once.
   */
  duplicates?: 'removed' | 'kept';
  /**
   * Where the argument's size shows in the answer, as paths from the field: `''` is the field's
   * own list, `'values'` the `values` list of each element, `'rows.values'` one level deeper.
   * Each element of such a list is paid for in the cost estimate. An omitted list argument whose
   * size the data decides (`features`: every feature) counts once in the estimate; the resolver
   * charges the rest with `chargeSize` once it knows the size.
   */
  sizes?: string[];
}

/** Rules by argument name, or by a path into an input argument (`filter.names`). */
export type SizeRules = Record<string, SizeRule>;

/** The value at an argument path (`features`, `filter.names`). */
const valueAt = (args: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), args);

/** The arguments with the value at a path replaced, copying only the objects on the way. */
function replacedAt(args: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  if (!rest.length) return { ...args, [head]: value };
  return { ...args, [head]: replacedAt(args[head] as Record<string, unknown>, rest.join('.'), value) };
}

/** The key under which a field's size rules sit in its GraphQL extensions. */
export const SIZES_EXTENSION = 'sizedArgs';

/** Declares how a field's arguments bound its work; see `SizeRule`. */
export const SizedArgs = (rules: SizeRules): MethodDecorator & PropertyDecorator => Extensions({ [SIZES_EXTENSION]: rules });

/**
 * A check of an argument's value that must run before the operation does: before type-graphql
 * turns the input into class instances and validates them, work that grows with the value
 * (a filter tree of 8,000 nodes). Throws BAD_USER_INPUT to refuse the whole operation.
 */
export type ArgCheck = (value: unknown, limits: WorkLimits) => void;

/** The key under which a field's early argument checks sit in its GraphQL extensions. */
export const CHECKS_EXTENSION = 'checkedArgs';

/** Declares checks of a field's arguments that run before the operation does; see `ArgCheck`. */
export const CheckedArgs = (checks: Record<string, ArgCheck>): MethodDecorator & PropertyDecorator => Extensions({ [CHECKS_EXTENSION]: checks });

/** The size rules declared on a field, if any. */
export function sizeRulesOf(field: GraphQLField<unknown, unknown>): SizeRules | undefined {
  return field.extensions?.[SIZES_EXTENSION] as SizeRules | undefined;
}

const refuse = (message: string, extensions: Record<string, unknown>) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...extensions } });

/** An element's identity for removing repeats: the value itself, a date's time, or an input object's JSON. */
function identity(v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
}

/** The name errors give an argument path: what the client wrote inside `input`. */
const fieldName = (path: string) => path.replace(/^input\./, '');

/** Checks one argument's value against its rule; returns its size (repeats not counted when they are removed). */
function sizeOf(path: string, rule: SizeRule, value: unknown): number {
  if (value === null || value === undefined) return 1;
  const name = fieldName(path);
  if (Array.isArray(value)) {
    if (value.length > rule.max) throw refuse(`${name} takes at most ${rule.max} items, not ${value.length}`, { field: name, max: rule.max, actual: value.length });
    return rule.duplicates === 'removed' ? new Set(value.map(identity)).size : value.length;
  }
  if (typeof value === 'number') {
    if (value > rule.max) throw refuse(`${name} must be at most ${rule.max}, not ${value}`, { field: name, max: rule.max, actual: value });
    return Math.max(1, value);
  }
  return 1;
}

type Fragments = Record<string, FragmentDefinitionNode>;

/** The fields of a selection set, through inline fragments and fragment spreads. */
function fieldsOf(set: SelectionSetNode | undefined, fragments: Fragments, seen = new Set<string>()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of set?.selections ?? []) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(s.selectionSet, fragments, seen));
    else if (!seen.has(s.name.value) && fragments[s.name.value]) {
      seen.add(s.name.value);
      out.push(...fieldsOf(fragments[s.name.value].selectionSet, fragments, seen));
    }
  }
  return out;
}

/** The field nodes at a path below these nodes (`''`: the nodes themselves). */
function nodesAt(nodes: readonly FieldNode[], path: string, fragments: Fragments): FieldNode[] {
  if (path === '') return [...nodes];
  return path.split('.').reduce<FieldNode[]>(
    (at, name) => at.flatMap((n) => fieldsOf(n.selectionSet, fragments).filter((c) => c.name.value === name)),
    [...nodes],
  );
}

/**
 * The multiplier of every field node whose list an argument sizes, for the cost estimate, after
 * checking every sized argument of the operation against its maximum, and running the early
 * checks of its arguments (BAD_USER_INPUT on the first one that fails). A node reached from
 * several places (a fragment) keeps its largest multiplier.
 */
export function planSizes(
  schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined, limits?: WorkLimits,
): Map<FieldNode, number> {
  const factors = new Map<FieldNode, number>();
  const operation = getOperationAST(document, operationName);
  if (!operation) return factors;
  // The variables as sent, with the operation's defaults for those left out: coercing them all
  // (10,000 metric points) would cost as much again as the cost estimate's own coercion, and
  // sizes, repeats and tree shapes read the same in the raw JSON. Values that do not fit their
  // types are refused by the estimate, which runs next.
  const values: Record<string, unknown> = { ...variables };
  for (const v of operation.variableDefinitions ?? []) {
    const name = v.variable.name.value;
    if (values[name] === undefined && v.defaultValue) {
      const type = typeFromAST(schema, v.type);
      if (type && isInputType(type)) values[name] = valueFromAST(v.defaultValue, type);
    }
  }
  const fragments: Fragments = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;

  // The operation and only the fragments it reaches: another operation's fragments may name variables this one lacks.
  const reached: (OperationDefinitionNode | FragmentDefinitionNode)[] = [operation];
  const names = new Set<string>();
  for (let i = 0; i < reached.length; i++) {
    visit(reached[i], {
      FragmentSpread(s) {
        if (!names.has(s.name.value) && fragments[s.name.value]) {
          names.add(s.name.value);
          reached.push(fragments[s.name.value]);
        }
      },
    });
  }
  const typeInfo = new TypeInfo(schema);
  for (const definition of reached) {
    visit(definition, visitWithTypeInfo(typeInfo, {
      Field(node) {
        const def = typeInfo.getFieldDef();
        const rules = def && sizeRulesOf(def as GraphQLField<unknown, unknown>);
        const checks = def?.extensions?.[CHECKS_EXTENSION] as Record<string, ArgCheck> | undefined;
        if (!def || (!rules && !checks)) return;
        const args = getArgumentValues(def, node, values);
        if (checks && limits) for (const [name, check] of Object.entries(checks)) if (args[name] != null) check(args[name], limits);
        if (!rules) return;
        const local = new Map<FieldNode, number>();
        for (const [name, rule] of Object.entries(rules)) {
          const size = sizeOf(name, rule, valueAt(args, name));
          for (const path of rule.sizes ?? []) {
            for (const target of nodesAt([node], path, fragments)) local.set(target, (local.get(target) ?? 1) * size);
          }
        }
        for (const [target, f] of local) factors.set(target, Math.max(factors.get(target) ?? 1, f));
      },
    }));
  }
  return factors;
}

/** The cost estimator of sized lists: such a list costs 1 plus its size times what one element selects. */
export const sizedListEstimator = (factors: Map<FieldNode, number>): ComplexityEstimator => ({ node, childComplexity }) => {
  const f = factors.get(node);
  return f === undefined ? undefined : 1 + f * Math.max(1, childComplexity);
};

/** What a selection costs in the estimate's plain terms: each field 1 plus what it selects. */
function plainCost(set: SelectionSetNode | undefined, fragments: Fragments): number {
  return fieldsOf(set, fragments).reduce((sum, f) => sum + 1 + plainCost(f.selectionSet, fragments), 0);
}

/**
 * Charges the operation's cost budget for an argument left out whose size only the data tells
 * (`features` omitted: every feature of the set), before the resolver does the work: the
 * estimate counted one item, so the other `size - 1` are paid now, each at what the query
 * selects of it, times the sizes of the lists around it. Over the limit: BAD_USER_INPUT
 * (`limit: maxCost`) for this field.
 */
export function chargeSize(ctx: Context, info: GraphQLResolveInfo, arg: string, size: number): void {
  const budget = ctx.cost;
  if (!budget || size <= 1) return;
  const field = info.parentType.getFields()[info.fieldName];
  const rules = sizeRulesOf(field as GraphQLField<unknown, unknown>) ?? {};
  const rule = rules[arg];
  if (!rule) throw new Error(`${info.parentType.name}.${info.fieldName} declares no size rule for ${arg}`);
  const args = getArgumentValues(field, info.fieldNodes[0], info.variableValues);
  let extra = 0;
  for (const path of rule.sizes ?? []) {
    // The lists around this one: those other arguments size at a path above it.
    let around = 1;
    for (const [name, other] of Object.entries(rules)) {
      if (name === arg) continue;
      for (const p of other.sizes ?? []) if (p !== path && (p === '' || path.startsWith(`${p}.`))) around *= sizeOf(name, other, valueAt(args, name));
    }
    const each = nodesAt(info.fieldNodes, path, info.fragments).reduce((sum, n) => sum + Math.max(1, plainCost(n.selectionSet, info.fragments)), 0);
    extra += (size - 1) * around * each;
  }
  budget.spent += extra;
  if (budget.spent > budget.max) {
    throw new GraphQLError(`Query costs ${budget.spent} with all ${size} ${arg}, more than the limit of ${budget.max}; name fewer ${arg}`, {
      extensions: { code: 'BAD_USER_INPUT', limit: 'maxCost', max: budget.max, actual: budget.spent, field: arg },
    });
  }
}

/**
 * Checks the arguments a resolver gets against the rules and removes the repeats the rules
 * remove. Returns the arguments, and for each shortened list where each kept item stood in
 * the list the client sent, so that errors still name the client's positions.
 */
function applyRules(rules: SizeRules, args: Record<string, unknown>): { args: Record<string, unknown>; positions: Map<string, number[]> } {
  let out = args;
  const positions = new Map<string, number[]>();
  for (const [name, rule] of Object.entries(rules)) {
    const value = valueAt(args, name);
    sizeOf(name, rule, value);
    if (rule.duplicates === 'removed' && Array.isArray(value)) {
      const seen = new Set<unknown>();
      const kept: number[] = [];
      value.forEach((v, i) => {
        const id = identity(v);
        if (!seen.has(id)) { seen.add(id); kept.push(i); }
      });
      if (kept.length !== value.length) {
        out = replacedAt(out, name, kept.map((i) => value[i]));
        positions.set(name, kept);
      }
    }
  }
  return { args: out, positions };
}

/** An error naming `features.3` of the shortened list names the client's position of that item instead. */
function inClientPositions(err: unknown, positions: Map<string, number[]>): unknown {
  const ext = err instanceof GraphQLError ? (err.extensions as Record<string, unknown>) : undefined;
  const m = typeof ext?.field === 'string' ? /^(.+?)\.(\d+)(.*)$/.exec(ext.field) : null;
  const kept = m ? (positions.get(m[1]) ?? positions.get(`input.${m[1]}`)) : undefined;
  if (m && kept && kept[Number(m[2])] !== undefined) ext!.field = `${m[1]}.${kept[Number(m[2])]}${m[3]}`;
  return err;
}

/** The input type at an argument path of a field, if the path exists. */
function typeAt(field: GraphQLField<unknown, unknown>, path: string): GraphQLInputType | undefined {
  const [head, ...rest] = path.split('.');
  let type: GraphQLInputType | undefined = field.args.find((a) => a.name === head)?.type;
  for (const name of rest) {
    const named = type && getNullableType(type);
    type = named && isInputObjectType(named) ? named.getFields()[name]?.type : undefined;
  }
  return type;
}

/**
 * Applies every field's size rules around its resolver (or a subscription's `subscribe`), once,
 * on the built schema, and fails the build when a field takes a list argument without a rule,
 * or a rule names an argument the field does not have: no list argument ships unbounded.
 */
export function enforceSizedArgs(schema: GraphQLSchema): void {
  const problems: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const rules = sizeRulesOf(field as GraphQLField<unknown, unknown>);
      const where = `${type.name}.${field.name}`;
      for (const arg of field.args) {
        if (isListType(getNullableType(arg.type)) && !rules?.[arg.name]) problems.push(`${where}(${arg.name}:) is a list without a size rule (@SizedArgs)`);
      }
      if (!rules) continue;
      for (const [name, rule] of Object.entries(rules)) {
        const type = typeAt(field, name);
        if (!type) problems.push(`${where} has a size rule for ${name}, which it does not take`);
        else if (!isListType(getNullableType(type)) && (rule.duplicates || getNamedType(type).name !== 'Int')) {
          problems.push(`${where}(${name}:) is neither a list nor an Int`);
        }
      }
      const wrap = <S, A extends Record<string, unknown>>(fn: GraphQLFieldResolver<S, Context, A>): GraphQLFieldResolver<S, Context, A> =>
        (source, args, ctx, info) => {
          const applied = applyRules(rules, args);
          if (!applied.positions.size) return fn(source, applied.args as A, ctx, info);
          const fix = (err: unknown) => { throw inClientPositions(err, applied.positions); };
          try {
            const result = fn(source, applied.args as A, ctx, info);
            return result instanceof Promise ? result.catch(fix) : result;
          } catch (err) {
            return fix(err);
          }
        };
      if (type === schema.getSubscriptionType()) {
        if (field.subscribe) field.subscribe = wrap(field.subscribe);
      } else {
        field.resolve = wrap(field.resolve ?? defaultFieldResolver);
      }
    }
  }
  if (problems.length) throw new Error(`argument sizes:\n  ${problems.join('\n  ')}`);
}
