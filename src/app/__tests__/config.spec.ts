import path from 'node:path';
import { ConfigError, loadConfig } from '../config';

describe('loadConfig', () => {
  test('defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 4000, databaseUrl: null, dataDir: path.resolve('./.modelgraph'), adminKey: null, logLevel: 'info', batchLoads: true,
      limits: { maxDepth: 12, maxAliases: 50, maxBodyBytes: 4194304 },
    });
  });

  test('every problem is reported at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', MODELGRAPH_ADMIN_KEY: 'short', MODELGRAPH_MAX_DEPTH: '0', MODELGRAPH_BATCH_LOADS: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
    expect(problems.join('\n')).toMatch(/MODELGRAPH_ADMIN_KEY/);
    expect(problems.join('\n')).toMatch(/MODELGRAPH_MAX_DEPTH/);
    expect(problems.join('\n')).toMatch(/MODELGRAPH_BATCH_LOADS/);
  });

  test('values are parsed', () => {
    const c = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://u@h:5432/d', LOG_LEVEL: 'DEBUG', MODELGRAPH_BATCH_LOADS: 'off', MODELGRAPH_MAX_COST: '500' });
    expect(c).toMatchObject({ port: 8080, databaseUrl: 'postgres://u@h:5432/d', logLevel: 'debug', batchLoads: false, limits: { maxCost: 500 } });
  });
});

describe('loadConfig: rate limit', () => {
  test('on by default; the burst defaults to a minute of refill', () => {
    expect(loadConfig({}).rateLimit).toEqual({ perMinute: 6000, burst: 6000, costPerToken: 100 });
    expect(loadConfig({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '120' }).rateLimit).toEqual({ perMinute: 120, burst: 120, costPerToken: 100 });
    expect(loadConfig({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '120', MODELGRAPH_RATE_LIMIT_BURST: '10', MODELGRAPH_RATE_LIMIT_COST_PER_TOKEN: '1000' }).rateLimit)
      .toEqual({ perMinute: 120, burst: 10, costPerToken: 1000 });
  });

  test('0 turns it off; negative or fractional values are refused', () => {
    expect(loadConfig({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0' }).rateLimit.perMinute).toBe(0);
    expect(() => loadConfig({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '-1' })).toThrow(/MODELGRAPH_RATE_LIMIT_PER_MINUTE/);
    expect(() => loadConfig({ MODELGRAPH_RATE_LIMIT_BURST: '0' })).toThrow(/MODELGRAPH_RATE_LIMIT_BURST/);
    expect(() => loadConfig({ MODELGRAPH_RATE_LIMIT_COST_PER_TOKEN: '1.5' })).toThrow(/MODELGRAPH_RATE_LIMIT_COST_PER_TOKEN/);
  });
});

describe('loadConfig: monitor timer', () => {
  test('every 15 s in batches of 500 by default; 0 turns it off; out of range is refused', () => {
    expect(loadConfig({}).monitorTimer).toEqual({ intervalMs: 15000, batchSize: 500 });
    expect(loadConfig({ MODELGRAPH_MONITOR_INTERVAL_MS: '0', MODELGRAPH_MONITOR_BATCH_SIZE: '20' }).monitorTimer).toEqual({ intervalMs: 0, batchSize: 20 });
    expect(() => loadConfig({ MODELGRAPH_MONITOR_INTERVAL_MS: '-1', MODELGRAPH_MONITOR_BATCH_SIZE: '0' })).toThrow(
      /MODELGRAPH_MONITOR_INTERVAL_MS must be an integer from 0[\s\S]*MODELGRAPH_MONITOR_BATCH_SIZE must be an integer from 1/);
  });
});

describe('loadConfig: metrics and tracing', () => {
  test('metrics on the API port by default, capped at 200 operation names; tracing off', () => {
    expect(loadConfig({})).toMatchObject({ metrics: { enabled: true, port: null, maxOperationNames: 200 }, tracing: { endpoint: null } });
    expect(loadConfig({ MODELGRAPH_METRICS: 'false', MODELGRAPH_METRICS_PORT: '9464', MODELGRAPH_METRICS_MAX_OPERATIONS: '0', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }))
      .toMatchObject({ metrics: { enabled: false, port: 9464, maxOperationNames: 0 }, tracing: { endpoint: 'http://collector:4318' } });
  });

  test('a metrics port equal to the API port, a bad cap or a malformed OTLP endpoint is refused', () => {
    expect(() => loadConfig({ PORT: '4000', MODELGRAPH_METRICS_PORT: '4000', MODELGRAPH_METRICS_MAX_OPERATIONS: '-1', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /MODELGRAPH_METRICS_MAX_OPERATIONS must be an integer[\s\S]*MODELGRAPH_METRICS_PORT must differ from PORT[\s\S]*OTEL_EXPORTER_OTLP_ENDPOINT must be an http/);
  });
});
