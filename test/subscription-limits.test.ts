import { EVENTS_CHANNEL, POINTS_CHANNEL } from '../src/core/events/registry-events';
import { encodeCursor } from '../src/core/graphql/pagination';
import { TestServer, createKey, createModel, createProject, startTestServer, unique, wsRequest } from './support/harness';
import { follow, until } from './support/subscription';

const EVENTS = `subscription($s: String!) { registryEvents(projectSlug: $s) { type } }`;
const POINTS = `subscription($s: String!, $since: String) { metricPoints(projectSlug: $s, filter: {}, since: $since) { cursor } }`;

async function projectIdOf(t: TestServer, slug: string): Promise<string> {
  const [{ id }] = await t.server.db.query(`SELECT id FROM project WHERE slug = $1`, [slug]);
  return id;
}

describe('with limits of 3 per socket, 5 per key and 7 in all', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      MODELGRAPH_MAX_SUBSCRIPTIONS_PER_SOCKET: '3', MODELGRAPH_MAX_SUBSCRIPTIONS_PER_KEY: '5', MODELGRAPH_MAX_SUBSCRIPTIONS: '7',
    });
  });
  afterAll(async () => { await t.stop(); });
  afterEach(async () => {
    await until(() => t.server.subscriptions.active().total === 0, 'every subscription of the test is released');
  });

  /** A project, a VIEWER key of it, and a way to open live registryEvents subscriptions and wait until they are live. */
  async function setup() {
    const { slug } = await createProject(t, 'sublimits');
    const pid = await projectIdOf(t, slug);
    const live = (n: number) => until(() => t.server.events.liveStreams(EVENTS_CHANNEL, pid) === n, `${n} subscriptions are live`);
    return { slug, live, key: await createKey(t, 'VIEWER', slug) };
  }

  const refusal = async (sub: ReturnType<typeof follow>) => (await sub.failure())?.[0].extensions;

  test('per socket: the one over the limit is RATE_LIMITED; the socket and its other subscriptions go on', async () => {
    const { slug, live, key } = await setup();
    const client = t.ws(key);
    const subs = [1, 2, 3].map(() => follow(client, EVENTS, { s: slug }));
    await live(3);
    expect(await refusal(follow(client, EVENTS, { s: slug }))).toMatchObject({ code: 'RATE_LIMITED', limit: 'maxSubscriptionsPerSocket', max: 3 });
    // Queries are not subscriptions: the socket still answers them.
    expect((await wsRequest(client, '{ __typename }')).data).toEqual({ __typename: 'Query' });
    await createModel(t, slug);
    for (const sub of subs) expect((await sub.take(1))[0].data).toEqual({ registryEvents: { type: 'MODEL_CREATED' } });

    // Completing one frees its place.
    subs[0].stop();
    await until(() => t.server.subscriptions.active().total === 2, 'the completed subscription is released');
    const again = follow(client, EVENTS, { s: slug });
    await live(3);
    await createModel(t, slug);
    for (const sub of [...subs.slice(1), again]) expect((await sub.take(1))[0].data).toEqual({ registryEvents: { type: 'MODEL_CREATED' } });
    for (const sub of [...subs, again]) sub.stop();
  });

  test('per key: across sockets; another key is not held back', async () => {
    const { slug, live, key } = await setup();
    const [a, b] = [t.ws(key), t.ws(key)];
    const subs = [...[1, 2, 3].map(() => follow(a, EVENTS, { s: slug })), ...[1, 2].map(() => follow(b, EVENTS, { s: slug }))];
    await live(5);
    expect(await refusal(follow(b, EVENTS, { s: slug }))).toMatchObject({ code: 'RATE_LIMITED', limit: 'maxSubscriptionsPerKey', max: 5 });
    const other = follow(t.ws(await createKey(t, 'VIEWER', slug)), EVENTS, { s: slug });
    await live(6);
    await createModel(t, slug);
    for (const sub of [...subs, other]) expect((await sub.take(1))[0].data).toEqual({ registryEvents: { type: 'MODEL_CREATED' } });
    for (const sub of [...subs, other]) sub.stop();
  });

  test('per process: across keys', async () => {
    const { slug, live, key } = await setup();
    const keys = [key, await createKey(t, 'VIEWER', slug), await createKey(t, 'VIEWER', slug)];
    const clients = keys.map((k) => t.ws(k));
    const subs = [0, 0, 0, 1, 1, 1, 2].map((i) => follow(clients[i], EVENTS, { s: slug }));
    await live(7);
    expect(await refusal(follow(clients[2], EVENTS, { s: slug }))).toMatchObject({ code: 'RATE_LIMITED', limit: 'maxSubscriptions', max: 7 });
    await createModel(t, slug);
    for (const sub of subs) expect((await sub.take(1))[0].data).toEqual({ registryEvents: { type: 'MODEL_CREATED' } });
    for (const sub of subs) sub.stop();
  });
});

