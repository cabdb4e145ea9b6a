import { DataSource } from 'typeorm';
import { pageLoader, rowLoader } from '../../graphql/page-loader';
import { AuditEvent } from './audit-event.entity';

export function auditLoaders(db: DataSource, batch: boolean) {
  return {
    auditEventById: rowLoader(db, AuditEvent, batch,
      (ids) => `SELECT * FROM audit_event WHERE id = ANY(${ids}::bigint[])`, (e) => String(e.id)),
    auditEventPages: pageLoader(db, AuditEvent, batch),
  };
}
