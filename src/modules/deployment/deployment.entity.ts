import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

/** The node type of a Deployment: its global ids are toGlobalId(DEPLOYMENT_NODE_TYPE, uuid). */
export const DEPLOYMENT_NODE_TYPE = 'Deployment';

@Entity('deployment')
@ObjectType({
  implements: Node,
  description: 'Where a project serves traffic in one environment (for example "staging" or "production"): an endpoint and its '
    + 'weighted routes to model versions. Every change of the routes is a new revision and all are kept, so the routes that '
    + 'served traffic at any past moment can be read back (routes(asOf:), history).',
})
export class Deployment implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId(DEPLOYMENT_NODE_TYPE, this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column()
  @Field({ description: 'Unique within its project; matches [a-z0-9][a-z0-9._-]{0,127}.' })
  name: string;

  @Column()
  @Field({ description: 'The environment it serves, e.g. "staging", "production"; matches [a-z0-9][a-z0-9._-]{0,127}.' })
  environment: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Where clients send requests, e.g. a URL; as given, not checked.' })
  endpoint: string | null;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What the deployment is for, for people.' })
  description: string | null;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'The revision of the routes in force: 0 before the first setDeploymentRoutes, then 1, 2, 3 ... Pass it as expectedRevision.' })
  revision: number;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the deployment was created.' })
  createdAt: Date;

  @Column({ name: 'created_by' })
  @Field({ description: 'Name of the API key that created it.' })
  createdBy: string;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the deployment or its routes last changed.' })
  updatedAt: Date;
}

@Entity('deployment_revision')
@ObjectType({ description: 'One route set of a deployment, as it was set: by whom, when, why, and until when it was in force.' })
export class DeploymentRevision {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  @Column({ name: 'deployment_id', type: 'uuid' })
  deploymentId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: '1, 2, 3 ... per deployment, without gaps.' })
  revision: number;

  @Column({ name: 'valid_from', type: 'timestamptz', precision: 3 })
  @Field({ description: 'When this route set took over the traffic.' })
  validFrom: Date;

  @Column({ name: 'valid_to', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When the next revision replaced it; null while it is in force.' })
  validTo: Date | null;

  @Column()
  @Field({ description: 'Name of the API key that set it.' })
  actor: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Why, as the actor gave it.' })
  reason: string | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;
}

@Entity('deployment_route')
@ObjectType({
  description: 'One route of a deployment: a share of its traffic (weight, in percent) sent to a model version, either pinned or '
    + 'followed through a model alias (then the version is wherever the alias points, and moves with it), optionally with a prompt version.',
})
export class DeploymentRoute {
  @PrimaryColumn({ name: 'revision_id', type: 'bigint' })
  revisionId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @PrimaryColumn({ type: 'smallint' })
  position: number;

  @Column()
  @Field({ description: 'The route\'s name within the deployment, e.g. "control", "candidate"; stable across revisions.' })
  name: string;

  @Column({ type: 'smallint' })
  @Field(() => Int, { description: 'Percent of the traffic, 0 to 100; the routes of a revision sum to 100.' })
  weight: number;

  @Column({ name: 'model_id', type: 'uuid' })
  modelId: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'The model alias the route follows; null for a route pinned to a version.' })
  alias: string | null;

  @Column({ name: 'model_version_id', type: 'uuid', nullable: true })
  modelVersionId: string | null;

  @Column({ name: 'prompt_version_id', type: 'uuid', nullable: true })
  promptVersionId: string | null;

  /** The deployment of the route's revision; set on the copy each read makes (see `at`). */
  deploymentId: string;

  /**
   * The moment the route is read at (routes(asOf:)); null: now. An alias-following route
   * resolves its version at this moment. Set on a copy per read, never on a loader's cached row.
   */
  at: Date | null;
}
