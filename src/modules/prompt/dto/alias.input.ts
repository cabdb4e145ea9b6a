import { IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { NAME_PATTERN, NAME_RULE } from '../../../core/graphql/names';
import { PromptAlias } from '../prompt-alias.entity';

@InputType({ description: 'Points a prompt alias at a version, creating the alias if needed.' })
export class SetPromptAliasInput {
  @Field(() => ID, { description: 'The prompt.' })
  @IsString()
  promptId: string;

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

@InputType({ description: 'Removes a prompt alias; its history is kept.' })
export class RemovePromptAliasInput {
  @Field(() => ID, { description: 'The prompt.' })
  @IsString()
  promptId: string;

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

@ObjectType({ description: 'The prompt alias after a move.' })
export class PromptAliasPayload {
  @Field(() => PromptAlias, { description: 'The alias as it now stands.' })
  alias: PromptAlias;
}
