import { IsString } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { RemoveAliasFields, SetAliasFields } from '../../../core/aliases/alias.base';
import { PromptAlias } from '../prompt-alias.entity';

@InputType({ description: 'Points a prompt alias at a version, creating the alias if needed.' })
export class SetPromptAliasInput extends SetAliasFields {
  @Field(() => ID, { description: 'The prompt.' })
  @IsString()
  promptId: string;
}

@InputType({ description: 'Removes a prompt alias; its history is kept.' })
export class RemovePromptAliasInput extends RemoveAliasFields {
  @Field(() => ID, { description: 'The prompt.' })
  @IsString()
  promptId: string;
}

@ObjectType({ description: 'The prompt alias after a move.' })
export class PromptAliasPayload {
  @Field(() => PromptAlias, { description: 'The alias as it now stands.' })
  alias: PromptAlias;
}
