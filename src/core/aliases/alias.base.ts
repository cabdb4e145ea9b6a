import { IsInt, IsOptional, Matches, MaxLength, Min } from 'class-validator';
import { Column, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { NodeType, toGlobalId } from '../graphql/ids';
import { NAME_PATTERN, NAME_RULE } from '../graphql/names';

/**
 * What every kind of alias shares (a model's, a prompt's): a movable name pointing to one
 * version of its parent, with a revision for optimistic concurrency, and a history of moves.
 * Each feature declares its own table and type by extending these (TypeORM copies the columns,
 * type-graphql the fields) and adds the parent's key column; the semantics stay one.
 */
@ObjectType()
export abstract class AliasBase {
  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @PrimaryColumn()
  @Field({ description: 'The alias, e.g. "production", "champion".' })
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

/** One move of an alias (set, moved or removed); see AliasBase. */
@ObjectType()
export abstract class AliasEventBase {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  /** The node type of the concrete event, for its global id. */
  protected abstract nodeType(): NodeType;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId(this.nodeType(), String(this.id));
  }

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

/** The fields of a set-alias input after the parent's id (which each feature names). */
@InputType()
export abstract class SetAliasFields {
  @Field({ description: 'The alias, e.g. "production"; [a-z0-9][a-z0-9._-]{0,127}.' })
  @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias: string;

  @Field(() => Int, { description: 'The version number to point at.' })
  @IsInt() @Min(1)
  versionNumber: number;

  @Field(() => Int, { nullable: true, description: 'The revision you last saw (0 for a new alias); a mismatch is CONFLICT.' })
  @IsOptional() @IsInt() @Min(0)
  expectedRevision?: number | null;

  @Field(() => String, { nullable: true, description: 'Why, for the alias history.' })
  @IsOptional() @MaxLength(2000)
  reason?: string | null;
}

/** The fields of a remove-alias input after the parent's id. */
@InputType()
export abstract class RemoveAliasFields {
  @Field({ description: 'The alias to remove.' })
  @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias: string;

  @Field(() => Int, { nullable: true, description: 'The revision you last saw; a mismatch is CONFLICT.' })
  @IsOptional() @IsInt() @Min(0)
  expectedRevision?: number | null;

  @Field(() => String, { nullable: true, description: 'Why, for the alias history.' })
  @IsOptional() @MaxLength(2000)
  reason?: string | null;
}
