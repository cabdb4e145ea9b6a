import 'reflect-metadata';
import { GraphQLSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType, isSpecifiedScalarType, isUnionType } from 'graphql';
import { getSchema } from '../schema';

/**
 * The schema is the documentation codegen users and the API reference read: every type, field,
 * argument, input field and enum value says what it is. Walks the schema the server builds (not
 * the committed file, which `npm run schema:check` compares with it).
 */
let schema: GraphQLSchema;
beforeAll(async () => { schema = await getSchema(); });

const ours = () => Object.values(schema.getTypeMap()).filter((t) => !t.name.startsWith('__') && !(isScalarType(t) && isSpecifiedScalarType(t)));

test('every type, field, argument, input field and enum value has a description', () => {
  const missing: string[] = [];
  const need = (what: string, description: string | null | undefined) => { if (!description?.trim()) missing.push(what); };
  for (const type of ours()) {
    need(`type ${type.name}`, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        need(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args) need(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) need(`${type.name}.${field.name}`, field.description);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) need(`${type.name}.${value.name}`, value.description);
    } else if (!isUnionType(type) && !isScalarType(type)) {
      missing.push(`${String(type)}: a kind this test does not know`);
    }
  }
  expect(missing).toEqual([]);
});

test('every `first` argument states its range and default', () => {
  const unstated: string[] = [];
  for (const type of ours()) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const first = field.args.find((a) => a.name === 'first');
      if (first && !/\b0 to \d+ \(default \d+\)/.test(first.description ?? '')) unstated.push(`${type.name}.${field.name}(first): ${first.description}`);
      if (first && !first.description?.includes(`(default ${first.defaultValue})`)) unstated.push(`${type.name}.${field.name}(first) default ${first.defaultValue}`);
    }
  }
  expect(unstated).toEqual([]);
});
