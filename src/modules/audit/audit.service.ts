import { DataSource } from 'typeorm';
import { Params, hydrate } from '../../core/db/sql';
import { PageSpec } from '../../core/graphql/page-loader';
import { AuditEvent } from './audit-event.entity';

/**
 * One keyset page of the audit records that belong to no project (changes to keys of every
 * project), in the order and with the filters of `spec` (see `auditEventPage`). It walks the
 * `(project_id, id DESC)` index at its NULL end, like a project's page walks that project's.
 */
export async function globalAuditEventPage(db: DataSource, spec: PageSpec): Promise<AuditEvent[]> {
  const p = new Params();
  const conds = [`t.${spec.parentColumn} IS NULL`];
  const extra = spec.where(p);
  if (extra) conds.push(extra);
  const dir = spec.desc ? 'DESC' : 'ASC';
  if (spec.after) {
    const cols = spec.keyColumns.map((c) => `t.${c.column}`).join(', ');
    const vals = spec.keyColumns.map((c, i) => `${p.add(spec.after![i])}::${c.type}`).join(', ');
    conds.push(`(${cols}) ${spec.desc ? '<' : '>'} (${vals})`);
  }
  const order = spec.keyColumns.map((c) => `t.${c.column} ${dir}`).join(', ');
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT t.* FROM ${spec.table} t WHERE ${conds.join(' AND ')} ORDER BY ${order} LIMIT ${p.add(spec.limit)}`, p.values,
  );
  return hydrate(db, AuditEvent, rows);
}
