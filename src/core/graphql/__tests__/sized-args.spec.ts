import {
  GraphQLError, GraphQLFieldConfig, GraphQLID, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLNullableType, GraphQLObjectType, GraphQLSchema, GraphQLString,
  execute, parse,
} from 'graphql';
import { checkCost } from '../limits';
import { CHECKS_EXTENSION, SIZES_EXTENSION, SizeRules, chargeSize, enforceSizedArgs } from '../sized-args';
import type { Context, WorkLimits } from '../context';

/**
 * A small schema shaped like the real ones: `vectors(keys, features)` answers one Vector per
 * key with one Value per feature (onlineFeatures), `compare(ids, metrics)` a table whose rows
 * follow ids and whose cells follow metrics (compareModelVersions), `points(maxPoints)` a list
 * an Int sizes. Resolvers record what they were given.
 */
const seen: Record<string, unknown>[] = [];
const list = (t: GraphQLNullableType): any => new GraphQLList(new GraphQLNonNull(t));
const Value = new GraphQLObjectType({ name: 'Value', fields: { feature: { type: GraphQLString }, value: { type: GraphQLString }, status: { type: GraphQLString } } });
const Vector = new GraphQLObjectType({ name: 'Vector', fields: { key: { type: GraphQLString }, values: { type: list(Value) } } });
const Row = new GraphQLObjectType({ name: 'Row', fields: { id: { type: GraphQLID }, values: { type: new GraphQLList(GraphQLInt) } } });
const Table = new GraphQLObjectType({ name: 'Table', fields: { metrics: { type: list(GraphQLString) }, rows: { type: list(Row) } } });
const Point = new GraphQLObjectType({ name: 'Point', fields: { t: { type: GraphQLString }, v: { type: GraphQLInt } } });

const sized = (rules: SizeRules, field: GraphQLFieldConfig<unknown, Context>): GraphQLFieldConfig<unknown, Context> =>
  ({ ...field, extensions: { [SIZES_EXTENSION]: rules } });

function makeSchema(extra: Record<string, GraphQLFieldConfig<unknown, Context>> = {}) {
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        vectors: sized({
          keys: { max: 5, duplicates: 'kept', sizes: [''] },
          features: { max: 4, duplicates: 'removed', sizes: ['values'] },
        }, {
          type: list(Vector),
          args: { keys: { type: new GraphQLNonNull(list(GraphQLString)) }, features: { type: list(GraphQLString) } },
          resolve: (_s, args: { keys: string[]; features?: string[] }, ctx, info) => {
            seen.push(args);
            const features = args.features ?? ['a', 'b', 'c'];
            if (!args.features) chargeSize(ctx, info, 'features', features.length);
            return args.keys.map((key) => ({ key, values: features.map((feature) => ({ feature, value: `${key}.${feature}`, status: 'OK' })) }));
          },
        }),
        compare: sized({
          ids: { max: 10, duplicates: 'kept', sizes: ['rows'] },
          metrics: { max: 10, duplicates: 'removed', sizes: ['metrics', 'rows.values'] },
        }, {
          type: Table,
          args: { ids: { type: new GraphQLNonNull(list(GraphQLID)) }, metrics: { type: list(GraphQLString) } },
          resolve: (_s, args: { ids: string[]; metrics?: string[] }, ctx, info) => {
            const metrics = args.metrics ?? ['m1', 'm2', 'm3', 'm4'];
            if (!args.metrics) chargeSize(ctx, info, 'metrics', metrics.length);
            return { metrics, rows: args.ids.map((id) => ({ id, values: metrics.map((_, i) => i) })) };
          },
        }),
        points: sized({ maxPoints: { max: 100, sizes: [''] } }, {
          type: list(Point),
          args: { maxPoints: { type: GraphQLInt, defaultValue: 10 } },
          resolve: () => [],
        }),
        named: sized({ names: { max: 3, duplicates: 'removed' } }, {
          type: GraphQLString,
          args: { names: { type: list(GraphQLString) } },
          resolve: (_s, args: { names: string[] }) => {
            const bad = args.names.indexOf('bad');
            if (bad >= 0) throw new GraphQLError('bad name', { extensions: { code: 'BAD_USER_INPUT', field: `names.${bad}` } });
            return args.names.join(',');
          },
        }),
        ...extra,
      },
    }),
  });
}

