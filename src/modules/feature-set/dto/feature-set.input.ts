import {
  ArrayMaxSize, ArrayMinSize, IsEnum, IsInt, IsOptional, IsString, Length, Matches, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { NAME_PATTERN, NAME_RULE } from '../../../core/graphql/names';
import { ConnectionType } from '../../../core/graphql/pagination';
import { DataType } from '../../dataset/data-type';
import { FeatureSet } from '../feature-set.entity';
import { NamedInProjectFields } from '../../../core/graphql/named-in-project.input';

/** Rows per writeFeatureValues call and per historicalFeatures read. */
export const MAX_FEATURE_ROWS = 10_000;
/** Entity keys per onlineFeatures read. */
export const MAX_ONLINE_KEYS = 1000;
/** Features one feature set may define. */
export const MAX_FEATURES_PER_SET = 500;

/** An entity key column name: identifier-like, so "customer_id" and "customerId" both fit. */
export const ENTITY_KEY_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

@InputType({ description: 'One feature of a new feature set.' })
export class FeatureDefinitionInput {
  @Field({ description: 'Unique within the feature set; [a-z0-9][a-z0-9._-]{0,127}.' })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name: string;

  @Field(() => DataType, { description: 'What values of this feature must be.' })
  @IsEnum(DataType)
  dtype: DataType;

  @Field(() => String, { nullable: true, description: 'What the feature means.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;
}

@InputType({ description: 'Creates a feature set in a project.' })
export class CreateFeatureSetInput extends NamedInProjectFields {
  @Field(() => String, { nullable: true, description: 'What the feature set describes.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field({ description: 'Name of the key the values are about, e.g. "customer_id": letters, digits, _ . -, at most 128.' })
  @Matches(ENTITY_KEY_PATTERN, { message: 'entityKey must be a name of letters, digits, _ . - (1 to 128 characters)' })
  entityKey: string;

  @Field(() => [FeatureDefinitionInput], { description: `The features, at least one and at most ${MAX_FEATURES_PER_SET}, names unique.` })
  @ArrayMinSize(1) @ArrayMaxSize(MAX_FEATURES_PER_SET) @ValidateNested({ each: true })
  features: FeatureDefinitionInput[];

  @Field(() => Int, { nullable: true, description: 'Values older than this many seconds are EXPIRED; must be > 0. Null: never.' })
  @IsOptional() @IsInt() @Min(1)
  ttlSeconds?: number | null;
}

@InputType({ description: 'An entity and the time to read its features as of.' })
export class EntityAsOfInput {
  @Field({ description: 'The entity key value, e.g. a customer id.' })
  @IsString() @Length(1, 1024)
  entityKey: string;

  @Field(() => Date, { description: 'Read the newest values at or before this time.' })
  asOf: Date;
}

@InputType({ description: 'Feature values of one entity observed at one time.' })
export class FeatureRowInput {
  @Field({ description: 'The entity key value, e.g. a customer id (1 to 1024 characters).' })
  @IsString() @Length(1, 1024)
  entityKey: string;

  @Field(() => Date, { description: 'When the values were true (event time), not when they are written.' })
  eventTimestamp: Date;

  @Field(() => GraphQLJSONObject, {
    description: 'Feature name -> value, each matching its dtype. A feature left out is not written; null writes a missing value, which is newer than older values.',
  })
  values: Record<string, unknown>;
}

@InputType({ description: 'Writes feature values: to the offline log, and online where newer than what is there.' })
export class WriteFeatureValuesInput {
  @Field(() => ID, { description: 'The feature set.' })
  @IsString()
  featureSetId: string;

  @Field(() => [FeatureRowInput], { description: `The rows, 1 to ${MAX_FEATURE_ROWS}; one bad value rejects the whole call.` })
  @ArrayMinSize(1) @ArrayMaxSize(MAX_FEATURE_ROWS) @ValidateNested({ each: true })
  rows: FeatureRowInput[];

  @Field(() => String, { nullable: true, description: 'A retry with the same key on the same feature set writes nothing and returns the first count.' })
  @IsOptional() @Length(1, 256)
  idempotencyKey?: string | null;
}

@ObjectType({ description: 'The feature set a mutation created.' })
export class FeatureSetPayload {
  @Field(() => FeatureSet, { description: 'The feature set.' })
  featureSet: FeatureSet;
}

@ObjectType({ description: 'What writeFeatureValues did.' })
export class WriteFeatureValuesPayload {
  @Field(() => Int, { description: 'Rows written (for a duplicate: rows the first call with this key wrote).' })
  written: number;

  @Field({ description: 'True when the idempotencyKey was seen before and nothing was written now.' })
  duplicate: boolean;
}

export const FeatureSetConnection = ConnectionType(FeatureSet, 'FeatureSet', 'feature set');
