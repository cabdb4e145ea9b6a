import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

@Entity('audit_event')
@ObjectType({ implements: Node, description: 'A record of one mutation: who did what to which object, with before and after.' })
export class AuditEvent implements Node {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('AuditEvent', String(this.id));
  }

  @Column({ name: 'project_id', type: 'uuid', nullable: true })
  projectId: string | null;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the mutation committed.' })
  at: Date;

  @Column()
  @Field({ description: 'Name of the API key that made the change.' })
  actor: string;

  @Column()
  @Field({ description: 'What was done, e.g. "model.create", "alias.set", "apiKey.revoke".' })
  action: string;

  @Column({ name: 'target_type' })
  @Field({ description: 'The type of the object changed, e.g. "Model".' })
  targetType: string;

  @Column({ name: 'target_id', type: 'text', nullable: true })
  @Field(() => ID, { nullable: true, description: 'Global id of the object changed.' })
  targetId: string | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  @Field(() => GraphQLJSONObject, { description: 'Before/after of what changed: `{ before, after }`.' })
  details: Record<string, unknown>;
}
