import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SCALARS } from '../../clients/typescript/codegen';

// The client's generated code is committed (so the package's types can be read without a build)
// and rebuilt by `npm run build`: this fails when what is committed is not what codegen makes
// now from schema/schema.graphql and clients/typescript/operations. It runs the codegen CLI as
// the build does, into a temporary folder.

const ROOT = path.join(__dirname, '../..');
const COMMITTED = path.join(ROOT, 'clients/typescript/src/generated');
const CODEGEN_BIN = path.join(ROOT, 'node_modules/@graphql-codegen/cli/cjs/bin.js');

const listing = (dir: string) => Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]));

test('the committed generated client is what codegen generates now from the schema and the operations', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-codegen-'));
  try {
    await promisify(execFile)(process.execPath, [CODEGEN_BIN, '--config', 'codegen.ts'], {
      cwd: path.join(ROOT, 'clients/typescript'), env: { ...process.env, MODELGRAPH_CODEGEN_OUT: `${out}/` },
    });
    const fresh = listing(out);
    const committed = listing(COMMITTED);
    expect(Object.keys(fresh).length).toBeGreaterThan(0);
    expect(Object.keys(committed).sort()).toEqual(Object.keys(fresh).sort());
    for (const name of Object.keys(fresh)) {
      // One message per stale file, not a diff of hundreds of lines.
      if (committed[name] !== fresh[name]) throw new Error(`clients/typescript/src/generated/${name} is stale: run npm run build`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the published example config (examples/codegen) generates typed operations with every scalar mapped', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-example-'));
  try {
    // The example as a user runs it (from its folder), writing into a temporary folder instead of ./src/gql.
    const wrapper = path.join(out, 'codegen.ts');
    writeFileSync(wrapper, `import config from ${JSON.stringify(path.join(ROOT, 'examples/codegen/codegen.ts'))};
export default { ...config, generates: { ${JSON.stringify(`${out}/gql/`)}: Object.values(config.generates)[0] } };\n`);
    await promisify(execFile)(process.execPath, [CODEGEN_BIN, '--config', wrapper], { cwd: path.join(ROOT, 'examples/codegen') });
    const types = readFileSync(path.join(out, 'gql/graphql.ts'), 'utf8');
    const query = /export type ProductionVersionQuery = (.*);/.exec(types)?.[1];
    expect(query).toContain('createdAt: string');
    expect(query).toContain('parameterCount: number | null');
    expect(query).toContain('config: Record<string, unknown> | null');
    expect(types).not.toMatch(/\bunknown\b.*DateTime|DateTime.*\bunknown\b/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('every custom scalar of the schema has a TypeScript type in the codegen config', () => {
  const schema = readFileSync(path.join(ROOT, 'schema/schema.graphql'), 'utf8');
  const scalars = [...schema.matchAll(/^scalar (\w+)/gm)].map((m) => m[1]).sort();
  expect(Object.keys(SCALARS).sort()).toEqual(scalars);
});
