import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

/** A gate as stored: the dataset version is its row key. */
export interface StoredGate {
  metric: string;
  datasetVersionId: string | null;
  slice: string | null;
  gte: number | null;
  lte: number | null;
}

export interface StoredGateResult {
  gate: StoredGate;
  value: number | null;
  passed: boolean;
}

@ObjectType({ description: 'A bound an evaluation metric of the version must meet: its latest completed evaluation counts.' })
export class EvaluationGate {
  @Field({ description: 'Metric name.' })
  metric: string;

  /** Resolved by the resolver from datasetVersionId. */
  datasetVersionId: string | null;

  @Field(() => String, { nullable: true, description: 'Slice of the metric; null: the overall value.' })
  slice: string | null;

  @Field(() => Float, { nullable: true, description: 'The value must be at least this.' })
  gte: number | null;

  @Field(() => Float, { nullable: true, description: 'The value must be at most this.' })
  lte: number | null;
}

@ObjectType({ description: 'How a version fared against one gate.' })
export class GateResult {
  @Field(() => EvaluationGate, { description: 'The gate.' })
  gate: EvaluationGate;

  @Field(() => Float, { nullable: true, description: 'The metric value that was checked; null when the version has no such completed evaluation.' })
  value: number | null;

  @Field({ description: 'Whether the value met the gate (false without a value).' })
  passed: boolean;
}

@Entity('alias_policy')
@ObjectType({ description: 'A rule that must hold before an alias may point to a version.' })
export class AliasPolicy {
  @PrimaryColumn({ name: 'model_id', type: 'uuid' })
  modelId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @PrimaryColumn()
  @Field({ description: 'The protected alias, e.g. "production".' })
  alias: string;

  @Column({ name: 'required_approvals', type: 'integer' })
  @Field(() => Int, { description: 'Distinct EDITOR/ADMIN approvers needed, not counting the requester.' })
  requiredApprovals: number;

  @Column({ type: 'jsonb' })
  @Field(() => [EvaluationGate], { description: 'Evaluation gates the version must pass.' })
  gates: StoredGate[];

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;

  @Column({ name: 'updated_by' })
  updatedBy: string;
}

export enum PromotionStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
  APPLIED = 'APPLIED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(PromotionStatus, {
  name: 'PromotionStatus',
  description: 'Where a promotion request stands.',
  valuesConfig: {
    PENDING: { description: 'Waiting for approvals.' },
    APPROVED: { description: 'Approved; the move is being applied.' },
    REJECTED: { description: 'Rejected by an approver, or a gate failed.' },
    APPLIED: { description: 'The alias was moved.' },
    CANCELLED: { description: 'Withdrawn by its requester, or replaced by a newer request for the same alias.' },
  },
});

@Entity('promotion_request')
@ObjectType({ implements: Node, description: 'A request to move a protected alias to a version, carried through the alias policy.' })
export class PromotionRequest implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('PromotionRequest', this.id);
  }

  @Column({ name: 'model_id', type: 'uuid' })
  modelId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column()
  @Field({ description: 'The alias to move.' })
  alias: string;

  @Column({ name: 'version_id', type: 'uuid' })
  versionId: string;

  @Column({ type: 'text' })
  @Field(() => PromotionStatus, { description: 'Where the request stands.' })
  status: PromotionStatus;

  @Column({ name: 'requested_by' })
  @Field({ description: 'Name of the API key that asked.' })
  requestedBy: string;

  @Column({ name: 'requested_by_key', type: 'uuid' })
  requestedByKey: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Why, as the requester wrote it.' })
  reason: string | null;

  @Column({ name: 'gate_results', type: 'jsonb' })
  gateResults: StoredGateResult[];

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  @Field({ description: 'When it was requested.' })
  createdAt: Date;

  @Column({ name: 'decided_at', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When it was applied, rejected or cancelled.' })
  decidedAt: Date | null;
}
