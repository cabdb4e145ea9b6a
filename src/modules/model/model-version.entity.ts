import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType, createUnionType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';
import { Tag } from '../../core/graphql/tag';

export enum ModelVersionStatus {
  PENDING = 'PENDING',
  READY = 'READY',
  FAILED = 'FAILED',
  ARCHIVED = 'ARCHIVED',
}
registerEnumType(ModelVersionStatus, {
  name: 'ModelVersionStatus',
  description: 'Lifecycle of a version: PENDING -> READY | FAILED; READY | FAILED -> ARCHIVED.',
  valuesConfig: {
    PENDING: { description: 'Registered; its artifact is still being produced or uploaded.' },
    READY: { description: 'Usable: may be evaluated, aliased and served.' },
    FAILED: { description: 'Training or upload failed; kept for the record.' },
    ARCHIVED: { description: 'Retired; no alias may point to it.' },
  },
});

export enum ModelVersionOrder {
  NUMBER_DESC = 'NUMBER_DESC',
  NUMBER_ASC = 'NUMBER_ASC',
  CREATED_AT_DESC = 'CREATED_AT_DESC',
}
registerEnumType(ModelVersionOrder, {
  name: 'ModelVersionOrder',
  description: 'Order of a version list.',
  valuesConfig: {
    NUMBER_DESC: { description: 'Highest version number first.' },
    NUMBER_ASC: { description: 'Version 1 first.' },
    CREATED_AT_DESC: { description: 'Newest first.' },
  },
});

@ObjectType({ description: 'Weights or another artifact stored at a URI.' })
export class ArtifactSource {
  @Field({ description: 'Where the artifact lives, e.g. s3://bucket/models/ranker/7/.' })
  uri: string;

  @Field(() => String, { nullable: true, description: 'Content hash, e.g. "sha256:...".' })
  digest?: string | null;

  @Field(() => String, { nullable: true, description: 'Serialization format, e.g. "safetensors", "onnx", "gguf".' })
  format?: string | null;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Size of the artifact in bytes.' })
  sizeBytes?: number | null;
}

@ObjectType({ description: 'A model served by a provider API, e.g. a hosted LLM.' })
export class ExternalApiSource {
  @Field({ description: 'Provider, e.g. "openai", "anthropic", "vertex".' })
  provider: string;

  @Field({ description: "The provider's model name." })
  modelId: string;

  @Field(() => String, { nullable: true, description: 'Endpoint URL, when not the provider default.' })
  endpoint?: string | null;

  @Field(() => Number, { nullable: true, description: 'Price of a million input tokens, in USD, as registered. Prices change: ModelVersion.pricing is the price in force at a time.' })
  inputCostPerMillionTokens?: number | null;

  @Field(() => Number, { nullable: true, description: 'Price of a million output tokens, in USD, as registered. Prices change: ModelVersion.pricing is the price in force at a time.' })
  outputCostPerMillionTokens?: number | null;
}

/** How a source is stored: the GraphQL fields plus a discriminator for the union. */
export type StoredSource =
  | ({ kind: 'ARTIFACT' } & ArtifactSource)
  | ({ kind: 'EXTERNAL_API' } & ExternalApiSource);

export const resolveSourceType = (value: unknown) =>
  (value as StoredSource).kind === 'ARTIFACT' ? 'ArtifactSource' : 'ExternalApiSource';

export const ModelSource = createUnionType({
  name: 'ModelSource',
  description: 'Where a version comes from: an artifact, or a provider API.',
  types: () => [ArtifactSource, ExternalApiSource] as const,
  resolveType: resolveSourceType,
});

@Entity('model_version')
@ObjectType({ implements: Node, description: 'One immutable registration of a model: a number, a source and its lineage.' })
export class ModelVersion implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('ModelVersion', this.id);
  }

  @Column({ name: 'model_id', type: 'uuid' })
  modelId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: '1, 2, 3 ... per model, no gaps, no duplicates; assigned by the server.' })
  number: number;

  @Column({ type: 'text' })
  @Field(() => ModelVersionStatus, { description: 'Lifecycle status.' })
  status: ModelVersionStatus;

  @Column({ name: 'status_message', type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Why the status is what it is, e.g. a failure reason.' })
  statusMessage: string | null;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What changed in this version.' })
  description: string | null;

  @Column({ type: 'jsonb' })
  @Field(() => ModelSource, { description: 'Where the version comes from.' })
  source: StoredSource;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Framework, e.g. "pytorch", "xgboost", "vllm".' })
  framework: string | null;

  @Column({ name: 'parameter_count', type: 'bigint', nullable: true, transformer: { to: (v) => v, from: (v) => (v == null ? v : Number(v)) } })
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Number of parameters.' })
  parameterCount: number | null;

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Input/output schema.' })
  signature: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Generation parameters, prompt template, RAG settings ...' })
  config: Record<string, unknown> | null;

  @Column({ type: 'jsonb', default: () => `'[]'` })
  @Field(() => [Tag], { description: 'Key/value labels.' })
  tags: Tag[];

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the version was registered.' })
  createdAt: Date;

  @Column({ name: 'created_by' })
  @Field({ description: 'Name of the API key that registered it.' })
  createdBy: string;

  @Column({ name: 'base_version_id', type: 'uuid', nullable: true })
  baseVersionId: string | null;

  @Column({ name: 'fine_tuning_method', type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'How it was derived from baseVersion, e.g. "lora", "full".' })
  fineTuningMethod: string | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;
}
