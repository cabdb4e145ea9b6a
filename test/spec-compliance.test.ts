import { TestServer, createKey, startTestServer } from './support/harness';
import { AuditRow, compare, runAudits } from '../scripts/spec-compliance';

/**
 * GraphQL over HTTP: every server audit of graphql-http against the real server, with a key.
 * A MUST not met fails the suite; the SHOULD and MAY results must be what docs/spec-compliance.md
 * and the README say (`npm run docs:spec` writes both).
 */
let t: TestServer;
let rows: AuditRow[];
beforeAll(async () => {
  t = await startTestServer();
  rows = await runAudits(t.server.url, await createKey(t, 'VIEWER', null));
});
afterAll(async () => { await t.stop(); });

test('graphql-http has audits of every level, and each ran', () => {
  expect(new Set(rows.map((r) => r.level))).toEqual(new Set(['MUST', 'SHOULD', 'MAY']));
  expect(rows.every((r) => ['ok', 'warn', 'notice', 'error'].includes(r.status))).toBe(true);
});

test('every MUST of the GraphQL-over-HTTP spec is met', () => {
  expect(rows.filter((r) => r.level === 'MUST' && r.status !== 'ok').map((r) => `${r.id} ${r.name}: ${r.reason}`)).toEqual([]);
});

test('docs/spec-compliance.md and the README say what the audits find (npm run docs:spec)', () => {
  expect(compare(rows).stale).toEqual([]);
});
