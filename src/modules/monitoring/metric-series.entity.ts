import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

export enum Aggregation {
  AVG = 'AVG',
  MIN = 'MIN',
  MAX = 'MAX',
  SUM = 'SUM',
  COUNT = 'COUNT',
  LAST = 'LAST',
  P50 = 'P50',
  P95 = 'P95',
  P99 = 'P99',
}
registerEnumType(Aggregation, {
  name: 'Aggregation',
  description: 'How the points of a bucket or a monitor window become one value.',
  valuesConfig: {
    AVG: { description: 'Arithmetic mean.' },
    MIN: { description: 'Smallest value.' },
    MAX: { description: 'Largest value.' },
    SUM: { description: 'Sum of the values.' },
    COUNT: { description: 'Number of points.' },
    LAST: { description: 'Value of the point with the newest timestamp.' },
    P50: { description: 'Median (continuous percentile).' },
    P95: { description: '95th percentile (continuous).' },
    P99: { description: '99th percentile (continuous).' },
  },
});

/**
 * SQL of each aggregation over rows with `value`, `ts` and `id` (a metric_point). LAST breaks
 * ties on the timestamp by insertion order.
 */
export const AGGREGATION_SQL: Record<Aggregation, (alias: string) => string> = {
  AVG: (a) => `avg(${a}.value)`,
  MIN: (a) => `min(${a}.value)`,
  MAX: (a) => `max(${a}.value)`,
  SUM: (a) => `sum(${a}.value)`,
  COUNT: () => `count(*)::float8`,
  LAST: (a) => `(array_agg(${a}.value ORDER BY ${a}.ts DESC, ${a}.id DESC))[1]`,
  P50: (a) => `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${a}.value)`,
  P95: (a) => `percentile_cont(0.95) WITHIN GROUP (ORDER BY ${a}.value)`,
  P99: (a) => `percentile_cont(0.99) WITHIN GROUP (ORDER BY ${a}.value)`,
};

@Entity('metric_series')
@ObjectType({ implements: Node, description: 'A time series of one metric: a name and labels, of a model version or of the project.' })
export class MetricSeries implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('MetricSeries', this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ name: 'model_version_id', type: 'uuid', nullable: true })
  modelVersionId: string | null;

  @Column({ type: 'text' })
  @Field({ description: 'Metric name, e.g. "latency_ms" or "accuracy".' })
  name: string;

  @Column({ type: 'jsonb' })
  @Field(() => GraphQLJSONObject, { description: 'Labels (string values) that, with the name and version, identify the series.' })
  labels: Record<string, string>;

  @Column({ name: 'last_value', type: 'double precision', nullable: true })
  @Field(() => Float, { nullable: true, description: 'Value of the point with the newest timestamp.' })
  lastValue: number | null;

  @Column({ name: 'last_ts', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Newest timestamp of any point.' })
  lastTimestamp: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;
}

@ObjectType({ description: 'One bucket of a downsampled series: its start, aggregated value and spread.' })
export class MetricPoint {
  @Field({ description: 'Start of the bucket.' })
  timestamp: Date;

  @Field(() => Float, { description: 'The requested aggregation of the bucket\'s points.' })
  value: number;

  @Field(() => Float, { nullable: true, description: 'Smallest value in the bucket.' })
  min: number | null;

  @Field(() => Float, { nullable: true, description: 'Largest value in the bucket.' })
  max: number | null;

  @Field(() => Int, { nullable: true, description: 'Number of points in the bucket.' })
  count: number | null;
}
