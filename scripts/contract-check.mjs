// `npm run contract:check`: checks the committed schema against the public API contract with the
// contract's own checker, both kept in ../shared (their source of truth, next to this checkout).
// A plain clone has no ../shared: the check is skipped, saying so, rather than failing on a
// missing file, so `.ci/run` and the README's commands work there too.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '..', 'shared');
const CHECKER = path.join(SHARED, 'tools', 'check-contract.mjs');

if (!existsSync(CHECKER)) {
  process.stdout.write(`contract: skipped, ${CHECKER} is absent (a clone without ../shared, where the API contract and its checker live)\n`);
  process.exit(0);
}
const { status, error } = spawnSync(process.execPath, [CHECKER, 'schema/schema.graphql'], { cwd: ROOT, stdio: 'inherit' });
if (error) {
  process.stderr.write(`contract: ${CHECKER} could not run: ${error.message}\n`);
  process.exit(1);
}
process.exit(status ?? 1);
