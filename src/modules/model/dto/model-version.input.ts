import {
  ArrayMaxSize, IsEnum, IsInt, IsNumber, IsOptional, IsPositive, IsString, IsUrl, Length, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import { TagInput } from '../../../core/graphql/tag';
import { DatasetRole } from '../dataset-role';
import { ModelVersion, ModelVersionStatus } from '../model-version.entity';

@InputType({ description: 'An artifact stored at a URI.' })
export class ArtifactSourceInput {
  @Field({ description: 'Where the artifact lives, e.g. s3://bucket/path or hf://org/model.' })
  @Length(1, 2048)
  uri: string;

  @Field(() => String, { nullable: true, description: 'Content hash, e.g. "sha256:...".' })
  @IsOptional() @MaxLength(256)
  digest?: string | null;

  @Field(() => String, { nullable: true, description: 'Serialization format, e.g. "safetensors".' })
  @IsOptional() @MaxLength(64)
  format?: string | null;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Size in bytes.' })
  @IsOptional() @IsInt() @Min(0)
  sizeBytes?: number | null;
}

@InputType({ description: 'A model served by a provider API.' })
export class ExternalApiSourceInput {
  @Field({ description: 'Provider, e.g. "openai", "anthropic", "vertex".' })
  @Length(1, 64)
  provider: string;

  @Field({ description: "The provider's model name." })
  @Length(1, 256)
  modelId: string;

  @Field(() => String, { nullable: true, description: 'Endpoint URL, when not the provider default.' })
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true }) @MaxLength(2048)
  endpoint?: string | null;

  @Field(() => Float, { nullable: true, description: 'USD per million input tokens. With outputCostPerMillionTokens, the version\'s price from the start (see ModelVersion.pricing).' })
  @IsOptional() @IsNumber() @Min(0)
  inputCostPerMillionTokens?: number | null;

  @Field(() => Float, { nullable: true, description: 'USD per million output tokens. With inputCostPerMillionTokens, the version\'s price from the start.' })
  @IsOptional() @IsNumber() @Min(0)
  outputCostPerMillionTokens?: number | null;
}

@InputType({
  description: 'What serving a self-hosted (open-weights) version costs: its cost per request is '
    + '(inputTokens + outputTokens) / tokensPerSecond / 3600 * gpuHourCostUsd, the GPU time the request took at that throughput.',
})
export class SelfHostedServingInput {
  @Field(() => Float, { description: 'USD per GPU-hour of the hardware serving it (all GPUs of one replica), at least 0.' })
  @IsNumber() @Min(0)
  gpuHourCostUsd: number;

  @Field(() => Float, { description: 'Tokens (input and output together) one replica serves per second, more than 0.' })
  @IsNumber() @IsPositive()
  tokensPerSecond: number;
}

@InputType({ description: 'A dataset version a model version used, and how.' })
export class DatasetUsageInput {
  @Field(() => ID, { description: 'The dataset version.' })
  @IsString()
  datasetVersionId: string;

  @Field(() => DatasetRole, { description: 'What it was used for.' })
  @IsEnum(DatasetRole)
  role: DatasetRole;
}

@InputType({ description: 'Registers a new version; the server assigns its number.' })
export class CreateModelVersionInput {
  @Field(() => ID, { description: 'The model.' })
  @IsString()
  modelId: string;

  @Field(() => ArtifactSourceInput, { nullable: true, description: 'Exactly one of artifact / externalApi.' })
  @IsOptional() @ValidateNested()
  artifact?: ArtifactSourceInput | null;

  @Field(() => ExternalApiSourceInput, { nullable: true, description: 'Exactly one of artifact / externalApi.' })
  @IsOptional() @ValidateNested()
  externalApi?: ExternalApiSourceInput | null;

  @Field(() => SelfHostedServingInput, {
    nullable: true,
    description: 'With artifact: the serving cost of this self-hosted version, its price from the start (see ModelVersion.pricing; '
      + 'setModelVersionPricing changes it later, keeping the history). Not with externalApi, whose token prices are its price.',
  })
  @IsOptional() @ValidateNested()
  selfHosted?: SelfHostedServingInput | null;

