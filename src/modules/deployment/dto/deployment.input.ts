import { ArrayMaxSize, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { NAME_PATTERN, NAME_RULE } from '../../../core/graphql/names';
import { ConnectionType } from '../../../core/graphql/pagination';
import { Deployment, DeploymentRevision } from '../deployment.entity';
import { NamedInProjectFields } from '../../../core/graphql/named-in-project.input';

/** Routes of one revision at most: a deployment splits traffic a few ways, not hundreds. */
export const MAX_ROUTES = 20;

@InputType({ description: 'Creates a deployment of a project in an environment; its routes come with setDeploymentRoutes.' })
export class CreateDeploymentInput extends NamedInProjectFields {
  @Field({ description: 'The environment, e.g. "staging" or "production"; [a-z0-9][a-z0-9._-]{0,127}.' })
  @Matches(NAME_PATTERN, { message: `environment ${NAME_RULE}` })
  environment: string;

  @Field(() => String, { nullable: true, description: 'Where clients send requests, e.g. a URL; at most 2,048 characters.' })
  @IsOptional() @Length(1, 2048)
  endpoint?: string | null;

  @Field(() => String, { nullable: true, description: 'What the deployment is for.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;
}

@InputType({
  description: 'One route: a name, a weight, and where the traffic goes: exactly one of modelVersionId (pinned) or modelId with '
    + 'alias (followed: the traffic goes wherever the alias points, and moves with it).',
})
export class DeploymentRouteInput {
  @Field({ description: 'Unique within the route set, e.g. "control", "candidate"; [a-z0-9][a-z0-9._-]{0,127}. The same name across revisions is the same route.' })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name: string;

  @Field(() => Int, { description: 'Percent of the traffic, 0 to 100; the weights of the set must sum to 100.' })
  @IsInt() @Min(0) @Max(100)
  weight: number;

  @Field(() => ID, { nullable: true, description: 'A READY model version of the project to pin the route to.' })
  @IsOptional() @IsString()
  modelVersionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The model whose alias the route follows; with alias.' })
  @IsOptional() @IsString()
  modelId?: string | null;

  @Field(() => String, { nullable: true, description: 'The alias to follow, e.g. "production"; with modelId. It must be set now.' })
  @IsOptional() @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias?: string | null;

  @Field(() => ID, { nullable: true, description: 'A prompt version of the project to serve with the model.' })
  @IsOptional() @IsString()
  promptVersionId?: string | null;
}

@InputType({ description: 'Replaces the whole route set of a deployment with a new revision.' })
export class SetDeploymentRoutesInput {
  @Field(() => ID, { description: 'The deployment.' })
  @IsString()
  deploymentId: string;

  @Field(() => [DeploymentRouteInput], { description: `The new routes, 1 to ${MAX_ROUTES}; their weights must sum to exactly 100.` })
  @ArrayMaxSize(MAX_ROUTES) @ValidateNested({ each: true })
  routes: DeploymentRouteInput[];

  @Field(() => Int, { description: 'The revision you last read (Deployment.revision; 0 before the first routes). Another revision is in force: CONFLICT, and nothing changes.' })
  @IsInt() @Min(0)
  expectedRevision: number;

  @Field(() => String, { nullable: true, description: 'Why, for the history.' })
  @IsOptional() @MaxLength(2000)
  reason?: string | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key (for the same deployment) answers the revision the first call made, instead of CONFLICT.' })
  @IsOptional() @Length(1, 256)
  idempotencyKey?: string | null;
}

@ObjectType({ description: 'The deployment a mutation created or changed.' })
export class DeploymentPayload {
  @Field(() => Deployment, { description: 'The deployment after the change.' })
  deployment: Deployment;
}

@ObjectType({ description: 'A deployment after setDeploymentRoutes, and the revision in force.' })
export class DeploymentRoutesPayload {
  @Field(() => Deployment, { description: 'The deployment after the change.' })
  deployment: Deployment;

  @Field(() => DeploymentRevision, {
    description: 'The revision the call made (for a replayed idempotencyKey: the one the first call made; for a route set equal to the one in force: that one).',
  })
  revision: DeploymentRevision;
}

export const DeploymentConnection = ConnectionType(Deployment, 'Deployment', 'deployment');
export const DeploymentRevisionConnection = ConnectionType(DeploymentRevision, 'DeploymentRevision', 'deployment revision');
