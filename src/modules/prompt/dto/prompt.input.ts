import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { NAME_PATTERN, NAME_RULE } from '../../../core/graphql/names';
import { Prompt } from '../prompt.entity';

@InputType({ description: 'Registers a prompt in a project.' })
export class CreatePromptInput {
  @Field({ description: 'Slug of the project.' })
  @IsString()
  projectSlug: string;

  @Field({ description: 'Unique within the project; [a-z0-9][a-z0-9._-]{0,127}.' })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name: string;

  @Field(() => String, { nullable: true, description: 'What the prompt is for.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;
}

@ObjectType({ description: 'The prompt a mutation created or changed.' })
export class PromptPayload {
  @Field(() => Prompt, { description: 'The prompt after the change.' })
  prompt: Prompt;
}
