import { EntityManager } from 'typeorm';

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

/**
 * Writes the audit record in the caller's transaction, so it commits exactly with the change.
 * Plain SQL: the kernel writes the `audit_event` table that the audit module reads and serves.
 */
export async function recordAudit(m: EntityManager, e: AuditEntry): Promise<void> {
  await m.query(
    `INSERT INTO audit_event (project_id, actor, action, target_type, target_id, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
    [e.projectId, e.actor, e.action, e.targetType, e.targetId, JSON.stringify({ before: snapshot(e.before), after: snapshot(e.after) })],
  );
}
