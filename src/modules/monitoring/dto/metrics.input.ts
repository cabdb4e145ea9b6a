import { IsOptional, IsString, Length } from 'class-validator';
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

@ObjectType({ description: 'What recordMetrics stored.' })
export class RecordMetricsPayload {
  @Field(() => Int, { description: 'Points accepted; on a duplicate, those accepted by the first call.' })
  accepted: number;

  @Field({ description: 'True when the idempotencyKey was already used: nothing was written this time.' })
  duplicate: boolean;
}
