import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

export enum PromptOrder {
  NAME_ASC = 'NAME_ASC',
  UPDATED_AT_DESC = 'UPDATED_AT_DESC',
}
registerEnumType(PromptOrder, {
  name: 'PromptOrder',
  description: 'Order of a prompt list.',
  valuesConfig: {
    NAME_ASC: { description: 'By name, A to Z.' },
    UPDATED_AT_DESC: { description: 'Most recently changed first (a new version or an alias move counts as a change).' },
  },
});

@Entity('prompt')
@ObjectType({ implements: Node, description: 'A prompt: a named line of immutable template versions within a project.' })
export class Prompt implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('Prompt', this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column()
  @Field({ description: 'Unique within its project; matches [a-z0-9][a-z0-9._-]{0,127}.' })
  name: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What the prompt is for, for people.' })
  description: string | null;

  @Column({ name: 'version_count', type: 'integer', default: 0 })
  versionCount: number;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the prompt was registered.' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the prompt, its versions or its aliases last changed.' })
  updatedAt: Date;
}
