import type { DataSource } from 'typeorm';
import { freePort } from '../../src/core/db/embedded-postgres';
import { scratchDatabase } from '../support/harness';
import { ServerProcess, dataOf, killChild, openDatabase, post, spawnServer, tempDir, unique, until } from './support';

/**
 * The monitor timer across two server processes on one database: one leads (holds the advisory
 * lock and evaluates), the other follows. A leader stopped with SIGTERM gives the lock back as
 * it drains; one killed with SIGKILL loses it with its session. Either way the other process
 * takes over within an interval and evaluates: a monitor whose series went silent after the
 * change of leader reaches NO_DATA, which only the timer does.
 *
 * The processes run on a database of their own: the run's database has other test files'
 * servers, and one of those could hold the lock.
 */
const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
const MONITOR = `query($id: ID!) { node(id: $id) { ... on Monitor { status lastValue lastEvaluatedAt } } }`;
const INTERVAL_MS = '100';

describe('monitor timer failover', () => {
  const data = tempDir('modelgraph-faults-timer-');
  let drop: () => Promise<void>;
  let url: string;
  let db: DataSource;
  let adminKey: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    ({ url, drop } = await scratchDatabase());
    ({ db, adminKey } = await openDatabase(url));
  });

  afterAll(async () => {
    for (const s of servers) await killChild(s);
    if (db?.isInitialized) await db.destroy();
    await drop?.();
    data.remove();
  });

  const start = async () => {
    const server = await spawnServer({
      DATABASE_URL: url, MODELGRAPH_MONITOR_INTERVAL_MS: INTERVAL_MS, MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0',
    }, await freePort(), data.dir);
    servers.push(server);
    return server;
  };
  const timerOf = async (s: ServerProcess): Promise<string | undefined> => {
    try {
      const res = await fetch(`${s.base}/readyz`, { signal: AbortSignal.timeout(5000) });
      return ((await res.json()) as { monitorTimer?: string }).monitorTimer;
    } catch {
      return undefined;
    }
  };
  const leads = (s: ServerProcess) => until(`${s.base} to lead the timer`, async () => (await timerOf(s)) === 'leader');
  const follows = (s: ServerProcess) => until(`${s.base} to follow`, async () => (await timerOf(s)) === 'follower');

  /**
   * Through `s`: a point now in a monitor's 5 s window, so the write evaluates it OK; then no
   * write at all, so only a timer can bring it to NO_DATA. Waits for that and answers it.
   */
  async function goesSilent(s: ServerProcess, slug: string): Promise<void> {
    const name = unique('silent').replace(/-/g, '_');
    const created = dataOf(await post(s.url, adminKey, `mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id } } }`, {
      input: { projectSlug: slug, name, metric: name, aggregation: 'MAX', windowSeconds: 5, comparator: 'GT', threshold: 100 },
    }));
    const id = created!.createMonitor.monitor.id as string;
    expect(dataOf(await post(s.url, adminKey, RECORD, { input: { projectSlug: slug, points: [{ name, value: 1, timestamp: new Date().toISOString() }] } }))).toBeTruthy();
    const read = async () => dataOf(await post(s.url, adminKey, MONITOR, { id }))?.node as { status: string; lastValue: number | null } | undefined;
    expect(await read()).toMatchObject({ status: 'OK', lastValue: 1 });
    await until(`monitor ${name} to reach NO_DATA`, async () => (await read())?.status === 'NO_DATA', 60_000, 50);
  }

  test('SIGTERM gives the lock back as the leader drains; SIGKILL loses it with the session; the other takes over and evaluates', async () => {
    const a = await start();
    await leads(a);
    const b = await start();
    await follows(b);
    // Still one leader with two processes polling.
    expect(await timerOf(a)).toBe('leader');

    const slug = unique('faults-timer');
    expect(dataOf(await post(a.url, adminKey, `mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { slug } } }`, { s: slug }))).toBeTruthy();
    await goesSilent(a, slug);

    // A clean stop: the leader unlocks while it drains and exits 0; the follower takes over.
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.output()).toContain('stepped down');
    await leads(b);
    await goesSilent(b, slug);

    // A crash: no unlock, the session ends with the process; the restarted one takes over from it.
    const c = await start();
    await follows(c);
    b.child.kill('SIGKILL');
    expect(await b.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await leads(c);
    await goesSilent(c, slug);
    expect(await timerOf(c)).toBe('leader');
  });
});
