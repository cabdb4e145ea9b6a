import type { EntityManager, EntityTarget, FindOptionsWhere } from 'typeorm';
import type { Principal } from '../auth/principal';
import { recordAudit } from '../events/audit';
import { recordEvent } from '../events/registry-events';
import { RegistryEventType } from '../events/registry-event-type';
import { AppError } from '../graphql/errors';
import { NodeType, toGlobalId } from '../graphql/ids';
import type { AliasBase, AliasEventBase } from './alias.base';

/**
 * The writes every kind of alias makes the same way (see alias.base.ts): the row's upsert with
 * its revision, the move in the history, the audit record and the registry event. The feature
 * keeps what is its own: finding and locking the parent, which versions may be aliased, the
 * hooks of later modules (a promotion policy), and what it announces after commit.
 */

/** Where one kind of alias is stored, and the names its records carry. */
export interface AliasKind<A extends AliasBase, E extends AliasEventBase> {
  alias: EntityTarget<A>;
  event: EntityTarget<E>;
  /** The alias table and its parent's key column (`model_alias`, `model_id`). */
  table: string;
  parentColumn: string;
  /** The parent's key property on the alias and event entities (`modelId`). */
  parentKey: keyof A & keyof E & string;
  /** Node types of the parent (the audit's target) and of its versions (ids in the audit record). */
  parentType: NodeType;
  versionType: NodeType;
  /** Audit actions `<prefix>.set` and `<prefix>.remove` (`alias`, `promptAlias`). */
  auditPrefix: string;
  /** Registry event types of a set and of a removal, and the node type of their subject (the event row). */
  setEvent: RegistryEventType;
  removeEvent: RegistryEventType;
  eventType: NodeType;
}

/** The parent an alias belongs to, held locked by the caller. */
export interface AliasParent {
  id: string;
  projectId: string;
  nodeId: string;
}

/** Refuses a move made against another revision than the alias is at (optimistic concurrency). */
export function checkRevision(current: { revision: number } | null, expected: number | null | undefined): void {
  if (expected === null || expected === undefined) return;
  const have = current?.revision ?? 0;
  if (have !== expected) {
    throw new AppError('CONFLICT', `The alias is at revision ${have}, not ${expected}; reload and retry`, { currentRevision: have });
  }
}

/** The alias row (set or removed), or null when the parent never had that alias. */
export function findAlias<A extends AliasBase, E extends AliasEventBase>(
  m: EntityManager, kind: AliasKind<A, E>, parentId: string, name: string,
): Promise<A | null> {
  return m.findOneBy(kind.alias, { [kind.parentKey]: parentId, name } as FindOptionsWhere<A>);
}

/**
 * Points the alias at `version`, which the caller has checked may be aliased and differs from
 * where the alias points now (`current`). Returns the alias as stored.
 */
export async function writeAliasSet<A extends AliasBase, E extends AliasEventBase>(
  m: EntityManager, kind: AliasKind<A, E>, actor: Principal, parent: AliasParent, current: A | null,
  version: { id: string; nodeId: string; number: number }, input: { alias: string; reason?: string | null },
): Promise<A> {
  const revision = (current?.revision ?? 0) + 1;
  await m.query(
    `INSERT INTO ${kind.table} (project_id, ${kind.parentColumn}, name, version_id, revision, updated_at, updated_by)
     VALUES ($6, $1, $2, $3, $4, now(), $5)
     ON CONFLICT (${kind.parentColumn}, name) DO UPDATE SET version_id = $3, revision = $4, updated_at = now(), updated_by = $5`,
    [parent.id, input.alias, version.id, revision, actor.name, parent.projectId],
  );
  const eventId = await insertMove(m, kind, actor, parent, input, current?.versionId ?? null, version.id);
  const after = await m.findOneByOrFail(kind.alias, { [kind.parentKey]: parent.id, name: input.alias } as FindOptionsWhere<A>);
  await recordAudit(m, {
    projectId: parent.projectId, actor: actor.name, action: `${kind.auditPrefix}.set`, targetType: kind.parentType, targetId: parent.nodeId,
    before: current?.versionId ? { alias: input.alias, versionId: toGlobalId(kind.versionType, current.versionId), revision: current.revision } : null,
    after: { alias: input.alias, versionId: version.nodeId, versionNumber: version.number, revision, reason: input.reason ?? null },
  });
  await recordEvent(m, { projectId: parent.projectId, type: kind.setEvent, actor: actor.name, subjectType: kind.eventType, subjectId: eventId });
  return after;
}

/** Removes the alias `current`, which the caller has checked is set. The row stays, keeping the revision counter. */
export async function writeAliasRemove<A extends AliasBase, E extends AliasEventBase>(
  m: EntityManager, kind: AliasKind<A, E>, actor: Principal, parent: AliasParent, current: A & { versionId: string },
  input: { alias: string; reason?: string | null },
): Promise<void> {
  await m.query(
    `UPDATE ${kind.table} SET version_id = NULL, revision = revision + 1, updated_at = now(), updated_by = $3 WHERE ${kind.parentColumn} = $1 AND name = $2`,
    [parent.id, input.alias, actor.name],
  );
  const eventId = await insertMove(m, kind, actor, parent, input, current.versionId, null);
  await recordAudit(m, {
    projectId: parent.projectId, actor: actor.name, action: `${kind.auditPrefix}.remove`, targetType: kind.parentType, targetId: parent.nodeId,
    before: { alias: input.alias, versionId: toGlobalId(kind.versionType, current.versionId), revision: current.revision },
    after: { alias: input.alias, versionId: null, revision: current.revision + 1, reason: input.reason ?? null },
  });
  await recordEvent(m, { projectId: parent.projectId, type: kind.removeEvent, actor: actor.name, subjectType: kind.eventType, subjectId: eventId });
}

/** Appends a move to the alias history; returns its id. */
async function insertMove<A extends AliasBase, E extends AliasEventBase>(
  m: EntityManager, kind: AliasKind<A, E>, actor: Principal, parent: AliasParent,
  input: { alias: string; reason?: string | null }, fromVersionId: string | null, toVersionId: string | null,
): Promise<string> {
  const moved = await m.insert(kind.event, {
    projectId: parent.projectId, [kind.parentKey]: parent.id, alias: input.alias, fromVersionId, toVersionId,
    actor: actor.name, reason: input.reason ?? null,
  } as never);
  return String(moved.identifiers[0].id);
}
