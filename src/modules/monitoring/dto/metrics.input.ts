import { ArrayMaxSize, IsOptional, IsString, Length } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

/**
 * One observation. Deliberately without class-validator decorators: a call carries up to
 * 10,000 of them, and the service checks them all in one pass, naming `points.<i>.<field>`.
 */
@InputType({ description: 'One observation of a metric.' })
export class MetricPointInput {
  @Field(() => ID, { nullable: true, description: 'The model version observed; omit for a project-level metric.' })
  modelVersionId?: string | null;

  @Field({ description: 'Metric name; [a-z0-9][a-z0-9_.:/-]{0,127}.' })
  name: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Labels with string values, e.g. {"region": "eu"}; part of the series identity. At most 16.' })
  labels?: Record<string, unknown> | null;

  @Field(() => Date, { nullable: true, description: 'When it was observed; default now. At most 5 minutes in the future.' })
  timestamp?: Date | null;

  @Field(() => Float, { description: 'The value; must be finite.' })
  value: number;
}

@InputType({ description: 'A batch of observations, stored all or nothing.' })
export class RecordMetricsInput {
  @Field({ description: 'The project the series belong to.' })
  @IsString()
  projectSlug: string;

  @Field(() => [MetricPointInput], { description: '1 to 10,000 points.' })
  points: MetricPointInput[];

  @Field(() => String, { nullable: true, description: 'A retry with the same key (per project) stores nothing and answers duplicate: true.' })
  @IsOptional() @Length(1, 200)
  idempotencyKey?: string | null;
}

/**
 * One series and its points as parallel columns. The arrays are read as numbers and dates, not
 * as an object per point, which is what makes this input cheap for bulk writers. Checked by
 * the service in one pass (equal lengths, at most 10,000 points per call in all), and, like
 * MetricPointInput, without class-validator decorators: validating 1,000 nested blocks cost
 * more than the checks it made, which the service makes anyway.
 */
@InputType({ description: 'The points of one series as parallel arrays: timestamps[i] and values[i] make point i.' })
export class MetricSeriesColumnsInput {
  @Field(() => ID, { nullable: true, description: 'The model version observed; omit for a project-level metric.' })
  modelVersionId?: string | null;

  @Field({ description: 'Metric name; [a-z0-9][a-z0-9_.:/-]{0,127}.' })
  name: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Labels with string values, e.g. {"region": "eu"}; part of the series identity. At most 16.' })
  labels?: Record<string, unknown> | null;

  @Field(() => [Date], { description: 'When each point was observed, at most 5 minutes in the future; as many as values. At most 10,000 points per call in all.' })
  timestamps: Date[];

  @Field(() => [Float], { description: 'The value of each point, finite; values[i] was observed at timestamps[i].' })
  values: number[];
}

@InputType({ description: 'Series blocks of points in columns, stored all or nothing.' })
export class RecordMetricColumnsInput {
  @Field({ description: 'The project the series belong to.' })
  @IsString()
  projectSlug: string;

  @Field(() => [MetricSeriesColumnsInput], { description: '1 to 1,000 series blocks, holding 1 to 10,000 points in all.' })
  @ArrayMaxSize(1_000)
  series: MetricSeriesColumnsInput[];

  @Field(() => String, {
    nullable: true,
    description: 'A retry with the same key (per project) stores nothing and answers duplicate: true. Shared with recordMetrics: one key names one call of either.',
  })
  @IsOptional() @Length(1, 200)
  idempotencyKey?: string | null;
}

@ObjectType({ description: 'What recordMetrics or recordMetricColumns stored.' })
export class RecordMetricsPayload {
  @Field(() => Int, { description: 'Points accepted; on a duplicate, those accepted by the first call.' })
  accepted: number;

  @Field({ description: 'True when the idempotencyKey was already used: nothing was written this time.' })
  duplicate: boolean;
}
