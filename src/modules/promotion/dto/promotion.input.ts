import { ArrayMaxSize, IsInt, IsNumber, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { NAME_PATTERN, NAME_RULE } from '../../../core/graphql/names';
import { ConnectionType } from '../../../core/graphql/pagination';
import { PromotionRequest } from '../promotion.entity';

@InputType({ description: 'A bound on an evaluation metric; give gte, lte or both.' })
export class EvaluationGateInput {
  @Field({ description: 'Metric name.' })
  @Length(1, 256)
  metric: string;

  @Field(() => ID, { nullable: true, description: 'Only evaluations on this dataset version count.' })
  @IsOptional() @IsString()
  datasetVersionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Slice of the metric; omit for the overall value.' })
  @IsOptional() @Length(1, 256)
  slice?: string | null;

  @Field(() => Float, { nullable: true, description: 'The value must be at least this.' })
  @IsOptional() @IsNumber()
  gte?: number | null;

  @Field(() => Float, { nullable: true, description: 'The value must be at most this.' })
  @IsOptional() @IsNumber()
  lte?: number | null;
}

@InputType({ description: 'Protects an alias: moves must pass the gates and gather the approvals. No approvals and no gates removes the policy.' })
export class SetAliasPolicyInput {
  @Field(() => ID, { description: 'The model.' })
  @IsString()
  modelId: string;

  @Field({ description: 'The alias to protect.' })
  @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias: string;

  @Field(() => Int, { description: 'Distinct EDITOR/ADMIN approvers needed besides the requester (0 to 10).' })
  @IsInt() @Min(0) @Max(10)
  requiredApprovals: number;

  @Field(() => [EvaluationGateInput], { description: 'Evaluation gates (at most 20).' })
  @ArrayMaxSize(20) @ValidateNested({ each: true })
  gates: EvaluationGateInput[];
}

@InputType({ description: 'Asks to move a protected alias to a version.' })
export class RequestPromotionInput {
  @Field(() => ID, { description: 'The model.' })
  @IsString()
  modelId: string;

  @Field({ description: 'The alias to move.' })
  @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias: string;

  @Field(() => Int, { description: 'The version to move it to.' })
  @IsInt() @Min(1)
  versionNumber: number;

  @Field(() => String, { nullable: true, description: 'Why, for the approvers and the alias history.' })
  @IsOptional() @MaxLength(2000)
  reason?: string | null;
}

@InputType({ description: 'Approves or rejects a pending promotion request.' })
export class DecidePromotionInput {
  @Field(() => ID, { description: 'The promotion request.' })
  @IsString()
  id: string;

  @Field(() => String, { nullable: true, description: 'A note for the record.' })
  @IsOptional() @MaxLength(2000)
  comment?: string | null;
}

@ObjectType({ description: 'The promotion request after the change.' })
export class PromotionRequestPayload {
  @Field(() => PromotionRequest, { description: 'The request as it now stands.' })
  promotionRequest: PromotionRequest;
}

export const PromotionRequestConnection = ConnectionType(PromotionRequest, 'PromotionRequest', 'promotion request');
