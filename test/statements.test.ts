import type { QueryRunner } from 'typeorm';
import { TestServer, createKey, createProject, startTestServer } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const NESTED = `query($s: String!) { project(slug: $s) {
  models(first: 60) { nodes {
    id name tags { key value } project { slug } latestVersion { number }
    aliases { name version { number } }
    production: alias(name: "production") { number }
    aliasHistory(first: 5) { nodes { alias toVersion { number } } }
    versions(first: 10) { nodes {
      id number tags { key value } aliases
      baseVersion { id number model { name } }
      derivedVersions(first: 3) { nodes { id } }
    } }
  } }
} }`;

/** Seeds `models` models with 3 versions each (v2, v3 based on the one before) and aliases. */
async function seed(models: number): Promise<string> {
  const { slug } = await createProject(t);
  // Seeding goes straight to SQL: only the read below is under test.
  await t.server.db.query(
    `WITH p AS (SELECT id FROM project WHERE slug = $1),
     m AS (INSERT INTO model (project_id, name, kind, tags, version_count)
           SELECT p.id, 'model-' || i, 'INTERNAL', jsonb_build_array(jsonb_build_object('key', 'i', 'value', i::text)), 3
             FROM p, generate_series(1, $2) i RETURNING id, project_id)
     INSERT INTO model_version (model_id, project_id, number, status, source, created_by, tags)
     SELECT m.id, m.project_id, n, 'READY', '{"kind":"ARTIFACT","uri":"s3://x"}', 'seed', '[{"key":"n","value":"1"}]'
       FROM m, generate_series(1, 3) n`,
    [slug, models],
  );
  await t.server.db.query(
    `UPDATE model_version v SET base_version_id = b.id FROM model_version b
      WHERE b.model_id = v.model_id AND b.number = v.number - 1 AND v.project_id = (SELECT id FROM project WHERE slug = $1)`,
    [slug],
  );
  await t.server.db.query(
    `WITH v AS (SELECT v.* FROM model_version v JOIN project p ON p.id = v.project_id WHERE p.slug = $1 AND v.number = 3)
     , a AS (INSERT INTO model_alias (project_id, model_id, name, version_id, revision, updated_by)
             SELECT project_id, model_id, 'production', id, 1, 'seed' FROM v)
     INSERT INTO alias_event (project_id, model_id, alias, to_version_id, actor) SELECT project_id, model_id, 'production', id, 'seed' FROM v`,
    [slug],
  );
  return slug;
}

async function statementsFor(slug: string, key?: string): Promise<{ count: number; models: number }> {
  const [count, data] = await t.countStatements(() => t.ok(NESTED, { s: slug }, key));
  return { count, models: data.project.models.nodes.length };
}

test('a nested read costs the same number of SQL statements for 5 and for 50 models', async () => {
  const small = await seed(5);
  const large = await seed(50);
  const a = await statementsFor(small);
  const b = await statementsFor(large);
  expect(a.models).toBe(5);
  expect(b.models).toBe(50);
  expect(b.count).toBe(a.count);
  // One per field shape (auth, project, models, versions, aliases ...), not one per row.
  expect(a.count).toBeLessThanOrEqual(15);
});

test('the count leaves out authentication, which the key cache makes come and go', async () => {
  const slug = await seed(5);
  const warm = await statementsFor(slug);
  const authBefore = t.server.sql.authentication;
  // A key never used: not cached, and its lastUsedAt is written (a SELECT and an UPDATE).
  const fresh = await statementsFor(slug, await createKey(t, 'VIEWER', slug));
  // A lost LISTEN connection empties the key cache (revocations could go unheard).
  await t.server.events.dropConnectionForTest();
  const dropped = await statementsFor(slug);
  expect(t.server.sql.authentication - authBefore).toBeGreaterThanOrEqual(3);
  expect([fresh.count, dropped.count]).toEqual([warm.count, warm.count]);
});

/** The statements (texts, sorted; authentication and background work left out) one read of `slug` sends. */
async function statementTexts(slug: string): Promise<string[]> {
  const sent: string[] = [];
  const counter = t.server.sql;
  const logQuery = counter.logQuery.bind(counter);
  counter.logQuery = (query, parameters, runner) => {
    // Background work (the monitor timer, tasks after a commit) is the clock's, not the read's.
    if (!['authentication', 'background'].includes(runner?.data?.purpose)) sent.push(query.replace(/\s+/g, ' '));
    logQuery(query, parameters, runner);
  };
  try {
    await t.ok(NESTED, { s: slug });
  } finally {
    delete (counter as { logQuery?: unknown }).logQuery;
  }
  return sent.sort();
}

test('the statements do not depend on which concurrent statement answers first', async () => {
  // A model's latestVersion, aliases and versions are read concurrently with its aliasHistory,
  // and all of them but the history return versions that fill modelVersionById, which
  // aliasHistory.toVersion then loads. Here the version reads are sent only once the history
  // has answered, so toVersion is loaded while they are still running: it must wait for them
  // rather than read the version a second time. Compared as statement texts, so that a failure
  // shows which statement came or went.
  const slug = await seed(5);
  const usual = await statementTexts(slug);
  const db = t.server.db;
  for (let round = 0; round < 10; round++) {
    let historyAnswered!: () => void;
    const history = new Promise<void>((resolve) => { historyAnswered = resolve; });
    let held = 0;
    const query = db.query.bind(db);
    // The query runner is passed on: authentication's statements are told apart by theirs (a
    // wrapper that dropped it made them count as the read's whenever the key cache missed).
    db.query = (async (sql: string, parameters?: unknown[], runner?: QueryRunner) => {
      if (/\bFROM alias_event\b/.test(sql)) {
        try { return await query(sql, parameters, runner); } finally { historyAnswered(); }
      }
      if (/\bmodel_version\b/.test(sql)) {
        held++;
        await history;
      }
      return query(sql, parameters, runner);
    }) as typeof db.query;
    let reordered: string[];
    try {
      reordered = await statementTexts(slug);
    } finally {
      delete (db as { query?: unknown }).query;
    }
    expect(held).toBeGreaterThanOrEqual(3);
    expect(reordered).toEqual(usual);
  }
});

test('the read returns what was seeded', async () => {
  const slug = await seed(2);
  const data = await t.ok(NESTED, { s: slug });
  const m = data.project.models.nodes.find((n: { name: string }) => n.name === 'model-1');
  expect(m.latestVersion).toEqual({ number: 3 });
  expect(m.production).toEqual({ number: 3 });
  expect(m.aliases).toEqual([{ name: 'production', version: { number: 3 } }]);
  expect(m.versions.nodes.map((v: { number: number }) => v.number)).toEqual([3, 2, 1]);
  expect(m.versions.nodes[0].baseVersion.number).toBe(2);
  expect(m.versions.nodes[0].aliases).toEqual(['production']);
  expect(m.versions.nodes[1].derivedVersions.nodes).toEqual([{ id: m.versions.nodes[0].id }]);
  expect(m.project).toEqual({ slug });
});

test('without batching, the same read costs one statement per row (what the loaders save)', async () => {
  const unbatched = await startTestServer({ MODELGRAPH_BATCH_LOADS: 'false' });
  try {
    const slug = await seed(5);
    const [perRead] = await unbatched.countStatements(() => unbatched.ok(NESTED, { s: slug }));
    const batched = await statementsFor(slug);
    expect(perRead).toBeGreaterThan(batched.count * 5);
  } finally {
    await unbatched.stop();
  }
});

