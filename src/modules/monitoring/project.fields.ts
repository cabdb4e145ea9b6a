import { Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { Project } from '../project/project.entity';
import { RETENTION_RULE } from './retention.service';

@Resolver(() => Project)
export class ProjectRetentionFields {
  @FieldResolver(() => Int, { nullable: true, description: `${RETENTION_RULE} Set with setMetricRetention.` })
  metricRetentionDays(@Root() project: Project, @Ctx() ctx: Context): Promise<number | null> {
    return ctx.loaders.metricRetentionByProject.load(project.id);
  }
}
