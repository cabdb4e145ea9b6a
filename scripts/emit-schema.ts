/**
 * Writes the schema the code builds to schema/schema.graphql (or checks it with --check).
 * The file is committed: it is what clients and the contract check read, and a diff in review
 * shows every API change.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { getSchema } from '../src/app/schema';

export const SCHEMA_FILE = path.resolve(__dirname, '..', '..', 'schema', 'schema.graphql');

export async function emittedSchema(): Promise<string> {
  return `${printSchema(await getSchema())}\n`;
}

if (require.main === module) {
  emittedSchema().then((text) => {
    const file = process.argv[2] && process.argv[2] !== '--check' ? path.resolve(process.argv[2]) : SCHEMA_FILE;
    if (process.argv.includes('--check')) {
      if (readFileSync(file, 'utf8') !== text) {
        process.stderr.write(`${file} is out of date with the code: run \`npm run schema\` to write it, then commit it\n`);
        process.exit(1);
      }
      return;
    }
    writeFileSync(file, text);
  });
}
