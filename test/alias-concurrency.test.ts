import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer } from './support/harness';
import { ModelLockHolder, rowKey } from './support/row-lock';

/**
 * Every write to a model's aliases, policies and promotion requests takes the model's row lock
 * first and decides under it. The tests hold that lock from a session of their own, queue the
 * server's transactions behind it in a chosen order, and release it: each interleaving is
 * forced, not hoped for. A deadlock would answer CONFLICT with `retryable: true`; none may occur.
 */
let t: TestServer;
// Each round keeps up to two server transactions waiting on a lock, several rounds at a time.
// No lock or statement timeout: on a loaded machine a queue of waiters could outlast one, and
// these tests are about deadlocks (which PostgreSQL detects whatever the timeouts).
beforeAll(async () => {
  t = await startTestServer({ DATABASE_POOL_SIZE: '16', MODELGRAPH_LOCK_TIMEOUT_MS: '0', MODELGRAPH_STATEMENT_TIMEOUT_MS: '0' });
});
afterAll(async () => { await t.stop(); });

const POLICY = `mutation($input: SetAliasPolicyInput!) { setAliasPolicy(input: $input) { model { id } } }`;
const REQUEST = `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { promotionRequest { id status version { number } } } }`;
const APPROVE = `mutation($id: ID!) { approvePromotion(input: { id: $id }) { promotionRequest { id status version { number } } } }`;
const SET = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { revision version { number } } } }`;
const PRODUCTION = `query($id: ID!) { node(id: $id) { ... on Model { alias(name: "production") { number } } } }`;

/** Answers that are no rule's verdict: a deadlock or timeout (retryable) or a bug (INTERNAL_SERVER_ERROR). */
const failures = (answers: GqlResponse[]) =>
  answers.flatMap((a) => a.errors ?? []).filter((e) => e.extensions.retryable || e.extensions.code === 'INTERNAL_SERVER_ERROR')
    .map((e) => `${e.path?.[0]}: ${e.extensions.code}${e.extensions.retryable ? ' (retryable)' : ''}`);

/**
 * Sends the requests one by one while the model's lock is held, each only once the one before
 * it waits in the lock's queue (or has answered without waiting), then releases the lock.
 */
async function inLockOrder(modelId: string, sends: (() => Promise<GqlResponse>)[]): Promise<GqlResponse[]> {
  const holder = await ModelLockHolder.hold(rowKey(modelId));
  const answers: Promise<GqlResponse>[] = [];
  try {
    for (const send of sends) {
      const before = await holder.waiting();
      const answer = send();
      answers.push(answer);
      await holder.queued(before + 1, answer);
    }
  } finally {
    await holder.release();
  }
  return Promise.all(answers);
}

test('50 request/approve pairs on one alias, queued in both orders: no deadlock, and the alias agrees with its history and the audit log', async () => {
  const project = await createProject(t, 'lock-order');
  const model = await createModel(t, project.slug);
  for (let i = 0; i < 3; i++) await createVersion(t, model.id);
  const requester = await createKey(t, 'EDITOR', project.slug);
  const approver = await createKey(t, 'EDITOR', project.slug);
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } });
  const request = (n: number) => t.gql(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: n } }, requester);
  const approve = (id: string) => t.gql(APPROVE, { id }, approver);

  const ROUNDS = 50;
  let pending = (await request(3)).data.requestPromotion.promotionRequest;
  const answers: GqlResponse[] = [];
  const outcomes: string[] = [];
  let alias: number | null = null;
  let moves = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const approveFirst = round % 2 === 1;
    const req = () => request((round % 3) + 1);
    const app = () => approve(pending.id);
    const [requested, approved] = approveFirst ? (await inLockOrder(model.id, [app, req])).reverse() : await inLockOrder(model.id, [req, app]);
    answers.push(requested, approved);
    const decided = approved.data?.approvePromotion?.promotionRequest;
    outcomes.push(decided?.status ?? approved.errors?.[0].extensions.code);
    if (decided?.status === 'APPLIED') {
      if (decided.version.number !== alias) moves++;
      alias = decided.version.number;
    }
    // Keep the chain going even when a round failed, so that every round is tried.
    pending = requested.data?.requestPromotion?.promotionRequest ?? (await request((round % 3) + 1)).data.requestPromotion.promotionRequest;
  }

  expect(failures(answers)).toEqual([]);
  // Queued behind the new request, the approval finds its request replaced (CONFLICT, not
  // retryable: it is the rule's answer); queued before it, the approval applies its request.
  expect(outcomes).toEqual(Array.from({ length: ROUNDS }, (_, r) => (r % 2 ? 'APPLIED' : 'CONFLICT')));
  expect(answers.filter((a) => a.data?.requestPromotion).map((a) => a.data.requestPromotion.promotionRequest.status)).toEqual(Array(ROUNDS).fill('PENDING'));

  // The alias, its history and the audit log tell one story.
  const db = t.server.db;
  const numberOf = new Map<string, number>(
    (await db.query(`SELECT id, number FROM model_version WHERE model_id = $1`, [rowKey(model.id)])).map((r: { id: string; number: number }) => [r.id, r.number]),
  );
  const events: { from: string | null; to: string | null }[] = await db.query(
    `SELECT from_version_id AS "from", to_version_id AS "to" FROM alias_event WHERE model_id = $1 AND alias = 'production' ORDER BY id`, [rowKey(model.id)],
  );
  expect(events).toHaveLength(moves);
  events.forEach((e, i) => expect(e.from).toBe(i === 0 ? null : events[i - 1].to));
  expect(numberOf.get(events[events.length - 1].to!)).toBe(alias);
  expect((await t.ok(PRODUCTION, { id: model.id })).node.alias).toEqual({ number: alias });

  const audit: { action: string; details: { after: { versionNumber?: number } } }[] = await db.query(
    `SELECT action, details FROM audit_event WHERE project_id = $1 AND action IN ('alias.set', 'promotion.approve') ORDER BY id`, [rowKey(project.id)],
  );
  const sets = audit.filter((a) => a.action === 'alias.set');
  expect(sets).toHaveLength(moves);
  expect(sets[sets.length - 1].details.after.versionNumber).toBe(alias);
  expect(audit.filter((a) => a.action === 'promotion.approve')).toHaveLength(ROUNDS / 2);
  const [{ n: applied }] = await db.query(`SELECT count(*)::int AS n FROM promotion_request WHERE model_id = $1 AND status = 'APPLIED'`, [rowKey(model.id)]);
  expect(applied).toBe(ROUNDS / 2);
});

test('50 request/approve pairs sent together on one alias, unforced: no deadlock, and every applied request is one move of the history and the audit log', async () => {
  const project = await createProject(t, 'lock-free-run');
  const model = await createModel(t, project.slug);
  for (let i = 0; i < 3; i++) await createVersion(t, model.id);
  const requester = await createKey(t, 'EDITOR', project.slug);
  const approver = await createKey(t, 'EDITOR', project.slug);
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } });
  const request = (n: number) => t.gql(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: n } }, requester);

  // Each round sends the approval of the pending request together with the request that
  // replaces it, and lets the server take them in whatever order it does.
  let pending = (await request(3)).data.requestPromotion.promotionRequest;
  const answers: GqlResponse[] = [];
  const applied = new Map<string, number>();
  for (let round = 0; round < 50; round++) {
    const approving = pending;
    const [requested, approved] = await Promise.all([request((round % 3) + 1), t.gql(APPROVE, { id: approving.id }, approver)]);
    answers.push(requested, approved);
    if (approved.data?.approvePromotion?.promotionRequest.status === 'APPLIED') applied.set(approving.id, approving.version.number);
    pending = requested.data?.requestPromotion?.promotionRequest ?? (await request((round % 3) + 1)).data.requestPromotion.promotionRequest;
  }
  expect(failures(answers)).toEqual([]);
  // An approval either applies its request or finds it replaced by the newer one.
  const decisions = answers.filter((_, i) => i % 2 === 1)
    .map((a) => a.data?.approvePromotion?.promotionRequest.status ?? `${a.errors?.[0].extensions.code} ${a.errors?.[0].extensions.status}`);
  expect(decisions.filter((d) => d !== 'APPLIED' && d !== 'CONFLICT CANCELLED')).toEqual([]);

  const db = t.server.db;
  const events: { from: string | null; to: string; reason: string; number: number }[] = await db.query(
    `SELECT e.from_version_id AS "from", e.to_version_id AS "to", e.reason, v.number
       FROM alias_event e JOIN model_version v ON v.id = e.to_version_id
      WHERE e.model_id = $1 AND e.alias = 'production' ORDER BY e.id`, [rowKey(model.id)],
  );
  events.forEach((e, i) => expect(e.from).toBe(i === 0 ? null : events[i - 1].to));
  // Each move names the request it applied (its reason), which answered APPLIED, for its version.
  const movedBy = events.map((e) => e.reason.replace(/^promotion /, ''));
  expect(new Set(movedBy).size).toBe(events.length);
  expect(events.map((e) => e.number)).toEqual(movedBy.map((id) => applied.get(id)));
  const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM promotion_request WHERE model_id = $1 AND status = 'APPLIED'`, [rowKey(model.id)]);
  expect(n).toBe(applied.size);
  const sets: { details: { after: { versionNumber: number } } }[] = await db.query(
    `SELECT details FROM audit_event WHERE target_id = $1 AND action = 'alias.set' ORDER BY id`, [model.id],
  );
  expect(sets.map((a) => a.details.after.versionNumber)).toEqual(events.map((e) => e.number));
  expect((await t.ok(PRODUCTION, { id: model.id })).node.alias).toEqual(events.length ? { number: events[events.length - 1].number } : null);
});

