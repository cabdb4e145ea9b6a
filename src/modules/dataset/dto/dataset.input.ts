import {
  ArrayMaxSize, IsEnum, IsInt, IsNumber, IsOptional, IsString, Length, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { ConnectionType } from '../../../core/graphql/pagination';
import { TagInput } from '../../../core/graphql/tag';
import { DataType } from '../data-type';
import { Dataset } from '../dataset.entity';
import { DatasetVersion } from '../dataset-version.entity';
import { NamedInProjectFields } from '../../../core/graphql/named-in-project.input';

export const DatasetConnection = ConnectionType(Dataset, 'Dataset', 'dataset');
export const DatasetVersionConnection = ConnectionType(DatasetVersion, 'DatasetVersion', 'dataset version');

@InputType({ description: 'Narrows a dataset list; all given conditions must hold.' })
export class DatasetFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the name.' })
  @IsOptional() @MaxLength(128)
  nameContains?: string | null;

  @Field(() => [TagInput], { nullable: true, description: 'Only datasets carrying every one of these tags.' })
  @IsOptional() @ArrayMaxSize(50) @ValidateNested({ each: true })
  tags?: TagInput[] | null;
}

@InputType({ description: 'Registers a dataset in a project.' })
export class CreateDatasetInput extends NamedInProjectFields {
  @Field(() => String, { nullable: true, description: 'What the data is.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field(() => [TagInput], { nullable: true, description: 'Key/value labels.' })
  @IsOptional() @ArrayMaxSize(100) @ValidateNested({ each: true })
  tags?: TagInput[] | null;
}

@ObjectType({ description: 'The dataset a mutation created.' })
export class DatasetPayload {
  @Field(() => Dataset, { description: 'The dataset.' })
  dataset: Dataset;
}

@InputType({ description: 'A quantile of a numeric column.' })
export class QuantileInput {
  @Field(() => Float, { description: 'The probability, between 0 and 1.' })
  @IsNumber()
  q: number;

  @Field(() => Float, { description: 'The value at that quantile.' })
  @IsNumber()
  value: number;
}

@InputType({ description: 'A histogram: counts[i] values fall in [edges[i], edges[i+1]).' })
export class HistogramInput {
  @Field(() => [Float], { description: 'Bin edges, strictly ascending; exactly one more than counts.' })
  @ArrayMaxSize(10001) @IsNumber({}, { each: true })
  edges: number[];

  @Field(() => [GraphQLSafeInt], { description: 'Number of values in each bin, each at least 0.' })
  @ArrayMaxSize(10000) @IsInt({ each: true }) @Min(0, { each: true })
  counts: number[];
}

@InputType({ description: 'A frequent value and how often it occurs.' })
export class ValueCountInput {
  @Field({ description: 'The value, as text.' })
  @MaxLength(1024)
  value: string;

  @Field(() => GraphQLSafeInt, { description: 'How many rows have it; at least 0.' })
  @IsInt() @Min(0)
  count: number;
}

@InputType({ description: 'Profile of one column. Counts are at least 0; nullCount and distinctCount are at most count.' })
export class ColumnStatisticsInput {
  @Field(() => GraphQLSafeInt, { description: 'Values profiled, nulls included.' })
  @IsInt() @Min(0)
  count: number;

  @Field(() => GraphQLSafeInt, { description: 'Null values; at most count.' })
  @IsInt() @Min(0)
  nullCount: number;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Distinct non-null values; at most count.' })
  @IsOptional() @IsInt() @Min(0)
  distinctCount?: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean.' })
  @IsOptional() @IsNumber()
  mean?: number | null;

  @Field(() => Float, { nullable: true, description: 'Standard deviation; at least 0.' })
  @IsOptional() @IsNumber() @Min(0)
  stddev?: number | null;

  @Field(() => Float, { nullable: true, description: 'Smallest value; at most max.' })
  @IsOptional() @IsNumber()
  min?: number | null;

  @Field(() => Float, { nullable: true, description: 'Largest value.' })
  @IsOptional() @IsNumber()
  max?: number | null;

  @Field(() => [QuantileInput], { nullable: true, description: 'Quantiles: q within [0, 1], strictly ascending, values not decreasing.' })
  @IsOptional() @ArrayMaxSize(1000) @ValidateNested({ each: true })
  quantiles?: QuantileInput[] | null;

  @Field(() => HistogramInput, { nullable: true, description: 'Distribution of the values.' })
  @IsOptional() @ValidateNested()
  histogram?: HistogramInput | null;

  @Field(() => [ValueCountInput], { nullable: true, description: 'Most frequent values.' })
  @IsOptional() @ArrayMaxSize(1000) @ValidateNested({ each: true })
  topValues?: ValueCountInput[] | null;
}

@InputType({ description: 'One column of a dataset version.' })
export class ColumnInput {
  @Field({ description: 'Column name, 1 to 256 characters; unique within the version.' })
  @Length(1, 256)
  name: string;

  @Field(() => DataType, { description: 'Type of the values.' })
  @IsEnum(DataType)
  dtype: DataType;

  @Field(() => String, { nullable: true, description: 'What the column holds.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field(() => ColumnStatisticsInput, { nullable: true, description: 'Profile of the values.' })
  @IsOptional() @ValidateNested()
  statistics?: ColumnStatisticsInput | null;
}

@InputType({ description: 'Registers a version of a dataset; the server numbers it. A digest the dataset already has returns that version.' })
export class CreateDatasetVersionInput {
  @Field(() => ID, { description: 'The dataset.' })
  @IsString()
  datasetId: string;

  @Field(() => String, { nullable: true, description: 'Where the data lives, e.g. s3://bucket/path/.' })
  @IsOptional() @Length(1, 2048)
  uri?: string | null;

  @Field({ description: 'Content hash, e.g. "sha256:..."; a digest the dataset already has returns that version unchanged.' })
  @Length(1, 256)
  digest: string;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Number of rows; at least 0.' })
  @IsOptional() @IsInt() @Min(0)
  rowCount?: number | null;

  @Field(() => [ColumnInput], { description: 'The columns, with unique names.' })
  @ArrayMaxSize(5000) @ValidateNested({ each: true })
  columns: ColumnInput[];
}

@ObjectType({ description: 'The dataset version a mutation created (or found, for a known digest).' })
export class DatasetVersionPayload {
  @Field(() => DatasetVersion, { description: 'The version.' })
  datasetVersion: DatasetVersion;

  @Field({ description: 'false when the dataset already had this digest and its existing version was returned.' })
  created: boolean;
}
