import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection } from '../../core/graphql/pagination';
import { Project } from '../project/project.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditEventConnection, AuditEventFilter, auditEventPage } from './audit.pages';

/** The field this module adds to Project: its audit log. */
@Resolver(() => Project)
export class ProjectAuditResolver {
  @FieldResolver(() => AuditEventConnection, { description: 'Audit records of mutations in this project, newest first.' })
  async auditEvents(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
  ): Promise<Connection<AuditEvent>> {
    const spec = auditEventPage({ first, after, filter });
    return pageConnection(await ctx.loaders.auditEventPages.load({ parentId: project.id, spec }), spec);
  }
}
