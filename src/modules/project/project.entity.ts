import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

@Entity('project')
@ObjectType({ implements: Node, description: 'A namespace for models and everything about them; API keys can be scoped to one.' })
export class Project implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('Project', this.id);
  }

  @Column()
  @Field({ description: 'URL-safe unique handle, e.g. "search-ranking".' })
  slug: string;

  @Column()
  @Field({ description: 'Display name.' })
  name: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What the project is for.' })
  description: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  @Field({ description: 'When the project was created.' })
  createdAt: Date;
}
