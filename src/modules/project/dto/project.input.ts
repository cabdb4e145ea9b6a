import { IsOptional, Length, Matches, MaxLength } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { NAME_PATTERN, NAME_RULE } from '../../../core/graphql/names';
import { ConnectionType } from '../../../core/graphql/pagination';
import { Project } from '../project.entity';

@InputType({ description: 'Creates a project.' })
export class CreateProjectInput {
  @Field({ description: 'Unique handle; [a-z0-9][a-z0-9._-]{0,127}.' })
  @Matches(NAME_PATTERN, { message: `slug ${NAME_RULE}` })
  slug: string;

  @Field({ description: 'Display name.' })
  @Length(1, 256)
  name: string;

  @Field(() => String, { nullable: true, description: 'What the project is for.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;
}

@ObjectType({ description: 'The project a mutation created.' })
export class ProjectPayload {
  @Field(() => Project, { description: 'The project.' })
  project: Project;
}

export const ProjectConnection = ConnectionType(Project, 'Project', 'project');
