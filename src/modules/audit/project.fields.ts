import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
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
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('filter', () => AuditEventFilter, { nullable: true, description: 'Only audit records that match.' }) filter: AuditEventFilter | null,
  ): Promise<Connection<AuditEvent>> {
    const spec = auditEventPage({ first, after, filter });
    return pageConnection(await ctx.loaders.auditEventPages.load({ parentId: project.id, spec }), spec);
  }
}
