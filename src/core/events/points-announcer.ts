import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import { POINTS_CHANNEL } from './channels';
import { backgroundQuery } from '../db/data-source';

/** The least time between two announcing statements of one process; see PointsAnnouncer. */
export const ANNOUNCE_MIN_GAP_MS = 20;

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
 * Announcements are also spaced (at least ANNOUNCE_MIN_GAP_MS apart): see the constructor.
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
  /** When the last statement was sent (performance.now()), and the wait before the queued one. */
  private lastSent = -Infinity;
  private gap: { timer: NodeJS.Timeout; fire: () => void } | null = null;

  /**
   * `minGapMs`: the least time between two statements. A notifying statement is a transaction
   * with an xid, so it writes and flushes a commit record and takes the notify queue's lock:
   * sent back to back under heavy ingest (one finishes, the next starts with what gathered
   * meanwhile) they cost the database about as much as notifying inside every write did
   * (measured: 8 writers of 10-point transactions ran at 0.66x their rate without any
   * notification). With a gap, a process sends at most 1000 / minGapMs of them a second,
   * whatever the write rate, and a point waits at most that long more before its wake-up. An
   * idle announcer sends at once.
   */
  constructor(private readonly db: DataSource, private readonly log?: Logger, private readonly minGapMs = ANNOUNCE_MIN_GAP_MS) {}

  /**
   * Resolves when nothing is being sent nor queued (failures are logged by flush, not thrown).
   * A statement waiting out its gap is sent at once: the server calls this at shutdown.
   */
  async settled(): Promise<void> {
    while (this.next ?? this.sending) {
      this.gap?.fire();
      await (this.next ?? this.sending);
    }
  }

  /**
   * Announces that points of `projectId` were committed. Resolves once a notification for it
   * was sent (or failed, which is logged, not thrown: the points are stored either way).
   */
  announce(projectId: string): Promise<void> {
    this.pending.add(projectId);
    if (this.next) return this.next;
    if (!this.sending && performance.now() - this.lastSent >= this.minGapMs) return (this.sending = this.flush());
    // A statement is on its way, or went out less than the gap ago: everything arriving
    // meanwhile goes in the next one, sent once both are over.
    const prior = this.sending ?? Promise.resolve();
    this.next = prior.then(() => this.waitGap()).then(() => {
      this.next = null;
      return (this.sending = this.flush());
    });
    return this.next;
  }

  /** Resolves once the gap since the last statement has passed (or settled() cuts it short). */
  private waitGap(): Promise<void> {
    const left = this.lastSent + this.minGapMs - performance.now();
    if (left <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const fire = () => {
        clearTimeout(timer);
        this.gap = null;
        resolve();
      };
      const timer = setTimeout(fire, left);
      this.gap = { timer, fire };
    });
  }

  private async flush(): Promise<void> {
    const projects = [...this.pending];
    this.pending = new Set();
    this.lastSent = performance.now();
    try {
      await backgroundQuery(this.db, `SELECT pg_notify('${POINTS_CHANNEL}', p) FROM unnest($1::text[]) AS p`, [projects]);
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
