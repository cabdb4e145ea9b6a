import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';
import { Role } from '../../core/auth/role';

/** Every column but the secret's hash, which is read only to authenticate. */
export const API_KEY_COLUMNS = 'id, name, role, project_id, prefix, created_by, created_at, last_used_at, revoked_at';

@Entity('api_key')
@ObjectType({ implements: Node, description: 'A credential for the API. Its secret is shown once at creation and stored only as a hash.' })
export class ApiKey implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('ApiKey', this.id);
  }

  @Column()
  @Field({ description: 'Name of the key; audit events name their actor by it.' })
  name: string;

  @Column({ type: 'text' })
  @Field(() => Role, { description: 'What the key may do.' })
  role: Role;

  @Column({ name: 'project_id', type: 'uuid', nullable: true })
  projectId: string | null;

  @Column()
  @Field({ description: 'The first characters of the secret, to recognise a key without revealing it.' })
  prefix: string;

  @Column({ name: 'secret_hash', select: false })
  secretHash: string;

  @Column({ name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  @Field({ description: 'When the key was created.' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When the key last authenticated a request (updated at most once a minute).' })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When the key was revoked; a revoked key authenticates nothing.' })
  revokedAt: Date | null;
}
