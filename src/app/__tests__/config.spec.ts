import path from 'node:path';
import { ConfigError, loadConfig } from '../config';

describe('loadConfig', () => {
  test('defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 4000, databaseUrl: null, dataDir: path.resolve('./.modelgraph'), adminKey: null, logLevel: 'info', batchLoads: true,
      limits: { maxDepth: 12, maxAliases: 50, maxBodyBytes: 1048576 },
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
