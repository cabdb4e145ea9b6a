import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { AuditEvent } from './audit-event.entity';
import { auditLoaders } from './audit.loaders';
import { GlobalAuditResolver } from './audit.resolver';
import { ProjectAuditResolver } from './project.fields';

/** The audit log: reading what `core/events/audit.ts` writes in every mutation's transaction. */
export const auditModule: ModuleDescriptor = {
  name: 'audit',
  entities: [AuditEvent],
  resolvers: [ProjectAuditResolver, GlobalAuditResolver],
  loaders: auditLoaders,
  nodeTypes: [
    defineNodeType({ name: 'AuditEvent', cls: AuditEvent, key: 'bigint', load: (l, k) => l.auditEventById.load(k), projectOf: (r) => r.projectId }),
  ],
};
