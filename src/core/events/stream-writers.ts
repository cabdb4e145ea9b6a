/**
 * How a transaction that writes a stream table (registry_event, metric_point) says which
 * project it writes for, so that a live stream's horizon (event-hub.ts) waits only for the
 * writers of its own project.
 *
 * The writer takes a shared transaction-level advisory lock, first key STREAM_WRITER_LOCK,
 * second key derived from the project id, before it draws any row id, and holds it until it
 * ends (shared: writers never wait on one another). pg_locks then names, for every transaction
 * writing the table, the projects it writes. The same statement assigns the transaction its
 * xid (pg_current_xact_id), which the horizon needs to wait for it: from here on no writer
 * depends on having written something else first.
 *
 * Two projects whose keys collide (31 bits of a random uuid) wait on each other's writers, as
 * every project did before: slower, never wrong. A transaction that writes the table without
 * taking the lock (a hand-written INSERT, the storage round moving rows between partitions) is
 * waited for by every project, as before.
 */

/** First key of the writers' advisory lock: an arbitrary constant of this code ("mgsw"). */
export const STREAM_WRITER_LOCK = 0x6d67_7377;

/** The second key: 31 bits of the project's uuid, so it is a non-negative int4 (pg_locks shows it as objid). */
export function projectLockKey(projectId: string): number {
  const key = Number.parseInt(projectId.replace(/-/g, '').slice(0, 8), 16);
  if (!Number.isFinite(key)) throw new Error(`not a project id: ${projectId}`);
  return key & 0x7fff_ffff;
}

/**
 * The SQL (no parameters; the keys are numbers of this code) that declares the caller's
 * transaction a writer of `projectId`'s streams: a statement of its own, or a FROM item that
 * an INSERT reads before it draws its ids.
 */
export function declareStreamWriter(projectId: string): string {
  return `SELECT pg_advisory_xact_lock_shared(${STREAM_WRITER_LOCK}, ${projectLockKey(projectId)}), pg_current_xact_id()`;
}
