import {
  ArrayMaxSize, ArrayMinSize, IsBoolean, IsEnum, IsIn, IsInt, IsNumber, IsOptional, IsString, Length, Matches, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { Evaluation, EvaluationStatus } from '../evaluation.entity';
import { NoveltyCorpusUsage } from './score-generations.input';
import {
  EVAL_METRIC_NAME, EVAL_METRIC_NAME_RULE, EVALUATION_NAME, IsScores, MAX_METRICS_PER_CALL, MAX_SAMPLES_PER_CALL, SLICE, SLICE_RULE,
} from '../evaluation.rules';

@InputType({ description: 'One metric value; logging the same (name, slice) again replaces it.' })
export class EvalMetricInput {
  @Field({ description: `Metric name, e.g. "accuracy", "ndcg@10"; ${EVAL_METRIC_NAME_RULE}.` })
  @Matches(EVAL_METRIC_NAME, { message: `name ${EVAL_METRIC_NAME_RULE}` })
  name: string;

  @Field(() => Float, { description: 'The value; must be finite.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value: number;

  @Field(() => String, { nullable: true, description: 'The slice of the data, e.g. "lang=fr"; omit for the overall value.' })
  @IsOptional() @Matches(SLICE, { message: `slice ${SLICE_RULE}` })
  slice?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether larger is better (false for loss, latency, error rate); unknown when omitted.' })
  @IsOptional() @IsBoolean()
  higherIsBetter?: boolean | null;
}

@InputType({ description: 'One scored example.' })
export class EvalSampleInput {
  @Field(() => GraphQLJSON, { nullable: true, description: 'The input, e.g. a prompt.' })
  @IsOptional()
  input?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'What the model produced.' })
  @IsOptional()
  output?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The expected output.' })
  @IsOptional()
  reference?: unknown;

  @Field(() => GraphQLJSONObject, { description: 'Scores by metric name; every value a finite number, e.g. {"exact_match": 1}.' })
  @IsScores()
  scores: Record<string, number>;

  @Field(() => Int, {
    nullable: true,
    description: 'Input (prompt) tokens the model read for this sample, at least 0. With outputTokens, lets compareCandidates estimate the cost of a version without usage.',
  })
  @IsOptional() @IsInt() @Min(0)
  inputTokens?: number | null;

  @Field(() => Int, { nullable: true, description: 'Output (completion) tokens the model wrote for this sample, at least 0.' })
  @IsOptional() @IsInt() @Min(0)
  outputTokens?: number | null;
}

@InputType({ description: 'Starts an evaluation of a model version, RUNNING until completed.' })
export class CreateEvaluationInput {
  @Field(() => ID, { description: 'The model version evaluated.' })
  @IsString()
  modelVersionId: string;

  @Field(() => ID, { nullable: true, description: 'The dataset version it runs on; must be of the same project.' })
  @IsOptional() @IsString()
  datasetVersionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The prompt version the model version ran with; must be of the same project.' })
  @IsOptional() @IsString()
  promptVersionId?: string | null;

  @Field({ description: 'Name of the run, e.g. "mmlu-5shot"; 1 to 256 characters on one line.' })
  @Matches(EVALUATION_NAME, { message: 'name must be 1 to 256 characters on one line, without surrounding spaces' })
  name: string;

  @Field(() => String, { nullable: true, description: 'Who or what scores it, e.g. "exact-match", "llm-judge:gpt-4o/prompt-v3", "human".' })
  @IsOptional() @MaxLength(256)
  evaluator?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Settings of the run.' })
  @IsOptional()
  params?: Record<string, unknown> | null;

  @Field(() => [EvalMetricInput], { nullable: true, description: `Metrics known at the start (at most ${MAX_METRICS_PER_CALL}).` })
  @IsOptional() @ArrayMaxSize(MAX_METRICS_PER_CALL) @ValidateNested({ each: true })
  metrics?: EvalMetricInput[] | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key (for the same model version) returns the first evaluation instead of a new one.' })
  @IsOptional() @Length(1, 256)
  idempotencyKey?: string | null;
}

@InputType({ description: 'Adds or replaces metrics of a RUNNING evaluation.' })
export class LogEvaluationMetricsInput {
  @Field(() => ID, { description: 'The evaluation.' })
  @IsString()
  evaluationId: string;

  @Field(() => [EvalMetricInput], { description: `1 to ${MAX_METRICS_PER_CALL} metrics; a repeated (name, slice) keeps the last.` })
  @ArrayMinSize(1) @ArrayMaxSize(MAX_METRICS_PER_CALL) @ValidateNested({ each: true })
  metrics: EvalMetricInput[];
}

@InputType({ description: 'Appends samples to a RUNNING evaluation.' })
export class LogEvaluationSamplesInput {
  @Field(() => ID, { description: 'The evaluation.' })
  @IsString()
  evaluationId: string;

  @Field(() => [EvalSampleInput], { description: `1 to ${MAX_SAMPLES_PER_CALL} samples, stored in the order given.` })
  @ArrayMinSize(1) @ArrayMaxSize(MAX_SAMPLES_PER_CALL) @ValidateNested({ each: true })
  samples: EvalSampleInput[];
}

@InputType({ description: 'Finishes a RUNNING evaluation.' })
export class CompleteEvaluationInput {
  @Field(() => ID, { description: 'The evaluation.' })
  @IsString()
  evaluationId: string;

  @Field(() => EvaluationStatus, { description: 'COMPLETED or FAILED.' })
  @IsEnum(EvaluationStatus) @IsIn([EvaluationStatus.COMPLETED, EvaluationStatus.FAILED], { message: 'status must be COMPLETED or FAILED' })
  status: EvaluationStatus;
}

@InputType({ description: 'Narrows an evaluation list; all given conditions must hold.' })
export class EvaluationFilter {
  @Field(() => ID, { nullable: true, description: 'Only evaluations on this dataset version.' })
  @IsOptional() @IsString()
  datasetVersionId?: string | null;

  @Field(() => EvaluationStatus, { nullable: true, description: 'Only evaluations in this status.' })
  @IsOptional() @IsEnum(EvaluationStatus)
  status?: EvaluationStatus | null;

  @Field(() => String, { nullable: true, description: 'Only evaluations with exactly this name.' })
  @IsOptional() @MaxLength(256)
  name?: string | null;
}

@ObjectType({ description: 'The evaluation a mutation created or changed.' })
export class EvaluationPayload {
  @Field(() => Evaluation, { description: 'The evaluation after the change.' })
  evaluation: Evaluation;

  @Field(() => NoveltyCorpusUsage, { nullable: true, description: 'Only from scoreGenerations with NOVELTY: the corpus it measured against; null otherwise.' })
  noveltyCorpus?: NoveltyCorpusUsage | null;
}
