import { IsString } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';

/**
 * One served request. Deliberately without class-validator decorators, like MetricPointInput:
 * a call carries up to 10,000 of them and the service checks them all in one pass, naming
 * `records.<i>.<field>`.
 */
@InputType({ description: 'One request served by a model version (named directly, or through the deployment route that served it): its tokens, latency and outcome.' })
export class UsageRecordInput {
  @Field({ description: 'The request\'s id, 1 to 200 characters, unique per project: a record whose requestId the project already has is not stored again (nor counted).' })
  requestId: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The model version that served the request. Exactly one of modelVersionId, or deploymentId with route.',
  })
  modelVersionId?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The deployment that served the request, with route; instead of modelVersionId. The model version is the one the route '
      + 'served at the record\'s timestamp: the route set in force then and, for a route that follows an alias, where the alias pointed then.',
  })
  deploymentId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The name of the deployment route that served the request, with deploymentId. A route the deployment did not have at the '
      + 'record\'s timestamp is BAD_USER_INPUT naming records.<i>.route.',
  })
  route?: string | null;

  @Field(() => ID, { nullable: true, description: 'The prompt version the request was rendered from, if any.' })
  promptVersionId?: string | null;

  @Field(() => Int, { description: 'Input (prompt) tokens, at least 0.' })
  inputTokens: number;

  @Field(() => Int, { description: 'Output (completion) tokens, at least 0.' })
  outputTokens: number;

  @Field(() => Float, { description: 'Time to serve the request, in milliseconds, at least 0.' })
  latencyMs: number;

  @Field(() => Boolean, { nullable: true, description: 'True when the request failed; default false.' })
  error?: boolean | null;

  @Field(() => Date, { nullable: true, description: 'When the request was served; default now. At most 5 minutes in the future.' })
  timestamp?: Date | null;
}

@InputType({ description: 'A batch of usage records, stored all or nothing.' })
export class RecordUsageInput {
  @Field({ description: 'The project the model versions belong to.' })
  @IsString()
  projectSlug: string;

  @Field(() => [UsageRecordInput], { description: '1 to 10,000 records.' })
  records: UsageRecordInput[];
}

@ObjectType({ description: 'What recordUsage stored.' })
export class RecordUsagePayload {
  @Field(() => Int, { description: 'Records stored now.' })
  accepted: number;

  @Field(() => Int, { description: 'Records not stored because their requestId was already stored (by an earlier call, or earlier in this one).' })
  duplicates: number;

  @Field(() => Int, { description: 'Of the records stored now, those whose version had no price at their time: their cost is null, not 0.' })
  unpriced: number;
}
