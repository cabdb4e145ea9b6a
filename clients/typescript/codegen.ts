// GraphQL Code Generator config of the client: the types of every operation in operations/,
// from the server's committed schema. `npm run build` (root or this workspace) runs it, and
// test/client/codegen.test.ts fails when src/generated/ differs from what it generates now.
import path from 'node:path';
import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * How the schema's custom scalars travel as JSON: DateTime as an ISO-8601 string, SafeInt as a
 * number (it is within Number.MAX_SAFE_INTEGER by definition), JSONObject as an object and JSON
 * as any JSON value. Without these codegen types all four as `unknown`.
 */
export const SCALARS = {
  DateTime: 'string',
  SafeInt: 'number',
  JSONObject: 'Record<string, unknown>',
  JSON: 'unknown',
};

/** The config with its output folder as a parameter, so the staleness test can generate elsewhere and compare. */
export function clientCodegen(outDir: string = path.join(__dirname, 'src/generated/')): CodegenConfig {
  return {
    schema: path.join(__dirname, '../../schema/schema.graphql'),
    documents: [path.join(__dirname, 'operations/*.graphql')],
    // Fails the build on an operation the schema does not have.
    ignoreNoDocuments: false,
    silent: true,
    generates: {
      [outDir]: {
        preset: 'client',
        presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
        config: {
          scalars: SCALARS,
          strictScalars: true,
          enumsAsTypes: true,
          useTypeImports: true,
          documentMode: 'documentNode',
        },
      },
    },
  };
}

// MODELGRAPH_CODEGEN_OUT: where the staleness test has it generate, to compare with what is committed.
export default clientCodegen(process.env.MODELGRAPH_CODEGEN_OUT);
