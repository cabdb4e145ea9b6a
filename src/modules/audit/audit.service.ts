import { EntityManager } from 'typeorm';
import { AuditEvent } from './audit-event.entity';

export interface AuditEntry {
  projectId: string | null;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
}

/** Strips what must never be logged and turns entities into plain JSON. */
function snapshot(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const plain = JSON.parse(JSON.stringify(value));
  if (plain && typeof plain === 'object') delete (plain as Record<string, unknown>).secretHash;
  return plain;
}

/** Writes the audit record in the caller's transaction, so it commits exactly with the change. */
export async function recordAudit(m: EntityManager, e: AuditEntry): Promise<void> {
  await m.insert(AuditEvent, {
    projectId: e.projectId,
    actor: e.actor,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    details: { before: snapshot(e.before), after: snapshot(e.after) } as Record<string, unknown> as never,
  });
}
