// Prints the contract's type names (comma-separated) minus those still pending, for
// `npm run contract:check`: CI holds every type this server already serves to the contract,
// and the PENDING list shrinks as modules land. Types of a pending field's parent (Query,
// Mutation, Project ...) stay pending until all their fields are served.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// Empty: every contract type is served (the full report, `npm run contract:report`, agrees).
const PENDING = new Set([]);

const { buildSchema } = createRequire(join(process.cwd(), 'package.json'))('graphql');
const contract = buildSchema(readFileSync(new URL('../../shared/api/contract.graphql', import.meta.url), 'utf8'));
const names = Object.keys(contract.getTypeMap()).filter((n) => !n.startsWith('__') && !PENDING.has(n));
process.stdout.write(names.join(','));
