import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource } from '../src/app/database';
import { SqlStatementCounter } from '../src/core/db/data-source';
import { POINTS_CHANNEL } from '../src/core/events/channels';
import { PointsAnnouncer } from '../src/core/events/points-announcer';
import type { Logger } from 'pino';
import { testDatabaseUrl } from './support/harness';

/**
 * The after-commit wake-up of metricPoints subscribers: one notification per project with the
 * project id as its payload (what subscribers match on), however many writes asked for it,
 * coalesced into as few statements as there are rounds of them.
 */
test('announcements coalesce into few statements, and every project is announced with its id as payload', async () => {
  const counter = new SqlStatementCounter();
  const db = createDataSource(testDatabaseUrl(), 2, counter);
  await db.initialize();
  const listener = new Client({ connectionString: testDatabaseUrl() });
  await listener.connect();
  try {
    const heard: string[] = [];
    let wake: (() => void) | null = null;
    listener.on('notification', (n) => { if (n.channel === POINTS_CHANNEL) { heard.push(n.payload ?? ''); wake?.(); } });
    await listener.query(`LISTEN ${POINTS_CHANNEL}`);

    const projects: string[] = [randomUUID(), randomUUID(), randomUUID()];
    const announcer = new PointsAnnouncer(db);
    const before = counter.count;
    // 60 writes land while the first announcement is on its way: they share the next statement.
    await Promise.all(Array.from({ length: 60 }, (_, i) => announcer.announce(projects[i % 3])));
    expect(counter.count - before).toBe(2);

    const ours = () => heard.filter((p) => projects.includes(p));
    while (new Set(ours()).size < 3) await new Promise<void>((r) => { wake = r; });
    // The first statement carried the first project; the second, each project once.
    expect(ours().sort()).toEqual([projects[0], ...projects].sort());

    // A later write starts a new round.
    await announcer.announce(projects[1]);
    expect(counter.count - before).toBe(3);
    while (ours().length < 5) await new Promise<void>((r) => { wake = r; });
    expect(ours()[4]).toBe(projects[1]);
  } finally {
    await listener.end();
    await db.destroy();
  }
});

test('a failed announcement is logged, not thrown: the points it announces are committed already', async () => {
  const db = createDataSource(testDatabaseUrl(), 1);
  await db.initialize();
  await db.destroy();
  const warnings: unknown[] = [];
  const log = { warn: (o: unknown) => warnings.push(o) } as unknown as Logger;
  await expect(new PointsAnnouncer(db, log).announce(randomUUID())).resolves.toBeUndefined();
  expect(warnings).toHaveLength(1);
});

test('statements are spaced by the gap: what arrives within it waits and goes out in one, and settled() sends it at once', async () => {
  const counter = new SqlStatementCounter();
  const db = createDataSource(testDatabaseUrl(), 2, counter);
  await db.initialize();
  const listener = new Client({ connectionString: testDatabaseUrl() });
  await listener.connect();
  try {
    const heard: string[] = [];
    listener.on('notification', (n) => { if (n.channel === POINTS_CHANNEL) heard.push(n.payload ?? ''); });
    await listener.query(`LISTEN ${POINTS_CHANNEL}`);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    // A gap far longer than the test: nothing but settled() can end it.
    const announcer = new PointsAnnouncer(db, undefined, 3_600_000);
    const before = counter.count;
    await announcer.announce(a); // idle: sent at once
    expect(counter.count - before).toBe(1);
    let sent = false;
    const waiting = Promise.all([announcer.announce(b), announcer.announce(c), announcer.announce(b)]).then(() => { sent = true; });
    // A round trip to the database and back: the statement for b and c would have been sent by now without the gap.
    await listener.query('SELECT 1');
    expect({ statements: counter.count - before, sent }).toEqual({ statements: 1, sent: false });
    await announcer.settled();
    await waiting;
    expect(counter.count - before).toBe(2);
    await listener.query('SELECT 1');
    while (heard.filter((p) => ([a, b, c] as string[]).includes(p)).length < 3) await listener.query('SELECT 1');
    expect(heard.filter((p) => ([a, b, c] as string[]).includes(p)).sort()).toEqual([a, b, c].sort());
  } finally {
    await listener.end();
    await db.destroy();
  }
});
