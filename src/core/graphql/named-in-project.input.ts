import { IsString, Matches } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { NAME_PATTERN, NAME_RULE } from './names';

/**
 * The first fields of every input that creates a named thing in a project (a model, dataset,
 * feature set, prompt, deployment): each feature's create input extends it and adds its own.
 * type-graphql puts a base class's fields first, so these stay the first two in the schema.
 */
@InputType()
export abstract class NamedInProjectFields {
  @Field({ description: 'Slug of the project.' })
  @IsString()
  projectSlug: string;

  @Field({ description: 'Unique within the project; [a-z0-9][a-z0-9._-]{0,127}.' })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name: string;
}
