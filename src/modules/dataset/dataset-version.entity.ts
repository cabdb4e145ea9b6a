import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';
import { DataType } from './data-type';
import { DatasetRole } from '../model/dataset-role';

@ObjectType({ description: 'An estimated quantile of a numeric column.' })
export class Quantile {
  @Field(() => Float, { description: 'The probability, between 0 and 1 (0.5 is the median).' })
  q: number;

  @Field(() => Float, { description: 'The value at that quantile.' })
  value: number;
}

@ObjectType({ description: 'A histogram of a numeric column: counts[i] values fall in [edges[i], edges[i+1]).' })
export class Histogram {
  @Field(() => [Float], { description: 'Bin edges, ascending; one more than counts.' })
  edges: number[];

  @Field(() => [GraphQLSafeInt], { description: 'Number of values in each bin.' })
  counts: number[];
}

@ObjectType({ description: 'A frequent value of a column and how often it occurs.' })
export class ValueCount {
  @Field({ description: 'The value, as text.' })
  value: string;

  @Field(() => GraphQLSafeInt, { description: 'How many rows have it.' })
  count: number;
}

@ObjectType({ description: 'Summary statistics of one column, as profiled when the version was registered.' })
export class ColumnStatistics {
  @Field(() => GraphQLSafeInt, { description: 'Values profiled, nulls included.' })
  count: number;

  @Field(() => GraphQLSafeInt, { description: 'Null values among them; at most count.' })
  nullCount: number;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Distinct non-null values; at most count.' })
  distinctCount?: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean of the numeric values.' })
  mean?: number | null;

  @Field(() => Float, { nullable: true, description: 'Standard deviation of the numeric values.' })
  stddev?: number | null;

  @Field(() => Float, { nullable: true, description: 'Smallest value.' })
  min?: number | null;

  @Field(() => Float, { nullable: true, description: 'Largest value.' })
  max?: number | null;

  @Field(() => [Quantile], { nullable: true, description: 'Quantiles, by ascending q.' })
  quantiles?: Quantile[] | null;

  @Field(() => Histogram, { nullable: true, description: 'Distribution of the numeric values.' })
  histogram?: Histogram | null;

  @Field(() => [ValueCount], { nullable: true, description: 'Most frequent values, as given.' })
  topValues?: ValueCount[] | null;
}

@ObjectType('Column', { description: 'One column of a dataset version: its name, type and statistics.' })
export class DatasetColumn {
  @Field({ description: 'Column name; unique within the version.' })
  name: string;

  @Field(() => DataType, { description: 'Type of the values.' })
  dtype: DataType;

  @Field(() => String, { nullable: true, description: 'What the column holds.' })
  description?: string | null;

  @Field(() => ColumnStatistics, { nullable: true, description: 'Profile of the values, when one was given.' })
  statistics?: ColumnStatistics | null;
}

const bigintAsNumber = { to: (v: unknown) => v, from: (v: unknown) => (v == null ? v : Number(v)) };

@Entity('dataset_version')
@ObjectType({ implements: Node, description: 'One immutable version of a dataset: its content hash, location and schema.' })
export class DatasetVersion implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('DatasetVersion', this.id);
  }

  @Column({ name: 'dataset_id', type: 'uuid' })
  datasetId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: '1, 2, 3 ... per dataset, no gaps, no duplicates; assigned by the server.' })
  number: number;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Where the data lives, e.g. s3://bucket/datasets/clicks/2026-11/.' })
  uri: string | null;

  @Column({ type: 'text' })
  @Field({
    description: 'Content hash, e.g. "sha256:...". The same digest twice is the same data: registering a digest the dataset '
      + 'already has returns that version instead of creating a new one.',
  })
  digest: string;

  @Column({ name: 'row_count', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Number of rows.' })
  rowCount: number | null;

  @Column({ type: 'jsonb', default: () => `'[]'` })
  @Field(() => [DatasetColumn], { description: 'The columns, in the order given.' })
  columns: DatasetColumn[];

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the version was registered.' })
  createdAt: Date;

  @Column({ name: 'created_by' })
  @Field({ description: 'Name of the API key that registered it.' })
  createdBy: string;
}

/** A lineage edge: a model version used a dataset version in a role. */
@Entity('model_version_dataset')
@ObjectType({ description: 'Lineage: a model version used a dataset version, in a role.' })
export class DatasetUsage {
  @PrimaryColumn({ name: 'model_version_id', type: 'uuid' })
  modelVersionId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @PrimaryColumn({ name: 'dataset_version_id', type: 'uuid' })
  datasetVersionId: string;

  @PrimaryColumn({ type: 'text' })
  @Field(() => DatasetRole, { description: 'What the dataset version was used for.' })
  role: DatasetRole;
}
