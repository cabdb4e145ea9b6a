/**
 * `npm run bench:monitor-timer`: what one tick of the monitor timer costs the database, against
 * its floor. 10,000 running monitors (100 projects, each monitor over its own series of 60 points
 * in the last 10 minutes, AVG / MAX / P95 over 5 minutes) are all made due, then evaluated by
 * `evaluateDue` as the leader's tick does (claims of 500 with FOR UPDATE SKIP LOCKED, evaluation,
 * state written). The peer, measured in the same run on the same data: one hand-written
 * statement that computes every monitor's window value and writes nothing, the least any
 * evaluation must do. Also measured: a tick with nothing due, what every interval costs when
 * writes keep the monitors fresh.
 *
 * Writes the `monitor-timer` section of BENCHMARKS.md (between its markers, appended if absent).
 */
import 'reflect-metadata';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createDataSource } from '../src/app/database';
import { evaluateDue } from '../src/modules/monitoring/monitor.service';
import { createBenchDatabase } from './database';
import { writeSection } from './report';

const MONITORS = Number(process.env.BENCH_MONITORS ?? 10_000);
const PROJECTS = 100;
const POINTS_PER_SERIES = 60;
const BATCH = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const log = (m: string) => console.log(`[monitor-timer] ${m}`);

/** The peer: every monitor's window value in one statement, nothing locked or written. */
const PEER_SQL = `
  SELECT mo.id, w.v
    FROM monitor mo
    CROSS JOIN LATERAL (
      SELECT CASE mo.aggregation
               WHEN 'AVG' THEN avg(p.value)
               WHEN 'MAX' THEN max(p.value)
               ELSE percentile_cont(0.95) WITHIN GROUP (ORDER BY p.value) END AS v
        FROM metric_series s
        JOIN metric_point p ON p.series_id = s.id AND p.ts > now() - make_interval(secs => mo.window_seconds)
       WHERE s.project_id = mo.project_id AND s.name = mo.metric) w
   WHERE NOT mo.paused`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const bench = await createBenchDatabase(process.env.DATABASE_URL ?? null, log);
  const db = createDataSource(bench.url, 4);
  try {
    await db.initialize();
    const t0 = performance.now();
    // Set-based seed, the shape recordMetrics and createMonitor leave.
    await db.query(`INSERT INTO project (slug, name) SELECT 'timer-' || i, 'timer ' || i FROM generate_series(1, $1) i`, [PROJECTS]);
    await db.query(`
      INSERT INTO metric_series (project_id, name, labels, last_value, last_ts)
      SELECT p.id, 'metric_' || i, '{}', 0, now()
        FROM generate_series(1, $1) i
        JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS k FROM project) p ON p.k = i % $2`, [MONITORS, PROJECTS]);
    await db.query(`
      INSERT INTO metric_point (project_id, series_id, ts, value)
      SELECT s.project_id, s.id, now() - make_interval(secs => j * 10), (hashtext(s.name || j) % 1000)::float8 / 10
        FROM metric_series s, generate_series(0, $1 - 1) j`, [POINTS_PER_SERIES]);
    // Thresholds so that about one monitor in ten alerts.
    await db.query(`
      INSERT INTO monitor (project_id, name, metric, aggregation, window_seconds, comparator, threshold, status, created_by)
      SELECT s.project_id, s.name, s.name, (ARRAY['AVG', 'MAX', 'P95'])[1 + (row_number() OVER (ORDER BY s.name)) % 3], 300, 'GT',
             CASE WHEN (row_number() OVER (ORDER BY s.name)) % 10 = 0 THEN -1000 ELSE 1000 END, 'NO_DATA', 'bench'
        FROM metric_series s`);
    await db.query(`ANALYZE`);
    log(`seeded ${MONITORS} monitors over ${MONITORS * POINTS_PER_SERIES} points in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const makeDue = () => db.query(`UPDATE monitor SET last_evaluated_at = now() - interval '1 hour'`);
    // The first tick opens the alerts (transitions written); later ones find the states unchanged.
    await makeDue();
    let t = performance.now();
    const firstCount = await evaluateDue(db, 15_000, BATCH);
    const first = performance.now() - t;
    const [{ alerts }] = await db.query(`SELECT count(*)::int AS alerts FROM alert WHERE resolved_at IS NULL`);
    log(`first tick: ${firstCount} monitors, ${alerts} alerts opened, ${first.toFixed(0)} ms`);

    const ticks: number[] = [];
    const peers: number[] = [];
    const idle: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await makeDue();
      t = performance.now();
      const n = await evaluateDue(db, 15_000, BATCH);
      ticks.push(performance.now() - t);
      if (n !== MONITORS) throw new Error(`a tick evaluated ${n} monitors, expected ${MONITORS}`);
      t = performance.now();
      const rows = await db.query(PEER_SQL);
      peers.push(performance.now() - t);
      if (rows.length !== MONITORS) throw new Error(`the peer answered ${rows.length} rows, expected ${MONITORS}`);
      // Nothing due: every monitor was evaluated just now.
      t = performance.now();
      const none = await evaluateDue(db, 15_000, BATCH);
      idle.push(performance.now() - t);
      if (none !== 0) throw new Error(`an idle tick evaluated ${none} monitors`);
    }
    const tick = median(ticks);
    const peer = median(peers);
    const [{ version }] = await db.query(`SELECT current_setting('server_version') AS version`);
    const summary = [
      `| monitors due | tick (evaluateDue, batches of ${BATCH}) | peer: one read-only aggregate statement | ratio | tick with nothing due |`,
      '| --- | --- | --- | --- | --- |',
      `| ${MONITORS.toLocaleString('en')} | ${tick.toFixed(0)} ms (${Math.round(MONITORS / (tick / 1000)).toLocaleString('en')} monitors/s) | ${peer.toFixed(0)} ms | **${(tick / peer).toFixed(2)}x** | ${median(idle).toFixed(1)} ms |`,
    ].join('\n');
    console.log(summary);
    const section = [
      '<!-- monitor-timer:start -->',
      '## Monitor timer: one tick over 10,000 due monitors',
      '',
      `\`npm run bench:monitor-timer\`, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, PostgreSQL ${version} (${bench.origin}).`,
      `Each monitor has its own series of ${POINTS_PER_SERIES} points over the last 10 minutes (AVG, MAX or P95 over 5 minutes; one in ten alerts).`,
      `Median of ${ROUNDS} rounds, peer measured in the same rounds. The first tick, which also opened ${alerts} alerts, took ${first.toFixed(0)} ms.`,
      '',
      summary,
      '',
      'The tick does what the peer does, plus claiming the rows (FOR UPDATE SKIP LOCKED), one statement per aggregation',
      'per batch, and writing every monitor\'s status, value and time; the ratio is that overhead.',
      '<!-- monitor-timer:end -->',
    ].join('\n');
    await writeSection('monitor-timer', section);
    log('wrote the monitor-timer section of BENCHMARKS.md');
  } finally {
    if (db.isInitialized) await db.destroy();
    await bench.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
