import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

@Entity('prompt_alias')
@ObjectType({ description: 'A movable name, such as "production", pointing to one version of a prompt.' })
export class PromptAlias {
  @PrimaryColumn({ name: 'prompt_id', type: 'uuid' })
  promptId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @PrimaryColumn()
  @Field({ description: 'The alias, e.g. "production", "candidate".' })
  name: string;

  /** NULL while removed; the row keeps the revision counter going. */
  @Column({ name: 'version_id', type: 'uuid', nullable: true })
  versionId: string | null;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'Increases on every move; pass it as expectedRevision to move safely.' })
  revision: number;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the alias last moved.' })
  updatedAt: Date;

  @Column({ name: 'updated_by' })
  @Field({ description: 'Name of the API key that last moved it.' })
  updatedBy: string;
}

@Entity('prompt_alias_event')
@ObjectType({ implements: Node, description: 'One move of a prompt alias: set, moved or removed, by whom and why.' })
export class PromptAliasEvent implements Node {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('PromptAliasEvent', String(this.id));
  }

  @Column({ name: 'prompt_id', type: 'uuid' })
  promptId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column()
  @Field({ description: 'The alias that moved.' })
  alias: string;

  @Column({ name: 'from_version_id', type: 'uuid', nullable: true })
  fromVersionId: string | null;

  @Column({ name: 'to_version_id', type: 'uuid', nullable: true })
  toVersionId: string | null;

  @Column()
  @Field({ description: 'Name of the API key that moved it.' })
  actor: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Why it moved, as given by the actor.' })
  reason: string | null;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'clock_timestamp()' })
  @Field({ description: 'When it moved.' })
  at: Date;
}
