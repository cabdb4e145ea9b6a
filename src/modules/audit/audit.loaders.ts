import { DataSource } from 'typeorm';
import { pageLoader, rowLoader } from '../../core/graphql/page-loader';
import { AuditEvent } from './audit-event.entity';

export function auditLoaders(db: DataSource, batch: boolean) {
  return {
    auditEventById: rowLoader(db, AuditEvent, batch,
      (ids) => `SELECT * FROM audit_event WHERE id = ANY(${ids}::bigint[])`, (e) => String(e.id)),
    auditEventPages: pageLoader(db, AuditEvent, batch),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof auditLoaders> {}
}
