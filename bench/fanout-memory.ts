/**
 * Heap kept per idle metricPoints subscriber, measured inside the server process (run with
 * --expose-gc by bench/fanout.ts): the server's heap after a full collection with N idle
 * subscribers, less its heap after a full collection before they connected, over N. The
 * subscribers are in a forked fanout-client process, so none of their memory is counted.
 * RSS is reported too; it also holds what the collector freed but has not given back.
 *
 * Measured twice: the first N subscribers from an idle server, then N more. The second figure
 * (marginal) is what each further subscriber adds; the first also holds what a server grows
 * once under its first load (with --max-semi-space-size=64 the young generation alone can add
 * over 100 MB of RSS, whatever the number of subscribers), spread over N.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/app/config';
import { startServer } from '../src/app/server';
import { feedMembers } from '../src/modules/live/event-streams';

/** The ADMIN key of the run (created by the first server on the run's database). */
const KEY = process.env.FANOUT_MEMORY_KEY!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const n = Number(process.env.FANOUT_MEMORY_SUBSCRIBERS ?? 2000);
  const perSocket = 100;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-fanout-memory-'));
  const config = loadConfig({
    DATABASE_URL: process.env.FANOUT_MEMORY_DATABASE_URL!, PORT: '0', LOG_LEVEL: 'warn', MODELGRAPH_DATA_DIR: dataDir, MODELGRAPH_ADMIN_KEY: KEY,
    MODELGRAPH_RATE_LIMIT_PER_MINUTE: '1000000000', MODELGRAPH_MAX_SUBSCRIPTIONS: '100000', MODELGRAPH_MAX_SUBSCRIPTIONS_PER_KEY: '100000',
  });
  const server = await startServer(config, { announceAdminKey: () => undefined });
  const client = fork(path.join(__dirname, 'fanout-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(server.url, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const slug = `fanout-memory-${Date.now()}`;
    const project = (await gql(`mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { id } } }`, { s: slug })).createProject.project;
    const model = (await gql(`mutation($s: String!) { createModel(input: { projectSlug: $s, name: "ranker", kind: INTERNAL }) { model { id } } }`, { s: slug })).createModel.model;
    const version = (await gql(`mutation($m: ID!) { createModelVersion(input: { modelId: $m, artifact: { uri: "s3://m/1" } }) { modelVersion { id } } }`, { m: model.id })).createModelVersion.modelVersion;
    const [{ id: projectId }] = await server.db.query(`SELECT id FROM project WHERE slug = $1`, [slug]);
    void project;
    const ask = (message: Record<string, unknown>, answer: string) => new Promise<any>((resolve) => {
      const on = (m: any) => { if (m.type === answer) { client.off('message', on); resolve(m); } };
      client.on('message', on);
      client.send(message);
    });
    const write = (value: number) => gql(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`,
      { input: { projectSlug: slug, points: [{ name: 'latency', modelVersionId: version.id, value }] } });
    for (let i = 0; i < 20; i++) await write(-1);
    const setup = {
      url: server.wsUrl, authorization: `Bearer ${KEY}`, sockets: Math.ceil(n / perSocket), perSocket,
      query: `subscription($s: String!, $filter: MetricStreamFilter!) { metricPoints(projectSlug: $s, filter: $filter) { cursor points { timestamp value } } }`,
      variables: { s: slug, filter: { modelVersionId: version.id } },
    };
    /** Opens n more idle subscribers, sends one point that reaches every subscriber, lets them idle, collects. */
    const stage = async (members: number, receivedBefore: number, value: number) => {
      await ask({ type: 'open', setup }, 'opened');
      const deadline = Date.now() + 120_000;
      while (feedMembers(server.events, projectId) < members) {
        if (Date.now() > deadline) throw new Error(`only ${feedMembers(server.events, projectId)} of ${members} subscribers joined`);
        await sleep(50);
      }
      // One point reaches all, so every subscription has run its first event, then they idle.
      await write(value);
      while ((await ask({ type: 'stats' }, 'stats')).received < receivedBefore + members) await sleep(20);
      await sleep(1000);
      gc(); gc();
      return process.memoryUsage();
    };
    await sleep(500);
    gc(); gc();
    const before = process.memoryUsage();
    // First n subscribers: what they cost from an idle server, including what the server grows
    // once (the young generation's semi-spaces, pools, compiled code).
    const first = await stage(n, 0, 1);
    // Then n more: the cost of one more subscriber, which is what grows with their number.
    const second = await stage(2 * n, n, 2);
    process.send!({
      type: 'memory', subscribers: n,
      heapPerSubscriber: (first.heapUsed - before.heapUsed) / n,
      externalPerSubscriber: (first.external - before.external) / n,
      rssPerSubscriber: (first.rss - before.rss) / n,
      marginal: {
        heapPerSubscriber: (second.heapUsed - first.heapUsed) / n,
        externalPerSubscriber: (second.external - first.external) / n,
        rssPerSubscriber: (second.rss - first.rss) / n,
      },
    });
  } finally {
    client.kill('SIGKILL');
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
