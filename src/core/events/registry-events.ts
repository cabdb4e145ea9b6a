import { EntityManager } from 'typeorm';
import type { NodeType } from '../graphql/ids';
import { RegistryEventType } from './registry-event-type';
import { EVENTS_CHANNEL, POINTS_CHANNEL } from './channels';
import { declareStreamWriter } from './stream-writers';

export { EVENTS_CHANNEL, POINTS_CHANNEL };

export interface EventEntry {
  projectId: string;
  type: RegistryEventType;
  actor: string;
  subjectType: NodeType;
  /** The subject's row key (not its global id). */
  subjectId: string;
}

/**
 * Appends a registry event in the caller's transaction and announces it with NOTIFY, which
 * PostgreSQL delivers only when that transaction commits: a rolled-back change is never
 * stored nor announced, and every server listening on the database hears a committed one.
 *
 * The INSERT reads its row from the project's stream-writer declaration (stream-writers.ts), so
 * the transaction holds that lock and has its xid before the event's id is drawn: the stream's
 * ordering guarantee relies on both (see event-hub.ts).
 */
export async function recordEvent(m: EntityManager, e: EventEntry): Promise<void> {
  await m.query(
    `WITH e AS (
       INSERT INTO registry_event (project_id, type, actor, subject_type, subject_id)
       SELECT $1, $2, $3, $4, $5 FROM (${declareStreamWriter(e.projectId)}) AS writer RETURNING id
     )
     SELECT pg_notify('${EVENTS_CHANNEL}', $1 || ':' || e.id) FROM e`,
    [e.projectId, e.type, e.actor, e.subjectType, e.subjectId],
  );
}
