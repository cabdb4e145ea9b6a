import { IsBoolean, IsEnum, IsInt, IsNumber, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { NAME_PATTERN, NAME_RULE } from '../../../core/graphql/names';
import { Aggregation } from '../metric-series.entity';
import { Comparator, Monitor } from '../monitor.entity';

export const MAX_WINDOW_SECONDS = 604800;

@InputType({
  description: 'A new monitor. Target: modelVersionId, or modelId with alias, or neither (every series of the metric in the project).',
})
export class CreateMonitorInput {
  @Field({ description: 'The project.' })
  @IsString()
  projectSlug: string;

  @Field({ description: 'Name, unique in the project.' })
  @Length(1, 200)
  name: string;

  @Field({ description: 'The metric name to watch.' })
  @IsString()
  metric: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Watch only series having all these labels.' })
  @IsOptional()
  labels?: Record<string, unknown> | null;

  @Field(() => ID, { nullable: true, description: 'Watch this version\'s series.' })
  @IsOptional() @IsString()
  modelVersionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'With alias: the model whose aliased version is watched.' })
  @IsOptional() @IsString()
  modelId?: string | null;

  @Field(() => String, { nullable: true, description: 'With modelId: follow the version this alias points to, across moves.' })
  @IsOptional() @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias?: string | null;

  @Field(() => Aggregation, { description: 'How the window\'s points become one value.' })
  @IsEnum(Aggregation)
  aggregation: Aggregation;

  @Field(() => Int, { description: 'Trailing window, 1 to 604800 seconds (7 days).' })
  @IsInt() @Min(1) @Max(MAX_WINDOW_SECONDS)
  windowSeconds: number;

  @Field(() => Comparator, { description: 'How the value is compared to the thresholds.' })
  @IsEnum(Comparator)
  comparator: Comparator;

  @Field(() => Float, { description: 'Crossing it means ALERT.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  threshold: number;

  @Field(() => Float, { nullable: true, description: 'Crossing it means WARNING; must be crossed before threshold (below it for GT/GTE, above for LT/LTE).' })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false })
  warningThreshold?: number | null;
}

@InputType({ description: 'Changes a monitor; it is evaluated again at once. An omitted field stays as it is.' })
export class UpdateMonitorInput {
  @Field(() => ID, { description: 'The monitor.' })
  @IsString()
  id: string;

  @Field(() => Float, { nullable: true, description: 'New threshold. Null is refused: omit the field to keep it.' })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false })
  threshold?: number | null;

  @Field(() => Float, { nullable: true, description: 'New warning threshold; null removes it, so the monitor no longer reports WARNING.' })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false })
  warningThreshold?: number | null;

  @Field(() => Int, { nullable: true, description: 'New window, 1 to 604800 seconds. Null is refused: omit the field to keep it.' })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_WINDOW_SECONDS)
  windowSeconds?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'true pauses (status PAUSED, open alert resolved); false resumes. Null is refused.' })
  @IsOptional() @IsBoolean()
  paused?: boolean | null;
}

@ObjectType({ description: 'The monitor as stored, with its status after evaluation.' })
export class MonitorPayload {
  @Field(() => Monitor, { description: 'The monitor.' })
  monitor: Monitor;
}