test('a policy set while a direct move waits: whichever takes the model lock second sees the other (24 rounds, 6 at a time, both orders)', async () => {
  const { slug } = await createProject(t, 'policy-race');
  const editor = await createKey(t, 'EDITOR', slug);

  const round = async (i: number) => {
    const model = await createModel(t, slug);
    await createVersion(t, model.id);
    await createVersion(t, model.id);
    await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } }, editor);
    const move = () => t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } }, editor);
    const protect = () => t.gql(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } });
    const moveFirst = i % 2 === 0;
    const [moved, protectedBy] = moveFirst ? await inLockOrder(model.id, [move, protect]) : (await inLockOrder(model.id, [protect, move])).reverse();
    const log: { action: string }[] = await t.server.db.query(
      `SELECT action FROM audit_event WHERE target_id = $1 AND action IN ('alias.set', 'aliasPolicy.set') ORDER BY id`, [model.id],
    );
    return {
      moveFirst,
      move: moved.errors?.[0].extensions.code ?? 'MOVED',
      policy: protectedBy.errors?.[0].extensions.code ?? 'SET',
      log: log.map((r) => r.action),
      alias: (await t.ok(PRODUCTION, { id: model.id })).node.alias.number,
    };
  };

  const ROUNDS = 24;
  const results = [];
  for (let batch = 0; batch < ROUNDS; batch += 6) {
    results.push(...(await Promise.all([0, 1, 2, 3, 4, 5].map((j) => round(batch + j)))));
  }
  // A move that took the lock first committed before the policy existed; one that took it
  // second found the policy and was refused. No direct move ever follows the policy in the log.
  expect(results).toEqual(Array.from({ length: ROUNDS }, (_, i) => (i % 2 === 0
    ? { moveFirst: true, move: 'MOVED', policy: 'SET', log: ['alias.set', 'alias.set', 'aliasPolicy.set'], alias: 2 }
    : { moveFirst: false, move: 'FORBIDDEN', policy: 'SET', log: ['alias.set', 'aliasPolicy.set'], alias: 1 })));
});
