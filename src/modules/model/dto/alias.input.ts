import { IsString } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { RemoveAliasFields, SetAliasFields } from '../../../core/aliases/alias.base';
import { ModelAlias } from '../model-alias.entity';

@InputType({ description: 'Points an alias at a version, creating the alias if needed.' })
export class SetModelAliasInput extends SetAliasFields {
  @Field(() => ID, { description: 'The model.' })
  @IsString()
  modelId: string;
}

@InputType({ description: 'Removes an alias; its history is kept.' })
export class RemoveModelAliasInput extends RemoveAliasFields {
  @Field(() => ID, { description: 'The model.' })
  @IsString()
  modelId: string;
}

@ObjectType({ description: 'The alias after a move.' })
export class ModelAliasPayload {
  @Field(() => ModelAlias, { description: 'The alias as it now stands.' })
  alias: ModelAlias;
}
