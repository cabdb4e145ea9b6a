import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';
import { Tag } from '../../core/graphql/tag';

export enum ModelKind {
  OPEN_WEIGHTS = 'OPEN_WEIGHTS',
  PROPRIETARY_API = 'PROPRIETARY_API',
  INTERNAL = 'INTERNAL',
}
registerEnumType(ModelKind, {
  name: 'ModelKind',
  description: 'Where a model comes from.',
  valuesConfig: {
    OPEN_WEIGHTS: { description: 'Published weights, e.g. a Llama or Mistral checkpoint.' },
    PROPRIETARY_API: { description: 'A hosted model reached through a provider API, e.g. a hosted LLM.' },
    INTERNAL: { description: 'Trained in-house.' },
  },
});

export enum ModelOrder {
  NAME_ASC = 'NAME_ASC',
  UPDATED_AT_DESC = 'UPDATED_AT_DESC',
  CREATED_AT_DESC = 'CREATED_AT_DESC',
}
registerEnumType(ModelOrder, {
  name: 'ModelOrder',
  description: 'Order of a model list.',
  valuesConfig: {
    NAME_ASC: { description: 'By name, A to Z.' },
    UPDATED_AT_DESC: { description: 'Most recently changed first (a new version counts as a change).' },
    CREATED_AT_DESC: { description: 'Newest first.' },
  },
});

@Entity('model')
@ObjectType({ implements: Node, description: 'A model: a named line of versions within a project.' })
export class Model implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('Model', this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column()
  @Field({ description: 'Unique within its project; matches [a-z0-9][a-z0-9._-]{0,127}.' })
  name: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What the model does, for people.' })
  description: string | null;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Free-text task, e.g. "text-generation", "classification".' })
  task: string | null;

  @Column({ type: 'text' })
  @Field(() => ModelKind, { description: 'Open weights, a proprietary API model, or an internal model.' })
  kind: ModelKind;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'License, e.g. "apache-2.0" or "proprietary".' })
  license: string | null;

  @Column({ type: 'jsonb', default: () => `'[]'` })
  @Field(() => [Tag], { description: 'Key/value labels.' })
  tags: Tag[];

  @Column({ default: false })
  @Field({ description: 'Archived models are hidden from lists unless the filter asks for them.' })
  archived: boolean;

  @Column({ name: 'version_count', type: 'integer', default: 0 })
  versionCount: number;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the model was registered.' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the model, its versions or its aliases last changed.' })
  updatedAt: Date;
}