test('subscriptions are released however they end: completed, failed, revoked or closed with their socket', async () => {
  const t = await startTestServer();
  try {
    const { slug } = await createProject(t, 'subleak');
    const pid = await projectIdOf(t, slug);
    const made = (await t.ok(
      `mutation($n: String!, $s: String) { createApiKey(input: { name: $n, role: VIEWER, projectSlug: $s }) { secret apiKey { id } } }`,
      { n: unique('leak-viewer'), s: slug },
    )).createApiKey;
    const viewer = await createKey(t, 'VIEWER', slug);

    const completed = t.ws(viewer);
    const closed = Array.from({ length: 5 }, () => t.ws(viewer));
    const revoked = t.ws(made.secret);
    const toComplete = Array.from({ length: 40 }, () => follow(completed, EVENTS, { s: slug }));
    const toClose = closed.flatMap((c) => Array.from({ length: 20 }, () => follow(c, EVENTS, { s: slug })));
    const toRevoke = Array.from({ length: 20 }, () => follow(revoked, EVENTS, { s: slug }));
    const points = Array.from({ length: 20 }, () => follow(completed, POINTS, { s: slug }));
    await until(() => t.server.events.liveStreams(EVENTS_CHANNEL, pid) === 160 && t.server.events.liveStreams(POINTS_CHANNEL, pid) === 20,
      'every subscription is live');
    expect(t.server.subscriptions.active()).toEqual({ total: 180, sockets: 7, keys: 2 });

    // Failing as they start: a cursor past the end, a project the key may not read, or not existing.
    const failing = [
      ...Array.from({ length: 10 }, () => follow(completed, POINTS, { s: slug, since: encodeCursor(['p', '9000000000000', '9000000000000', '']) })),
      ...Array.from({ length: 10 }, () => follow(completed, EVENTS, { s: unique('no-such-project') })),
    ];
    for (const sub of failing) expect((await sub.failure())?.[0].extensions.code).toMatch(/^(BAD_USER_INPUT|FORBIDDEN|NOT_FOUND)$/);

    for (const sub of [...toComplete, ...points]) sub.stop();
    await Promise.all(closed.map((c) => c.dispose()));
    await t.ok(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }`, { id: made.apiKey.id });
    await createModel(t, slug);
    for (const sub of toRevoke) expect(await sub.ended()).toBeDefined();
    for (const sub of toClose) sub.stop();

    await until(() => t.server.subscriptions.active().total === 0, 'every subscription is released');
    expect(t.server.subscriptions.active()).toEqual({ total: 0, sockets: 0, keys: 0 });
    expect(t.server.events.liveStreams(EVENTS_CHANNEL, pid)).toBe(0);
    expect(t.server.events.liveStreams(POINTS_CHANNEL, pid)).toBe(0);
  } finally {
    await t.stop();
  }
});