const schema = makeSchema();
enforceSizedArgs(schema);
const cost = (query: string, variables?: Record<string, unknown>, max = 1_000_000) => checkCost(schema, parse(query), variables, undefined, max);
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as GraphQLError).extensions;
  }
  throw new Error('expected a refusal');
};

describe('the cost estimate counts list arguments', () => {
  test('a list argument multiplies its field, and another the list inside each element', () => {
    // One vector: key (1) + values (1 + features x 3) ; the field: 1 + keys x that.
    expect(cost('{ vectors(keys: ["k1"], features: ["a"]) { key values { feature value status } } }')).toBe(1 + 1 * (1 + (1 + 1 * 3)));
    expect(cost('{ vectors(keys: ["k1", "k2", "k3"], features: ["a", "b"]) { key values { feature value status } } }')).toBe(1 + 3 * (1 + (1 + 2 * 3)));
    // Through variables, and through fragments, inline and named.
    expect(cost(`query($k: [String!]!, $f: [String!]) { vectors(keys: $k, features: $f) { ...V } } fragment V on Vector { key ... on Vector { values { value } } }`,
      { k: ['1', '2', '3', '4'], f: ['a', 'b', 'c'] })).toBe(1 + 4 * (1 + (1 + 3 * 1)));
  });

  test('repeats the resolver never sees cost nothing; repeats it answers again do', () => {
    expect(cost('{ vectors(keys: ["k"], features: ["a", "a", "a", "a"]) { values { value } } }')).toBe(1 + 1 * (1 + 1 * 1));
    expect(cost('{ vectors(keys: ["k", "k", "k"], features: ["a"]) { values { value } } }')).toBe(1 + 3 * (1 + 1 * 1));
  });

  test('an omitted list counts once, a nested path multiplies under its parent list, an Int sizes like first', () => {
    expect(cost('{ vectors(keys: ["k1", "k2"]) { values { value } } }')).toBe(1 + 2 * (1 + 1 * 1));
    // rows: ids x (id + values (1 + metrics x 1)); metrics: 1 + metrics x 1.
    expect(cost('{ compare(ids: ["1", "2", "3"], metrics: ["x", "y"]) { metrics rows { id values } } }')).toBe((1 + 2) + (1 + 3 * (1 + (1 + 2))) + 1);
    expect(cost('{ points(maxPoints: 50) { t v } }')).toBe(1 + 50 * 2);
    expect(cost('{ points { t v } }')).toBe(1 + 10 * 2);
    // A variable left out takes the operation's default, not the argument's.
    expect(cost('query($n: Int = 50) { points(maxPoints: $n) { t v } }')).toBe(1 + 50 * 2);
    expect(refusal(() => cost('query($n: Int = 500) { points(maxPoints: $n) { t } }'))).toMatchObject({ field: 'maxPoints', max: 100 });
  });

  test('aliases add up: the amplification the issue found is now over the limit', () => {
    const one = '{ vectors(keys: ["a", "b", "c", "d", "e"], features: ["a", "b", "c", "d"]) { key values { feature value status } } }';
    const each = cost(one);
    const many = `{ ${Array.from({ length: 10 }, (_, i) => `a${i}: vectors(keys: ["a", "b", "c", "d", "e"], features: ["a", "b", "c", "d"]) { key values { feature value status } }`).join(' ')} }`;
    expect(cost(many)).toBe(10 * each);
    expect(refusal(() => cost(many, undefined, 10 * each - 1))).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxCost', actual: 10 * each });
  });

  test('each list argument is capped, naming it, before anything is estimated', () => {
    expect(refusal(() => cost('{ vectors(keys: ["1", "2", "3", "4", "5", "6"]) { key } }'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'keys', max: 5, actual: 6 });
    // Repeats count towards the cap: it bounds what is sent, not only what is read.
    expect(refusal(() => cost('query($f: [String!]) { vectors(keys: ["k"], features: $f) { key } }', { f: Array(5).fill('a') })))
      .toMatchObject({ code: 'BAD_USER_INPUT', field: 'features', max: 4 });
    expect(refusal(() => cost('{ points(maxPoints: 101) { t } }'))).toMatchObject({ field: 'maxPoints', max: 100, actual: 101 });
  });
});

describe('around the resolver', () => {
  const run = async (query: string, budget?: number) =>
    execute({ schema, document: parse(query), contextValue: (budget === undefined ? {} : { cost: { max: budget, estimated: cost(query), spent: cost(query) } }) as Context });

  test('repeats are removed before the resolver runs; errors name the positions the client sent', async () => {
    seen.length = 0;
    await run('{ vectors(keys: ["k", "k"], features: ["a", "b", "a", "b"]) { key } }');
    expect(seen).toEqual([{ keys: ['k', 'k'], features: ['a', 'b'] }]);
    const res = await run('{ named(names: ["a", "a", "bad"]) }');
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'names.2' });
    expect((await run('{ named(names: ["x", "y", "x"]) }')).data).toEqual({ named: 'x,y' });
  });

  test('a list the data sizes is charged when the resolver learns its size, at what the query selects of it', async () => {
    // Estimated with one feature: 1 + 2 x (1 + (1 + 1 x 2)) = 9; the three features add 2 x 2 x 2 = 8.
    const q = '{ vectors(keys: ["k1", "k2"]) { key values { value status } } }';
    expect(cost(q)).toBe(9);
    expect((await run(q, 17)).errors).toBeUndefined();
    const over = await run(q, 16);
    expect(over.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxCost', max: 16, actual: 17, field: 'features' });
    // Nested: four metrics charge 3 more metric names and 3 more cells in each of the 2 rows.
    const table = '{ compare(ids: ["1", "2"]) { metrics rows { values } } }';
    const budget = cost(table) + 3 * 1 + 3 * 2 * 1;
    expect((await run(table, budget)).errors).toBeUndefined();
    expect((await run(table, budget - 1)).errors?.[0].extensions).toMatchObject({ limit: 'maxCost', field: 'metrics' });
  });

  test('early argument checks run with the operation\'s limits, before it runs', () => {
    const checked = makeSchema({
      tree: {
        type: GraphQLString, args: { depth: { type: GraphQLInt } }, resolve: () => 'ran',
        extensions: {
          [CHECKS_EXTENSION]: {
            depth: (v: unknown, limits: WorkLimits) => {
              if ((v as number) > (limits as unknown as { maxTree: number }).maxTree) throw new GraphQLError('too deep', { extensions: { code: 'BAD_USER_INPUT', field: 'depth' } });
            },
          },
        },
      },
    });
    const limits = { maxTree: 3 } as unknown as WorkLimits;
    expect(checkCost(checked, parse('{ tree(depth: 3) }'), undefined, undefined, 100, limits)).toBe(1);
    expect(refusal(() => checkCost(checked, parse('query($d: Int) { tree(depth: $d) }'), { d: 4 }, undefined, 100, limits)))
      .toMatchObject({ code: 'BAD_USER_INPUT', field: 'depth', http: { status: 400 } });
  });

  test('a list argument without a size rule fails the schema build', () => {
    const bare = makeSchema({ loose: { type: GraphQLString, args: { ids: { type: list(GraphQLID) } }, resolve: () => 'x' } });
    expect(() => enforceSizedArgs(bare)).toThrow(/Query\.loose\(ids:\) is a list without a size rule/);
    const wrong = makeSchema({ loose: sized({ nope: { max: 1 } }, { type: GraphQLString, resolve: () => 'x' }) });
    expect(() => enforceSizedArgs(wrong)).toThrow(/size rule for nope, which it does not take/);
  });
});
