// GraphQL Code Generator config for your own ModelGraph operations (client preset).
//
//   npm install -D @graphql-codegen/cli @graphql-codegen/client-preset
//   npm install @graphql-typed-document-node/core
//   npx graphql-codegen --config codegen.ts
//
// The schema: ModelGraph's committed schema/schema.graphql, or a running server (it answers
// introspection): MODELGRAPH_SCHEMA=http://localhost:4000/graphql npx graphql-codegen ...
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: process.env.MODELGRAPH_SCHEMA ?? '../../schema/schema.graphql',
  documents: ['**/*.graphql', '!node_modules/**'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        // ModelGraph's custom scalars, as they travel in JSON. Without these four lines codegen
        // types every one of them as `unknown`.
        scalars: {
          DateTime: 'string', // ISO-8601, e.g. "2026-01-01T00:00:00.000Z"
          SafeInt: 'number', // an integer within Number.MAX_SAFE_INTEGER (sizes, counts, parameter counts)
          JSONObject: 'Record<string, unknown>', // labels, configs, params
          JSON: 'unknown', // any JSON value (feature values, sample inputs)
        },
        // Fails on a scalar with no mapping, should the schema gain one.
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
