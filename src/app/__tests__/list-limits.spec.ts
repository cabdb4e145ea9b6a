import 'reflect-metadata';
import { GraphQLField, GraphQLInputObjectType, GraphQLSchema, getNamedType, getNullableType, isInputObjectType, isListType, isObjectType } from 'graphql';
import { getMetadataStorage as validatorMetadata } from 'class-validator';
import { getMetadataStorage as typeGraphqlMetadata } from 'type-graphql';
import { getSchema } from '../schema';
import { sizeRulesOf } from '../../core/graphql/sized-args';

let schema: GraphQLSchema;
beforeAll(async () => { schema = await getSchema(); });

/** The largest list class-validator lets through in a field of an input class, if it caps it. */
function arrayMaxSize(typeName: string, fieldName: string): number | undefined {
  const input = typeGraphqlMetadata().inputTypes.find((t) => t.name === typeName);
  const field = typeGraphqlMetadata().fields.find((f) => f.target === input?.target && f.schemaName === fieldName);
  if (!input || !field) return undefined;
  const rule = validatorMetadata()
    .getTargetValidationMetadatas(input.target, '', true, false)
    .find((m) => m.propertyName === field.name && m.name === 'arrayMaxSize');
  return rule?.constraints?.[0] as number | undefined;
}

/** `Type.field` of every input list capped by a size rule on a path through an argument (`filter.names`). */
function cappedByRules(): Set<string> {
  const out = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      for (const path of Object.keys(sizeRulesOf(field as GraphQLField<unknown, unknown>) ?? {})) {
        const [arg, ...rest] = path.split('.');
        let holder = getNamedType(field.args.find((a) => a.name === arg)!.type);
        rest.forEach((name, i) => {
          if (i === rest.length - 1) out.add(`${holder.name}.${name}`);
          else holder = getNamedType((holder as GraphQLInputObjectType).getFields()[name].type);
        });
      }
    }
  }
  return out;
}

test('every list inside an input has a maximum', () => {
  const byRules = cappedByRules();
  const unbounded: string[] = [];
  const capped: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isInputObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isListType(getNullableType(field.type))) continue;
      const where = `${type.name}.${field.name}`;
      const max = arrayMaxSize(type.name, field.name);
      if (max === undefined && !byRules.has(where)) unbounded.push(where);
      else capped.push(where);
    }
  }
  expect(unbounded).toEqual([]);
  // The walk sees the lists it should: a few of them by name.
  expect(capped).toEqual(expect.arrayContaining(['RecordMetricsInput.points', 'MetricStreamFilter.names', 'ModelVersionFilter.or', 'ScoreGenerationsInput.metrics']));
});
