import 'reflect-metadata';
import { graphql, type GraphQLSchema } from 'graphql';
import { Arg, Ctx, Field, Float, Info, InputType, Int, Mutation, Query, Resolver, buildSchema } from 'type-graphql';
import { Length, ValidateNested } from 'class-validator';
import { PlainArgs, usePlainArgs } from '../plain-args';

@InputType()
class ItemInput {
  @Field() name: string;
  @Field(() => Float) value: number;
  @Field(() => Date, { nullable: true }) at?: Date | null;
}

@InputType()
class BatchInput {
  @Field() @Length(1, 5) tag: string;
  @Field(() => [ItemInput]) items: ItemInput[];
  @Field(() => String, { nullable: true }) note?: string | null;
}

/** What each resolver saw, for the assertions. */
let seen: { input: BatchInput; ctx: unknown; self: unknown } | null = null;

@Resolver()
class BatchResolver {
  readonly marker = 'resolver instance';

  @Query(() => Int) ping(): number { return 1; }

  @PlainArgs()
  @Mutation(() => Int)
  plain(@Ctx() ctx: unknown, @Arg('input') input: BatchInput): number {
    seen = { input, ctx, self: this };
    return input.items.length;
  }

  @Mutation(() => Int)
  converted(@Arg('input') input: BatchInput): number {
    seen = { input, ctx: null, self: this };
    return input.items.length;
  }
}

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildSchema({ resolvers: [BatchResolver], validate: { forbidUnknownValues: false } });
  usePlainArgs(schema, { forbidUnknownValues: false });
});
beforeEach(() => { seen = null; });

const run = (field: string, input: unknown, contextValue: unknown = { who: 'ctx' }) => graphql({
  schema, contextValue, variableValues: { input },
  source: `mutation($input: BatchInput!) { ${field}(input: $input) }`,
});

test('hands the items over as graphql-js coerced them, the top-level object as an instance of its class', async () => {
  const ctx = { who: 'ctx' };
  const r = await run('plain', { tag: 'a', items: [{ name: 'x', value: 1.5, at: '2026-01-02T03:04:05Z' }, { name: 'y', value: 2 }] }, ctx);
  expect(r.errors).toBeUndefined();
  expect(r.data).toEqual({ plain: 2 });
  expect(seen!.input).toBeInstanceOf(BatchInput);
  expect(seen!.input.items.map((i) => i instanceof ItemInput)).toEqual([false, false]);
  expect(seen!.input.items[0]).toEqual({ name: 'x', value: 1.5, at: new Date('2026-01-02T03:04:05Z') });
  expect(seen!.input.items[0].at).toBeInstanceOf(Date);
  // Parameters in their declared order; the method runs on an instance of its class.
  expect(seen!.ctx).toBe(ctx);
  expect((seen!.self as BatchResolver).marker).toBe('resolver instance');
  // A field the caller left out is absent, as type-graphql's conversion leaves it.
  expect('note' in seen!.input).toBe(false);
});

test('type-graphql itself would have made an instance of every item (what @PlainArgs skips)', async () => {
  const r = await run('converted', { tag: 'a', items: [{ name: 'x', value: 1 }] });
  expect(r.errors).toBeUndefined();
  expect(seen!.input.items[0]).toBeInstanceOf(ItemInput);
});

test('class-validator still checks the top-level object, with type-graphql\'s error', async () => {
  for (const field of ['plain', 'converted']) {
    const r = await run(field, { tag: 'too long a tag', items: [] });
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0].extensions.code).toBe('BAD_USER_INPUT');
    expect((r.errors![0].extensions.validationErrors as { property: string }[])[0].property).toBe('tag');
  }
  expect(seen).toBeNull();
});

test('refuses, when the schema is built, a parameter it cannot hand over', async () => {
  @Resolver()
  class WithInfo {
    @PlainArgs()
    @Query(() => Int)
    withInfo(@Arg('n', () => Int) n: number, @Info() _info: unknown): number { return n; }
  }
  const s = await buildSchema({ resolvers: [WithInfo] });
  expect(() => usePlainArgs(s, {})).toThrow('WithInfo.withInfo: @PlainArgs hands over only @Arg and @Ctx parameters, not info');
});

test('refuses, when the schema is built, a list argument (each item would need its instance and validation)', async () => {
  @Resolver()
  class WithList {
    @PlainArgs()
    @Query(() => Int)
    withList(@Arg('items', () => [ItemInput]) items: ItemInput[]): number { return items.length; }
  }
  const s = await buildSchema({ resolvers: [WithList] });
  expect(() => usePlainArgs(s, {})).toThrow('WithList.withList: @PlainArgs takes input objects, not lists of them (items)');
});

test('refuses, when the schema is built, validation settings of the argument\'s own', async () => {
  @Resolver()
  class OwnSettings {
    @PlainArgs()
    @Query(() => Int)
    own(@Arg('input', { validate: { skipMissingProperties: false } }) _input: BatchInput): number { return 1; }
  }
  const s = await buildSchema({ resolvers: [OwnSettings] });
  expect(() => usePlainArgs(s, {})).toThrow("OwnSettings.own: @PlainArgs applies the schema's validation, not input's own settings");
});

test('refuses, when the schema is built, nested checks that would stop running', async () => {
  @InputType()
  class Nested {
    @Field() @ValidateNested() item: ItemInput;
  }
  @Resolver()
  class WithNested {
    @PlainArgs()
    @Query(() => Int)
    withNested(@Arg('input') _input: Nested): number { return 1; }
  }
  const s = await buildSchema({ resolvers: [WithNested] });
  expect(() => usePlainArgs(s, {})).toThrow('WithNested.withNested: @ValidateNested on Nested.item would not run on a plain argument');
});
