import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { AFTER_ARG, Connection, FIRST_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { Model } from '../model/model.entity';
import { ModelVersion } from '../model/model-version.entity';
import { PromptVersion } from '../prompt/prompt-version.entity';
import {
  CreateDeploymentInput, DeploymentPayload, DeploymentRevisionConnection, DeploymentRoutesPayload, MAX_ROUTES, SetDeploymentRoutesInput,
} from './dto/deployment.input';
import { Deployment, DeploymentRevision, DeploymentRoute } from './deployment.entity';
import { deploymentRevisionPage } from './deployment.pages';
import { createDeployment, setDeploymentRoutes } from './deployment.service';

/** Copies of a revision's routes, read at `at` (null: now); the loader's cached rows stay as they are. */
async function routesOf(ctx: Context, revision: DeploymentRevision | null, at: Date | null): Promise<DeploymentRoute[]> {
  if (!revision) return [];
  return (await ctx.loaders.deploymentRoutesByRevision.load(String(revision.id))).map((r) => Object.assign(new DeploymentRoute(), r, { at, deploymentId: revision.deploymentId }));
}

@Resolver(() => Deployment)
export class DeploymentResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @Mutation(() => DeploymentPayload, {
    description: 'Creates a deployment of a project in an environment, at revision 0 with no routes; a name taken in the project is CONFLICT. Needs EDITOR.',
  })
  async createDeployment(@Arg('input', { description: 'The new deployment.' }) input: CreateDeploymentInput, @Ctx() ctx: Context): Promise<DeploymentPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    return { deployment: await ctx.db.transaction((m) => createDeployment(m, ctx.principal!, project.id, input)) };
  }

  @Allow(Role.EDITOR, fromId('input.deploymentId', 'Deployment'))
  @Mutation(() => DeploymentRoutesPayload, {
    description: 'Replaces the routes of a deployment with a new revision; the one in force until now stays in its history. '
      + `Takes 1 to ${MAX_ROUTES} routes with distinct names, whose weights sum to exactly 100 (any other sum is BAD_USER_INPUT naming `
      + '`routes`). Each route pins a READY model version, or follows a model alias that is set; ids of another project are NOT_FOUND '
      + 'as missing ones are. expectedRevision must be the revision in force, else CONFLICT and nothing changes. A set equal to the one '
      + 'in force makes no revision. '
      + 'Promotion policies: a route that follows a protected alias is guarded by the alias\'s policy on every move of the alias. A route '
      + 'that followed a protected alias in the revision in force, and under the same name now pins a version (or follows another alias), '
      + 'is held to that policy as if the alias were moved to the version the route now reaches: FORBIDDEN where the policy asks for '
      + 'approvals, CONFLICT where the version fails its gates (as setModelAlias answers). When no route follows that alias any more '
      + '(its route renamed or removed), every new or changed route is held to the policy the same way. The version the alias points to '
      + 'now is always admitted. Needs EDITOR.',
  })
  async setDeploymentRoutes(
    @Arg('input', { description: 'The deployment, its new routes and the revision they replace.' }) input: SetDeploymentRoutesInput, @Ctx() ctx: Context,
  ): Promise<DeploymentRoutesPayload> {
    const deployment = await loadByGlobalId(ctx.loaders, Deployment, input.deploymentId, 'deploymentId');
    return ctx.db.transaction((m) => setDeploymentRoutes(m, ctx.principal!, deployment.id, input));
  }

  @FieldResolver(() => Project, { description: 'The project the deployment belongs to.' })
  async project(@Root() deployment: Deployment, @Ctx() ctx: Context): Promise<Project> {
    return (await ctx.loaders.projectById.load(deployment.projectId))!;
  }

  @FieldResolver(() => [DeploymentRoute], {
    description: 'The routes in force now, or (asOf) at a past moment: what served the traffic then. An alias-following route '
      + 'answers the version its alias pointed to at that same moment. Empty before the first routes were set.',
  })
  async routes(
    @Root() deployment: Deployment,
    @Arg('asOf', () => Date, { nullable: true, description: 'A past moment; omitted: now.' }) asOf: Date | null,
    @Ctx() ctx: Context,
  ): Promise<DeploymentRoute[]> {
    return routesOf(ctx, await ctx.loaders.deploymentRevisionAt.load([deployment.id, asOf ?? null]), asOf ?? null);
  }

  @FieldResolver(() => DeploymentRevision, { nullable: true, description: 'The revision in force at a moment: who set it, when and why; null before the first.' })
  revisionAt(
    @Root() deployment: Deployment,
    @Arg('asOf', () => Date, { description: 'The moment.' }) asOf: Date,
    @Ctx() ctx: Context,
  ): Promise<DeploymentRevision | null> {
    return ctx.loaders.deploymentRevisionAt.load([deployment.id, asOf]);
  }

  @FieldResolver(() => DeploymentRevisionConnection, { description: 'Every revision of the routes, newest first.' })
  async history(
    @Root() deployment: Deployment,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<DeploymentRevision>> {
    const spec = deploymentRevisionPage({ first, after });
    return pageConnection(await ctx.loaders.deploymentRevisionPages.load({ parentId: deployment.id, spec }), spec);
  }
}

@Resolver(() => DeploymentRevision)
export class DeploymentRevisionResolver {
  @FieldResolver(() => [DeploymentRoute], {
    description: 'The routes of this revision, in the order they were given. An alias-following route answers the version its alias '
      + 'pointed to when this revision took over (validFrom); for another moment, read Deployment.routes(asOf:).',
  })
  routes(@Root() revision: DeploymentRevision, @Ctx() ctx: Context): Promise<DeploymentRoute[]> {
    return routesOf(ctx, revision, revision.validFrom);
  }

  @FieldResolver(() => Deployment, { description: 'The deployment this is a revision of.' })
  async deployment(@Root() revision: DeploymentRevision, @Ctx() ctx: Context): Promise<Deployment> {
    return (await ctx.loaders.deploymentById.load(revision.deploymentId))!;
  }
}

@Resolver(() => DeploymentRoute)
export class DeploymentRouteResolver {
  @FieldResolver(() => Model, { description: 'The model the route serves: the pinned version\'s, or the one whose alias it follows.' })
  async model(@Root() route: DeploymentRoute, @Ctx() ctx: Context): Promise<Model> {
    return (await ctx.loaders.modelById.load(route.modelId))!;
  }

  @FieldResolver(() => ModelVersion, {
    nullable: true,
    description: 'The version that takes this route\'s traffic: the pinned one, or the one the followed alias points to at the moment '
      + 'the route is read at; null if the alias pointed nowhere then (it was removed).',
  })
  async modelVersion(@Root() route: DeploymentRoute, @Ctx() ctx: Context): Promise<ModelVersion | null> {
    let versionId: string | null;
    if (route.modelVersionId) versionId = route.modelVersionId;
    else if (route.at) versionId = await ctx.loaders.aliasAsOf.load([route.modelId, route.alias!, route.at]);
    else versionId = (await ctx.loaders.aliasesByModel.load(route.modelId)).find((a) => a.name === route.alias)?.versionId ?? null;
    return versionId ? ctx.loaders.modelVersionById.load(versionId) : null;
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'The prompt version served with the model; null when the route names none.' })
  promptVersion(@Root() route: DeploymentRoute, @Ctx() ctx: Context): Promise<PromptVersion | null> | null {
    return route.promptVersionId ? ctx.loaders.promptVersionById.load(route.promptVersionId) : null;
  }
}
