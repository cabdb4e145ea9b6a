import { ArrayMaxSize, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { PromptVersion } from '../prompt-version.entity';

export const MAX_TEMPLATE_LENGTH = 100_000;
export const MAX_VARIABLES = 200;

@InputType({ description: 'Creates a new, immutable version of a prompt; the server assigns its number.' })
export class CreatePromptVersionInput {
  @Field(() => ID, { description: 'The prompt.' })
  @IsString()
  promptId: string;

  @Field({
    description: `The template in mustache syntax, at most ${MAX_TEMPLATE_LENGTH.toLocaleString('en-US')} characters; no partials. `
      + 'It is rendered without HTML escaping: {{x}} and {{{x}}} both insert the value as given.',
  })
  @Length(1, MAX_TEMPLATE_LENGTH)
  template: string;

  @Field(() => [String], {
    description: `The variables the template reads, at most ${MAX_VARIABLES}; each [A-Za-z][A-Za-z0-9_-]{0,63}. They must match the template: `
      + 'a name the template reads outside sections (or a section name) that is not declared, or a declared name the template '
      + 'never mentions, is BAD_USER_INPUT naming it. Names inside a {{#section}} may be fields of its value and need no declaration.',
  })
  @ArrayMaxSize(MAX_VARIABLES)
  variables: string[];

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Model parameters, e.g. {"temperature": 0.2, "max_tokens": 512}.' })
  @IsOptional()
  parameters?: Record<string, unknown> | null;

  @Field(() => ID, { nullable: true, description: 'The model version the prompt was written for; must be of the same project.' })
  @IsOptional() @IsString()
  modelVersionId?: string | null;

  @Field(() => String, { nullable: true, description: 'What changed in this version.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key (for the same prompt) returns the first version instead of a new one.' })
  @IsOptional() @Length(1, 256)
  idempotencyKey?: string | null;
}

@ObjectType({ description: 'The prompt version a mutation created.' })
export class PromptVersionPayload {
  @Field(() => PromptVersion, { description: 'The version as created (or as first created, for a replayed idempotencyKey).' })
  promptVersion: PromptVersion;
}

@ObjectType({ description: 'A prompt rendered with its variables.' })
export class RenderedPrompt {
  @Field({ description: 'The rendered text, not HTML-escaped.' })
  text: string;

  @Field(() => PromptVersion, { description: 'The version that was rendered (the one the alias pointed to, when rendered by alias).' })
  promptVersion: PromptVersion;
}
