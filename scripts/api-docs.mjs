// Writes the API reference, docs/api/README.md, from the committed schema/schema.graphql with
// graphql-markdown (offline: it reads the file, no server, no network). `--check` only compares
// and fails when the committed page is stale; test/docs.test.ts runs it, so a schema change
// without `npm run docs:api` fails the suite.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema } from 'graphql';
import graphqlMarkdown from 'graphql-markdown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA = path.join(ROOT, 'schema', 'schema.graphql');
const PAGE = path.join(ROOT, 'docs', 'api', 'README.md');

const schema = buildSchema(readFileSync(SCHEMA, 'utf8'));
const lines = [];
graphqlMarkdown.renderSchema(await graphqlMarkdown.schemaToJSON(schema), {
  title: 'ModelGraph API reference',
  prologue: [
    'Every query, mutation, subscription and type of the API, with the descriptions the server',
    'publishes. Generated from `schema/schema.graphql` by `npm run docs:api`; do not edit by hand.',
    'Send `Authorization: Bearer <key>` with every request (README, "API in brief").',
  ].join('\n'),
  tocFieldTypes: ['Query', 'Mutation', 'Subscription'],
  printer: (line) => lines.push(line),
});
const text = `${lines.join('\n').replace(/[ \t]+$/gm, '')}\n`;

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(PAGE, 'utf8');
  } catch {
    // Missing: stale as well.
  }
  if (committed !== text) {
    process.stderr.write(`${path.relative(ROOT, PAGE)} is out of date with schema/schema.graphql: run \`npm run docs:api\` and commit it\n`);
    process.exit(1);
  }
} else {
  writeFileSync(PAGE, text);
}
