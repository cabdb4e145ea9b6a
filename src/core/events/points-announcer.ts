import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { POINTS_CHANNEL } from './channels';

/**
 * Wakes live `metricPoints` subscribers after metric points COMMITTED, from outside the writing
 * transaction: one `pg_notify(POINTS_CHANNEL, <project id>)` per project (the payload
 * subscribers expect), from a pool connection, in an autocommit statement.
 *
 * Why not NOTIFY inside the writing transaction, as registry events do: PostgreSQL serializes
 * every notifying transaction at commit (a cluster-wide lock held through the commit record's
 * flush), so 8 concurrent writers each notifying commit one after another. Here the writers
 * commit freely, and the announcements of all writes that land while one is being sent are
 * coalesced into the next single statement: at most one notifying commit in flight per process.
 *
 * Late is harmless: subscribers read points by id up to a horizon (event-hub.ts), so a later
 * notification delivers the same rows, never fewer. Lost is the case to cover. An announcement
 * is lost when the process dies between its commit and the statement below, or when that
 * statement fails (logged here). What still wakes subscribers of other processes then:
 *  - the next write of the same project, from any process (its announcement makes readers read
 *    everything above their last id, the unannounced points included);
 *  - a reconnect of a reader's LISTEN connection, which wakes every subscriber;
 *  - and, for a project that writes nothing more, only a periodic re-read on the reader side.
 * So the reader side must re-read each live stream (one statement per filter shape when
 * multiplexed) at a bounded interval even without a notification; the bound on that interval
 * is the bound on how late such points arrive. Nothing is ever skipped: the re-read starts
 * from the stream's last delivered id.
 *
 * Writers keep the horizon's other condition: the transaction has its xid before the first
 * point's id is drawn (metrics.service.ts writes the audit row before the COPY).
 */
export class PointsAnnouncer {
  /** Projects written since the last statement was sent. */
  private pending = new Set<string>();
  /** The statement in flight, and the one queued behind it (holding what `pending` gathers). */
  private sending: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly db: DataSource, private readonly log?: Logger) {}

  /** Resolves when nothing is being sent nor queued (failures are logged by flush, not thrown). */
  async settled(): Promise<void> {
    while (this.next ?? this.sending) await (this.next ?? this.sending);
  }

  /**
   * Announces that points of `projectId` were committed. Resolves once a notification for it
   * was sent (or failed, which is logged, not thrown: the points are stored either way).
   */
  announce(projectId: string): Promise<void> {
    this.pending.add(projectId);
    if (!this.sending) return (this.sending = this.flush());
    // One statement is on its way; everything arriving meanwhile goes in the next one.
    this.next ??= this.sending.then(() => {
      this.next = null;
      return (this.sending = this.flush());
    });
    return this.next;
  }

  private async flush(): Promise<void> {
    const projects = [...this.pending];
    this.pending = new Set();
    try {
      await this.db.query(`SELECT pg_notify('${POINTS_CHANNEL}', p) FROM unnest($1::text[]) AS p`, [projects]);
    } catch (err) {
      this.log?.warn({ err, projects: projects.length }, 'announcing metric points failed; subscribers catch up on the next wake-up');
    } finally {
      if (!this.next) this.sending = null;
    }
  }
}

const announcers = new WeakMap<DataSource, PointsAnnouncer>();

/**
 * Resolves once the announcements sent or queued on `db` have gone out (or failed, logged): the
 * server waits for it at shutdown, before its pool closes under a statement still on its way.
 */
export async function announcementsSettled(db: DataSource): Promise<void> {
  const a = announcers.get(db);
  if (a) await a.settled();
}

/** The announcer of a data source (one per pool, so coalescing spans every request of the process). */
export function pointsAnnouncer(db: DataSource, log?: Logger): PointsAnnouncer {
  let a = announcers.get(db);
  if (!a) announcers.set(db, (a = new PointsAnnouncer(db, log)));
  return a;
}
