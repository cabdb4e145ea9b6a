import { Client } from 'pg';
import { testDatabaseUrl } from './harness';

/** The row key (uuid) inside a global id. */
export const rowKey = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

/**
 * A session of the test's own that holds a model's row lock, in the mode the server's writers
 * take it. Requests sent meanwhile queue behind it in the order the test lets them reach the
 * lock (`queued`), and go on when it is released: a test so forces an interleaving of
 * concurrent transactions instead of hoping for it.
 */
export class ModelLockHolder {
  private constructor(private readonly client: Client, readonly pid: number) {}

  static async hold(modelKey: string): Promise<ModelLockHolder> {
    const client = new Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    const [{ pid }] = (await client.query(`SELECT pg_backend_pid() AS pid`)).rows;
    await client.query('BEGIN');
    await client.query(`SELECT 1 FROM model WHERE id = $1 FOR NO KEY UPDATE`, [modelKey]);
    return new ModelLockHolder(client, pid);
  }

  /**
   * How many sessions wait on this one, directly or queued behind another waiter. pg_locks is
   * read live (pg_stat_activity would be a snapshot frozen for this open transaction).
   */
  async waiting(): Promise<number> {
    const rows: { pid: number; by: number[] }[] = (await this.client.query(
      `SELECT DISTINCT pid, pg_blocking_pids(pid) AS by FROM pg_locks WHERE NOT granted AND pid IS NOT NULL`,
    )).rows;
    const chain = new Set<number>([this.pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const r of rows) {
        if (!chain.has(r.pid) && r.by.some((p) => chain.has(p))) { chain.add(r.pid); grew = true; }
      }
    }
    return chain.size - 1;
  }

  /**
   * Resolves once `n` sessions wait on this one, or once `settled` (a request already sent)
   * has answered without waiting. Polls pg_locks: the order of the queue is established by
   * what the database reports, not by elapsed time.
   */
  async queued(n: number, settled?: Promise<unknown>): Promise<void> {
    let done = false;
    const stop = () => { done = true; };
    settled?.then(stop, stop);
    const giveUp = Date.now() + 20_000;
    while (!done && (await this.waiting()) < n) {
      if (Date.now() > giveUp) throw new Error(`expected ${n} session(s) to queue on the model lock`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async release(): Promise<void> {
    try {
      await this.client.query('ROLLBACK');
    } finally {
      await this.client.end();
    }
  }
}
