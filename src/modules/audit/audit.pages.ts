import { IsOptional, IsString, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { PageSpec, pageSpec } from '../../core/graphql/page-loader';
import { ConnectionType, pageSize } from '../../core/graphql/pagination';
import { AuditEvent } from './audit-event.entity';

@InputType({ description: 'Narrows the audit log; all given conditions must hold.' })
export class AuditEventFilter {
  @Field(() => String, { nullable: true, description: 'Only this action, e.g. "alias.set".' })
  @IsOptional() @MaxLength(128)
  action?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only changes to this object.' })
  @IsOptional() @IsString()
  targetId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only changes by this API key name.' })
  @IsOptional() @MaxLength(256)
  actor?: string | null;

  @Field(() => Date, { nullable: true, description: 'At or after this time.' })
  @IsOptional()
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Before this time.' })
  @IsOptional()
  to?: Date | null;
}

export const AuditEventConnection = ConnectionType(AuditEvent, 'AuditEvent', 'audit event');

export function auditEventPage(args: { first?: number | null; after?: string | null; filter?: AuditEventFilter | null }): PageSpec {
  const f = args.filter;
  return pageSpec({
    table: 'audit_event', parentColumn: 'project_id',
    sort: { tag: 'audit', desc: true, columns: [{ column: 'id', type: 'bigint', prop: 'id' }] },
    first: pageSize(args.first), after: args.after, filterKey: f ?? null,
    where: (p) => {
      const conds: string[] = [];
      if (f?.action) conds.push(`t.action = ${p.add(f.action)}`);
      if (f?.targetId) conds.push(`t.target_id = ${p.add(f.targetId)}`);
      if (f?.actor) conds.push(`t.actor = ${p.add(f.actor)}`);
      if (f?.from) conds.push(`t.at >= ${p.add(f.from)}`);
      if (f?.to) conds.push(`t.at < ${p.add(f.to)}`);
      return conds.length ? conds.join(' AND ') : null;
    },
  });
}
