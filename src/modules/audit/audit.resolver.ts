import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { AFTER_ARG, Connection, FIRST_ARG } from '../../core/graphql/pagination';
import { Allow, GLOBAL } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { AuditEvent } from './audit-event.entity';
import { AuditEventConnection, AuditEventFilter, auditEventPage } from './audit.pages';
import { globalAuditEventPage } from './audit.service';

@Resolver()
export class GlobalAuditResolver {
  // Records of no project: only the admins of every project, who made them, may read them.
  @Allow(Role.ADMIN, GLOBAL)
  @Query(() => AuditEventConnection, {
    description: 'Audit records that belong to no project, newest first: changes to API keys valid for every project. '
      + 'A project\'s own records are its `auditEvents`. Needs an ADMIN key of no single project.',
  })
  async auditEvents(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('filter', () => AuditEventFilter, { nullable: true, description: 'Only the records matching every condition given.' })
    filter: AuditEventFilter | null,
  ): Promise<Connection<AuditEvent>> {
    const spec = auditEventPage({ first, after, filter });
    return pageConnection(await globalAuditEventPage(ctx.db, spec), spec);
  }
}
