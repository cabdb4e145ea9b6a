import { IsOptional, MaxLength } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { Prompt } from '../prompt.entity';
import { NamedInProjectFields } from '../../../core/graphql/named-in-project.input';

@InputType({ description: 'Registers a prompt in a project.' })
export class CreatePromptInput extends NamedInProjectFields {
  @Field(() => String, { nullable: true, description: 'What the prompt is for.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;
}

@ObjectType({ description: 'The prompt a mutation created or changed.' })
export class PromptPayload {
  @Field(() => Prompt, { description: 'The prompt after the change.' })
  prompt: Prompt;
}
