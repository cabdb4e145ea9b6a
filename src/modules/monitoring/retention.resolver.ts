import { Arg, Ctx, ID, Int, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { Project } from '../project/project.entity';
import { RETENTION_RULE, setMetricRetention } from './retention.service';

@Resolver(() => Project)
export class RetentionResolver {
  @Allow(Role.ADMIN, fromId('projectId', 'Project'))
  @Mutation(() => Project, { description: `Sets how long the project's metric points are kept. ${RETENTION_RULE} Needs ADMIN of the project.` })
  async setMetricRetention(
    @Arg('projectId', () => ID, { description: 'The project.' }) projectId: string,
    @Arg('days', () => Int, { nullable: true, description: 'Days to keep, or null to keep everything.' }) days: number | null,
    @Ctx() ctx: Context,
  ): Promise<Project> {
    const project = await loadByGlobalId(ctx.loaders, Project, projectId);
    const set = await ctx.db.transaction((m) => setMetricRetention(m, ctx.principal!, project.id, days ?? null));
    ctx.loaders.metricRetentionByProject.clear(project.id).prime(project.id, set);
    return project;
  }
}
