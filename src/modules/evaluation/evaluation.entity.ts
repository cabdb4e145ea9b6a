import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

export enum EvaluationStatus {
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
export enum EvaluationGrouping {
  MODEL_VERSION = 'MODEL_VERSION',
  PROMPT_VERSION = 'PROMPT_VERSION',
}
registerEnumType(EvaluationGrouping, {
  name: 'EvaluationGrouping',
  description: 'What leaderboards and comparisons rank or split evaluations by.',
  valuesConfig: {
    MODEL_VERSION: { description: 'By the model version evaluated, whatever prompt it ran with.' },
    PROMPT_VERSION: { description: 'By the prompt version the evaluation names (see Evaluation.promptVersion).' },
  },
});

registerEnumType(EvaluationStatus, {
  name: 'EvaluationStatus',
  description: 'Lifecycle of an evaluation: RUNNING -> COMPLETED | FAILED. Only COMPLETED evaluations rank and compare.',
  valuesConfig: {
    RUNNING: { description: 'Started; still accepts metrics and samples.' },
    COMPLETED: { description: 'Finished successfully; its metrics count in leaderboards, comparisons and filters.' },
    FAILED: { description: 'Finished unsuccessfully; kept for the record, never ranked.' },
  },
});

@Entity('evaluation')
@ObjectType({ implements: Node, description: 'One evaluation run of a model version, optionally on a dataset version: its metrics and samples.' })
export class Evaluation implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('Evaluation', this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ name: 'model_version_id', type: 'uuid' })
  modelVersionId: string;

  @Column({ name: 'dataset_version_id', type: 'uuid', nullable: true })
  datasetVersionId: string | null;

  @Column({ name: 'prompt_version_id', type: 'uuid', nullable: true })
  promptVersionId: string | null;

  @Column()
  @Field({ description: 'Name of the run, e.g. "mmlu-5shot" or "nightly-regression".' })
  name: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Who or what scored it, e.g. "exact-match", "llm-judge:gpt-4o/prompt-v3", "human".' })
  evaluator: string | null;

  @Column({ type: 'text' })
  @Field(() => EvaluationStatus, { description: 'Lifecycle status.' })
  status: EvaluationStatus;

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Settings of the run, e.g. temperature, shots, judge prompt.' })
  params: Record<string, unknown> | null;

  @Column({ name: 'created_by' })
  @Field({ description: 'Name of the API key that started it.' })
  createdBy: string;

  @Column({ name: 'started_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the evaluation was created.' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When it was completed or failed; null while RUNNING.' })
  finishedAt: Date | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;
}
