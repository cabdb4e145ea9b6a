import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { AFTER_ARG, Connection, FIRST_ARG } from '../../core/graphql/pagination';
import { Project } from '../project/project.entity';
import { DeploymentConnection } from './dto/deployment.input';
import { Deployment } from './deployment.entity';
import { deploymentPage } from './deployment.pages';

/** The fields this module adds to Project: its deployments. */
@Resolver(() => Project)
export class ProjectDeploymentsResolver {
  @FieldResolver(() => DeploymentConnection, { description: 'Deployments of the project, by name.' })
  async deployments(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('environment', () => String, { nullable: true, description: 'Only the deployments of this environment; omitted: of every environment.' })
    environment: string | null,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<Deployment>> {
    const spec = deploymentPage({ environment, first, after });
    return pageConnection(await ctx.loaders.deploymentPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => Deployment, { nullable: true, description: 'A deployment by name; null when there is none.' })
  deployment(@Root() project: Project, @Arg('name', { description: 'The deployment\'s name.' }) name: string, @Ctx() ctx: Context): Promise<Deployment | null> {
    return ctx.loaders.deploymentByProjectAndName.load([project.id, name]);
  }
}
