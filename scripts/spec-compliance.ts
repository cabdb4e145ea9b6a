/**
 * GraphQL over HTTP compliance: runs every server audit of the `graphql-http` package (the
 * reference implementation of the GraphQL-over-HTTP spec) against a running ModelGraph and
 * writes the results where readers look: the whole table in docs/spec-compliance.md and the
 * SHOULD rows in the README, between its spec-compliance markers.
 *
 *   npm run docs:spec            start a server (DATABASE_URL's, else an embedded PostgreSQL), audit, write
 *   npm run docs:spec -- --check the same, but fail when the committed text differs
 *
 * test/spec-compliance.test.ts runs the same audits against its test server: it fails on any
 * MUST that is not met, and when the committed text is not what the audits say.
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { serverAudits, type AuditResult } from 'graphql-http';
import { loadConfig } from '../src/app/config';
import { startServer } from '../src/app/server';
import { insertApiKey } from '../src/modules/auth/api-key.service';
import { Role } from '../src/core/auth/role';

export const ROOT = path.resolve(__dirname, '..', ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []));
export const DOC_FILE = path.join(ROOT, 'docs', 'spec-compliance.md');
export const README_FILE = path.join(ROOT, 'README.md');
const START = '<!-- spec-compliance:start (npm run docs:spec writes this table) -->';
const END = '<!-- spec-compliance:end -->';

export interface AuditRow {
  id: string;
  level: 'MUST' | 'SHOULD' | 'MAY';
  name: string;
  status: AuditResult['status'];
  reason: string;
}

/** Runs every server audit, in the package's order, each request carrying `authorization: Bearer <key>`. */
export async function runAudits(url: string, key: string): Promise<AuditRow[]> {
  // Every request to /graphql needs a key; the audits take a fetch to send theirs through.
  const fetchFn = (input: string | URL | Request, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
  const rows: AuditRow[] = [];
  for (const audit of serverAudits({ url, fetchFn })) {
    const result = await audit.fn();
    rows.push({
      id: audit.id,
      level: audit.name.split(' ')[0] as AuditRow['level'],
      name: audit.name.slice(audit.name.indexOf(' ') + 1),
      status: result.status,
      reason: result.status === 'ok' ? '' : result.reason,
    });
  }
  return rows;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
const table = (rows: AuditRow[]) => [
  '| Audit | Requirement | Result | Why not ok |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| \`${r.id}\` | ${r.level} ${cell(r.name)} | ${r.status} | ${cell(r.reason)} |`),
].join('\n');
const tally = (rows: AuditRow[]) => {
  const count = (status: string) => rows.filter((r) => r.status === status).length;
  return `${count('ok')} ok, ${count('warn')} warn, ${count('notice')} notice, ${count('error')} error`;
};

/** The rows as docs/spec-compliance.md. */
export function renderDoc(rows: AuditRow[]): string {
  const level = (l: AuditRow['level']) => rows.filter((r) => r.level === l);
  return `# GraphQL over HTTP: spec compliance

Every server audit of [graphql-http](https://github.com/graphql/graphql-http) ${pkgVersion()}, the
reference implementation of the GraphQL-over-HTTP spec, run against ModelGraph's \`/graphql\`
with an API key. Written by \`npm run docs:spec\`; \`test/spec-compliance.test.ts\` fails when a
MUST is not met or this page no longer says what the audits find.

- MUST: ${tally(level('MUST'))}
- SHOULD: ${tally(level('SHOULD'))}
- MAY: ${tally(level('MAY'))}

A \`warn\` is a SHOULD the server does not follow; a \`notice\` is a MAY it does not take up.
Where a SHOULD about a document that does not parse or validate, or variables that do not
coerce, warns with \`application/json\`, it is one choice: such a request is answered 400
whatever the client accepts (Apollo Server's behaviour, which ModelGraph's clients and tests
rely on), where the spec prefers 200 for clients that accept only the legacy
\`application/json\`. Clients that send \`accept: application/graphql-response+json\` get the
status the spec asks for. The MAY notices about GET: Apollo Server's CSRF prevention refuses a
GET that a browser could send cross-site, as the audits' GETs are: one with no \`content-type\`
(or a form's) and neither an \`x-apollo-operation-name\` nor an \`apollo-require-preflight\` header.

## MUST

${table(level('MUST'))}

## SHOULD

${table(level('SHOULD'))}

## MAY

${table(level('MAY'))}
`;
}

/** The README's section between the markers: the SHOULD results. */
export function renderReadme(readme: string, rows: AuditRow[]): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} section`);
  const should = rows.filter((r) => r.level === 'SHOULD');
  const musts = rows.filter((r) => r.level === 'MUST');
  const body = [
    `MUST: ${tally(musts)}. SHOULD: ${tally(should)}, each below:`,
    '',
    table(should),
  ].join('\n');
  return `${readme.slice(0, start + START.length)}\n${body}\n${readme.slice(end)}`;
}

function pkgVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('graphql-http/package.json'), 'utf8')) as { version: string }).version;
}

/** What the committed files would be, and whether they are. */
export function compare(rows: AuditRow[]): { stale: string[]; doc: string; readme: string } {
  const doc = renderDoc(rows);
  const readme = renderReadme(readFileSync(README_FILE, 'utf8'), rows);
  const stale: string[] = [];
  const committed = (file: string) => { try { return readFileSync(file, 'utf8'); } catch { return null; } };
  if (committed(DOC_FILE) !== doc) stale.push(path.relative(ROOT, DOC_FILE));
  if (readFileSync(README_FILE, 'utf8') !== readme) stale.push(path.relative(ROOT, README_FILE));
  return { stale, doc, readme };
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-spec-'));
  const config = loadConfig({
    ...process.env, PORT: '0', LOG_LEVEL: 'silent', MODELGRAPH_DATA_DIR: dataDir, MODELGRAPH_MONITOR_INTERVAL_MS: '0',
    MODELGRAPH_ADMIN_KEY: `spec-${randomBytes(16).toString('hex')}`,
  });
  const server = await startServer(config, { announceAdminKey: () => undefined });
  let rows: AuditRow[];
  try {
    const { secret } = await server.db.transaction((m) =>
      insertApiKey(m, { name: `spec-audit-${randomBytes(4).toString('hex')}`, role: Role.VIEWER, projectId: null, createdBy: 'spec-compliance' }));
    rows = await runAudits(server.url, secret);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const failedMusts = rows.filter((r) => r.level === 'MUST' && r.status !== 'ok');
  for (const r of failedMusts) process.stderr.write(`MUST not met: ${r.id} ${r.name}: ${r.reason}\n`);
  const { stale, doc, readme } = compare(rows);
  if (process.argv.includes('--check')) {
    if (stale.length) process.stderr.write(`${stale.join(' and ')} no longer say what the audits find: run \`npm run docs:spec\` and commit\n`);
    process.exit(stale.length || failedMusts.length ? 1 : 0);
  }
  writeFileSync(DOC_FILE, doc);
  writeFileSync(README_FILE, readme);
  process.exit(failedMusts.length ? 1 : 0);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
