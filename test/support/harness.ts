import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { Client as WsClient, createClient } from 'graphql-ws';
import { Client as PgClient } from 'pg';
import { Config, loadConfig } from '../../src/app/config';
import { RunningServer, startServer } from '../../src/app/server';
import { insertApiKey } from '../../src/modules/auth/api-key.service';
import { Role } from '../../src/core/auth/role';

export interface GqlResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions: { code: string; [k: string]: unknown } }[];
}

export interface TestServer {
  server: RunningServer;
  config: Config;
  /** Secret of a fresh global ADMIN key made for this server. */
  adminKey: string;
  /**
   * What the server announced of a first ADMIN key it made (it does when started on a database
   * without keys and no MODELGRAPH_ADMIN_KEY), kept here instead of printed into the test output.
   */
  announced: { secret: string; file: string }[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GqlResponse<T>>;
  /** Like gql, but fails the test on any error and returns data. */
  ok<T = any>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<T>;
  ws(key?: string | null): WsClient;
  /**
   * Runs `fn` and counts the SQL statements the server sent meanwhile (tests run requests one
   * at a time), leaving out those that authenticate the caller (whether there are any depends
   * on the key cache's timing, not on the operation) and those of background work.
   */
  countStatements<T>(fn: () => Promise<T>): Promise<[number, T]>;
  stop(): Promise<void>;
}

export const unique = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

/** The database global-setup created for this run. */
export function testDatabaseUrl(): string {
  const url = process.env.MODELGRAPH_TEST_DATABASE_URL;
  if (!url) throw new Error('MODELGRAPH_TEST_DATABASE_URL is unset: run the tests through jest (npm test)');
  return url;
}

/**
 * An empty database next to the run's, for tests that must be alone on theirs (the monitor
 * timer: one leader per database); `drop` removes it, ending its sessions.
 */
export async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const runUrl = new URL(testDatabaseUrl());
  const name = `mg_scratch_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new PgClient({ connectionString: runUrl.toString() });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(runUrl.toString());
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Starts the real server in this process, on a random port, against the run's database. */
export async function startTestServer(env: Record<string, string> = {}, log?: Logger): Promise<TestServer> {
  const config = loadConfig({
    DATABASE_URL: testDatabaseUrl(),
    PORT: '0',
    LOG_LEVEL: 'silent',
    MODELGRAPH_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'modelgraph-data-')),
    DATABASE_POOL_SIZE: '10',
    // Set, so that the first server of a run makes no secret of its own (one it makes is kept in `announced`, never printed).
    MODELGRAPH_ADMIN_KEY: `test-bootstrap-${randomBytes(16).toString('hex')}`,
    // Off: every test file's server shares the run's database, and a timer would evaluate the
    // monitors of other files' tests whenever it ticks. The timer's tests turn it on, on a database of their own.
    MODELGRAPH_MONITOR_INTERVAL_MS: '0',
    ...env,
  });
  const announced: { secret: string; file: string }[] = [];
  const server = await startServer(config, { log, announceAdminKey: (secret, file) => { announced.push({ secret, file }); } });
  const { secret: adminKey } = await server.db.transaction((m) =>
    insertApiKey(m, { name: unique('test-admin'), role: Role.ADMIN, projectId: null, createdBy: 'test' }),
  );
  const clients: WsClient[] = [];
  const gql = async <T>(query: string, variables?: Record<string, unknown>, key: string | null = adminKey): Promise<GqlResponse<T>> => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GqlResponse<T>;
    return { ...body, status: res.status };
  };
  return {
    server,
    config,
    adminKey,
    announced,
    gql,
    ok: async <T>(query: string, variables?: Record<string, unknown>, key?: string | null) => {
      const res = await gql<T>(query, variables, key);
      if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
      return res.data as T;
    },
    ws: (key: string | null = adminKey) => {
      const client = createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: key ? { authorization: `Bearer ${key}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    countStatements: async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
      // Background work (the monitor timer, tasks after a commit) runs when the clock says, not because of `fn`.
      const sent = () => server.sql.count - server.sql.authentication - server.sql.background;
      const before = sent();
      const result = await fn();
      return [sent() - before, result];
    },
    stop: async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      await server.stop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs one operation over graphql-ws and returns its single result. */
export function wsRequest<T = any>(client: WsClient, query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>> {
  return new Promise((resolve, reject) => {
    let result: GqlResponse<T> | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (r) => { result = { status: 0, data: r.data as T, errors: r.errors as GqlResponse['errors'] }; },
        error: (e) => (Array.isArray(e) ? resolve({ status: 0, errors: e as GqlResponse['errors'] }) : reject(e)),
        complete: () => resolve(result ?? { status: 0 }),
      },
    );
  });
}

/** A fresh project with a unique slug, created by the admin key. */
export async function createProject(t: TestServer, prefix = 'proj'): Promise<{ id: string; slug: string }> {
  const slug = unique(prefix);
  const data = await t.ok(`mutation($slug: String!) { createProject(input: { slug: $slug, name: $slug }) { project { id slug } } }`, { slug });
  return data.createProject.project;
}

/** A new API key with a role, for one project or (projectSlug null) all; returns its secret. */
export async function createKey(t: TestServer, role: 'VIEWER' | 'EDITOR' | 'ADMIN', projectSlug: string | null): Promise<string> {
  const data = await t.ok(
    `mutation($name: String!, $role: Role!, $projectSlug: String) {
       createApiKey(input: { name: $name, role: $role, projectSlug: $projectSlug }) { secret }
     }`,
    { name: unique(`${role.toLowerCase()}-key`), role, projectSlug },
  );
  return data.createApiKey.secret;
}

export async function createModel(t: TestServer, projectSlug: string, name = unique('model'), extra: Record<string, unknown> = {}) {
  const data = await t.ok(
    `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id name } } }`,
    { input: { projectSlug, name, kind: 'INTERNAL', ...extra } },
  );
  return data.createModel.model as { id: string; name: string };
}

export async function createVersion(t: TestServer, modelId: string, extra: Record<string, unknown> = {}) {
  const data = await t.ok(
    `mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id number } } }`,
    { input: { modelId, artifact: { uri: `s3://models/${unique('v')}` }, ...extra } },
  );
  return data.createModelVersion.modelVersion as { id: string; number: number };
}
