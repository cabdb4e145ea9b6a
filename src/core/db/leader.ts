import { Client } from 'pg';
import type { Logger } from 'pino';

/** What /readyz reports of a leader: holding the lock, waiting for it, or not taking part. */
export type LeaderState = 'leader' | 'follower' | 'stopped';

export interface LeaderOptions {
  url: string;
  /** Names the lock: at most one leader per name and database, whatever the number of replicas. */
  name: string;
  /** Startup options of the lock's session (`sessionOptions()`). */
  sessionOptions?: string;
  /** Longest a round trip on the lock's session may take before the session is given up for lost. */
  queryTimeoutMs: number;
  log: Logger;
}

/**
 * Leader election by a session-level advisory lock, for work that one replica at a time should
 * do (the monitor timer). The lock is taken on a connection of its own, never one of the pool:
 * a session-level lock lives as long as its session, and a pooled session is shared by every
 * request and ends when the pool says. PostgreSQL releases the lock when the session ends, so a
 * replica that dies (or whose connection is cut) frees it for the next `poll()` of another.
 *
 * The work done under it must stay safe when two replicas both believe they lead for a moment
 * (one has not yet seen that its session ended): leadership makes the work happen once, it is
 * not what keeps it correct.
 */
export class Leader {
  private client: Client | null = null;
  private leading = false;
  private stopped = false;
  /** Two int4 keys: a space apart from the single bigint key of the migrations' lock. */
  private readonly lockSql = `hashtext('modelgraph.leader'), hashtext($1)`;

  constructor(private readonly opts: LeaderOptions) {}

  get state(): LeaderState {
    if (this.stopped) return 'stopped';
    return this.leading ? 'leader' : 'follower';
  }

  /**
   * One round: connects if needed, then, leading, proves the lock's session still answers (the
   * lock lives exactly as long as it), or, following, tries to take the lock without waiting.
   * Answers whether this process leads now. Never throws: a failure is a lost session.
   */
  async poll(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      const client = this.client ?? (await this.connect());
      if (this.leading) {
        await client.query('SELECT 1');
      } else {
        const { rows } = await client.query(`SELECT pg_try_advisory_lock(${this.lockSql}) AS locked`, [this.opts.name]);
        if (rows[0].locked && !this.stopped) {
          this.leading = true;
          this.opts.log.info({ lock: this.opts.name }, 'leading');
        }
      }
    } catch (err) {
      this.lose(err);
    }
    return this.leading && !this.stopped;
  }

  /** Gives the lock back (so another replica takes over at its next poll, not when a timeout notices) and closes the session. */
  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (this.leading) {
      this.leading = false;
      await client.query(`SELECT pg_advisory_unlock(${this.lockSql})`, [this.opts.name]).catch(() => undefined);
      this.opts.log.info({ lock: this.opts.name }, 'stepped down');
    }
    await client.end().catch(() => undefined);
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.opts.url,
      options: this.opts.sessionOptions,
      application_name: `modelgraph-leader:${this.opts.name}`,
      keepAlive: true,
      // A session that stops answering (a cut network) is given up rather than waited for forever.
      query_timeout: this.opts.queryTimeoutMs,
      connectionTimeoutMillis: this.opts.queryTimeoutMs,
    });
    // Emitted when the session ends under us while idle (terminated, the server restarted).
    client.on('error', (err) => { if (this.client === client) this.lose(err); });
    client.on('end', () => { if (this.client === client) this.lose(new Error('the lock session ended')); });
    this.client = client;
    try {
      await client.connect();
    } catch (err) {
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      throw err;
    }
    return client;
  }

  private lose(err: unknown): void {
    const client = this.client;
    this.client = null;
    if (this.leading) this.opts.log.warn({ err, lock: this.opts.name }, 'lost the leader lock session: no longer leading');
    else this.opts.log.debug({ err, lock: this.opts.name }, 'leader lock session failed');
    this.leading = false;
    if (client) {
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
    }
  }
}
