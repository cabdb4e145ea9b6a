import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { freePort } from '../src/core/db/embedded-postgres';
import { testDatabaseUrl } from './support/harness';
import { ServerProcess, dataOf, killChild, openDatabase, post, spawnServer, tempDir, until } from './faults/support';

/**
 * OpenTelemetry, end to end: the built server (npm test builds it first) run as a child process
 * with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a small OTLP/HTTP receiver here, which takes the
 * JSON encoding (OTEL_EXPORTER_OTLP_PROTOCOL=http/json).
 */

const ROOT = path.resolve(__dirname, '..');

interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}
interface Span extends OtlpSpan { scope: string; service: string }

/** Receives OTLP/HTTP JSON exports on /v1/traces and keeps their spans, flattened. */
function otlpReceiver() {
  const spans: Span[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const doc = JSON.parse(body) as { resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[] };
      for (const rs of doc.resourceSpans ?? []) {
        const service = String(rs.resource.attributes?.find((a) => a.key === 'service.name')?.value.stringValue);
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, scope: ss.scope.name, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return {
    spans, paths,
    start: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))),
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const attr = (s: Span, key: string) => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? v.intValue ?? v.boolValue) : undefined;
};

describe('OpenTelemetry traces', () => {
  const receiver = otlpReceiver();
  const data = tempDir('modelgraph-otel-');
  let server: ServerProcess | null = null;
  let db: DataSource;
  let adminKey: string;

  beforeAll(async () => {
    ({ db, adminKey } = await openDatabase(testDatabaseUrl()));
  });
  afterAll(async () => {
    await killChild(server);
    await receiver.stop();
    await db?.destroy();
    data.remove();
  });

  test('an HTTP request, its GraphQL operation and its SQL arrive as one trace', async () => {
    const otlpPort = await receiver.start();
    server = await spawnServer({
      DATABASE_URL: testDatabaseUrl(),
      MODELGRAPH_MONITOR_INTERVAL_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'modelgraph-under-test',
    }, await freePort(), data.dir);
    const answer = await post(server.url, adminKey, `query TracedProbe { projects(first: 1) { nodes { id } } }`);
    expect(dataOf(answer)).toBeDefined();
    const failed = await post(server.url, adminKey, `query TracedFailure { node(id: "not-an-id") { id } }`);
    expect(failed.kind === 'answer' && failed.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    // A stop sends the spans still buffered before the process exits.
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const operation = await until('the operation span', () => receiver.spans.find((s) => s.name === 'query TracedProbe'), 10_000);

    expect(receiver.paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);
    expect(operation).toMatchObject({ scope: 'modelgraph', service: 'modelgraph-under-test' });
    expect(attr(operation, 'graphql.operation.name')).toBe('TracedProbe');
    expect(attr(operation, 'graphql.operation.type')).toBe('query');
    const trace = receiver.spans.filter((s) => s.traceId === operation.traceId);
    // The HTTP server span is the root: the operation and the SQL hang under it.
    const root = trace.find((s) => s.scope === '@opentelemetry/instrumentation-http' && s.kind === 2);
    expect(root).toBeDefined();
    expect(root!.parentSpanId ?? '').toBe('');
    expect(operation.parentSpanId).toBeTruthy();
    expect(trace.some((s) => s.scope === '@opentelemetry/instrumentation-graphql' && s.name === 'graphql.parse')).toBe(true);
    const sql = trace.filter((s) => s.scope === '@opentelemetry/instrumentation-pg');
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.some((s) => String(attr(s, 'db.statement') ?? attr(s, 'db.query.text')).includes('project'))).toBe(true);

    // The failed operation has a trace of its own, marked as an error with its code.
    const failure = receiver.spans.find((s) => s.name === 'query TracedFailure')!;
    expect(failure.traceId).not.toBe(operation.traceId);
    expect(failure.status?.code).toBe(2);
    expect(attr(failure, 'graphql.error.code')).toBe('BAD_USER_INPUT');
    // Health probes (spawnServer polls /healthz) are not traced.
    expect(receiver.spans.some((s) => String(attr(s, 'url.path') ?? attr(s, 'http.target') ?? '').includes('healthz'))).toBe(false);
  });

  test('without OTEL_EXPORTER_OTLP_ENDPOINT no OpenTelemetry module is loaded', () => {
    const loaded = (env: Record<string, string>) => execFileSync(process.execPath, ['-e', `
      require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'app', 'tracing.js'))});
      process.stdout.write(String(Object.keys(require.cache).filter((k) => k.includes('@opentelemetry')).length));`,
    ], { env: { PATH: process.env.PATH, ...env } }).toString();
    expect(loaded({})).toBe('0');
    // The same check with the variable set finds the SDK, so the count above can tell.
    expect(Number(loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_EXPORTER: 'none' }))).toBeGreaterThan(0);
  });
});