  @Field(() => String, { nullable: true, description: 'What changed in this version.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'Framework, e.g. "pytorch".' })
  @IsOptional() @MaxLength(64)
  framework?: string | null;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Number of parameters.' })
  @IsOptional() @IsInt() @Min(0)
  parameterCount?: number | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Input/output schema.' })
  @IsOptional()
  signature?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Generation parameters, prompt template, RAG settings ...' })
  @IsOptional()
  config?: Record<string, unknown> | null;

  @Field(() => [TagInput], { nullable: true, description: 'Key/value labels.' })
  @IsOptional() @ArrayMaxSize(100) @ValidateNested({ each: true })
  tags?: TagInput[] | null;

  @Field(() => ID, { nullable: true, description: 'The version this one was fine-tuned from (any model of the project).' })
  @IsOptional() @IsString()
  baseVersionId?: string | null;

  @Field(() => String, { nullable: true, description: 'How it was derived from the base, e.g. "lora".' })
  @IsOptional() @MaxLength(64)
  fineTuningMethod?: string | null;

  @Field(() => [DatasetUsageInput], { nullable: true, description: 'Dataset versions it used (lineage).' })
  @IsOptional() @ArrayMaxSize(100) @ValidateNested({ each: true })
  datasets?: DatasetUsageInput[] | null;

  @Field(() => [ID], { nullable: true, description: 'Feature sets it reads.' })
  @IsOptional() @ArrayMaxSize(100)
  featureSetIds?: string[] | null;

  @Field(() => ModelVersionStatus, { nullable: true, defaultValue: ModelVersionStatus.READY, description: 'Initial status: READY (default), PENDING or FAILED.' })
  @IsOptional() @IsEnum(ModelVersionStatus)
  status?: ModelVersionStatus | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key returns the same version instead of a new one.' })
  @IsOptional() @Length(1, 256)
  idempotencyKey?: string | null;
}

@InputType({ description: 'Changes a version; omitted or null fields stay as they are.' })
export class UpdateModelVersionInput {
  @Field(() => ID, { description: 'The version.' })
  @IsString()
  id: string;

  @Field(() => ModelVersionStatus, { nullable: true, description: 'New status; see ModelVersionStatus for allowed moves.' })
  @IsOptional() @IsEnum(ModelVersionStatus)
  status?: ModelVersionStatus | null;

  @Field(() => String, { nullable: true, description: 'Why the status is what it is.' })
  @IsOptional() @MaxLength(10000)
  statusMessage?: string | null;

  @Field(() => String, { nullable: true, description: 'New description.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field(() => [TagInput], { nullable: true, description: 'Replaces all tags.' })
  @IsOptional() @ArrayMaxSize(100) @ValidateNested({ each: true })
  tags?: TagInput[] | null;
}

@InputType({ description: 'A bound on an evaluation metric.' })
export class MetricBoundInput {
  @Field({ description: 'Metric name.' })
  @Length(1, 256)
  name: string;

  @Field(() => ID, { nullable: true, description: 'Only evaluations on this dataset version.' })
  @IsOptional() @IsString()
  datasetVersionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only this slice (null: the overall value).' })
  @IsOptional() @MaxLength(256)
  slice?: string | null;

  @Field(() => Float, { nullable: true, description: 'Value at least this.' })
  @IsOptional() @IsNumber()
  gte?: number | null;

  @Field(() => Float, { nullable: true, description: 'Value at most this.' })
  @IsOptional() @IsNumber()
  lte?: number | null;
}

@InputType({ description: 'Narrows a version list; all given conditions must hold, `or` adds alternatives.' })
export class ModelVersionFilter {
  @Field(() => ModelVersionStatus, { nullable: true, description: 'Only versions in this status.' })
  @IsOptional() @IsEnum(ModelVersionStatus)
  status?: ModelVersionStatus | null;

  @Field(() => [TagInput], { nullable: true, description: 'Only versions carrying every one of these tags.' })
  @IsOptional() @ArrayMaxSize(50) @ValidateNested({ each: true })
  tags?: TagInput[] | null;

  @Field(() => String, { nullable: true, description: 'Only the version this alias points to now.' })
  @IsOptional() @MaxLength(128)
  alias?: string | null;

  @Field(() => Date, { nullable: true, description: 'Created at or after this time.' })
  @IsOptional()
  createdAfter?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Created before this time.' })
  @IsOptional()
  createdBefore?: Date | null;

  @Field(() => ID, { nullable: true, description: 'Only versions that used this dataset version with role TRAINING or FINE_TUNING.' })
  @IsOptional() @IsString()
  trainedOnDatasetVersionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only versions fine-tuned from this version.' })
  @IsOptional() @IsString()
  baseVersionId?: string | null;

  @Field(() => MetricBoundInput, { nullable: true, description: 'Versions with an evaluation whose metric satisfies the bound.' })
  @IsOptional() @ValidateNested()
  metric?: MetricBoundInput | null;

  @Field(() => [ModelVersionFilter], {
    nullable: true,
    description: 'Any-of: versions matching at least one of these filters (at most 20 here; the whole tree is bounded in depth and conditions, see the field taking the filter).',
  })
  @IsOptional() @ArrayMaxSize(20) @ValidateNested({ each: true })
  or?: ModelVersionFilter[] | null;
}

@ObjectType({ description: 'The version a mutation created or changed.' })
export class ModelVersionPayload {
  @Field(() => ModelVersion, { description: 'The version after the change.' })
  modelVersion: ModelVersion;
}
