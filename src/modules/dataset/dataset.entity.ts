import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';
import { Tag } from '../../core/graphql/tag';

@Entity('dataset')
@ObjectType({ implements: Node, description: 'A dataset: a named line of immutable versions within a project.' })
export class Dataset implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('Dataset', this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column()
  @Field({ description: 'Unique within its project; matches [a-z0-9][a-z0-9._-]{0,127}.' })
  name: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What the data is, for people.' })
  description: string | null;

  @Column({ type: 'jsonb', default: () => `'[]'` })
  @Field(() => [Tag], { description: 'Key/value labels.' })
  tags: Tag[];

  @Column({ name: 'version_count', type: 'integer', default: 0 })
  versionCount: number;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the dataset was registered.' })
  createdAt: Date;
}
