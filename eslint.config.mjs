// ESLint for `npm run lint`: the recommended rules of ESLint and typescript-eslint (the ones
// that need no type information, so linting stays fast and needs no tsconfig program), and the
// two rules of ARCHITECTURE.md that are about code rather than imports between folders:
// resolvers import no other resolver and hold no SQL. The folder rules (layers, module order,
// cycles) are dependency-cruiser's, in .dependency-cruiser.cjs.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'clients/*/dist/', 'clients/*/src/generated/', 'coverage/', '.modelgraph/', 'bench/results/', 'bench/peers/*/node_modules/', 'test/artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // The code base's convention, which tsc's noUnusedLocals also follows: a leading `_` marks
      // a binding that must exist but is not read (a subscription argument that only shapes the
      // schema, a property dropped by destructuring with a rest).
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
      // `interface Loaders extends ReturnType<typeof xLoaders> {}` is how each module adds its
      // loaders to core's Loaders (declaration merging); a type alias cannot merge. Empty
      // interfaces with no `extends` are still reported.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    // Tests and benchmarks read GraphQL responses, which are untyped JSON: `any` is the honest
    // type of `res.data` there, and the assertions check its shape. Source code stays typed.
    files: ['test/**', 'bench/**', '**/__tests__/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Node scripts written as plain JavaScript (configs, the benchmark's peer servers).
    files: ['**/*.{js,cjs,mjs}'],
    languageOptions: {
      globals: {
        require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly',
        Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        fetch: 'readonly', AbortController: 'readonly',
      },
    },
  },
  {
    // The browser apps (web/<app>/, bundled by scripts/build-web.mjs): the browser's globals.
    files: ['web/**'],
    languageOptions: {
      globals: {
        window: 'readonly', document: 'readonly', location: 'readonly', console: 'readonly', Worker: 'readonly',
        fetch: 'readonly', WebSocket: 'readonly', sessionStorage: 'readonly', localStorage: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        requestAnimationFrame: 'readonly', HTMLElement: 'readonly',
      },
    },
  },
  {
    // CommonJS is these files' module format (package.json has no "type": "module").
    files: ['**/*.{js,cjs}'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.resolver.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '\\.resolver$',
          message: 'A resolver imports no other resolver: move the shared read to the module\'s service, loaders or <module>.access.ts.',
        }],
      }],
      'no-restricted-syntax': ['error',
        {
          selector: "CallExpression[callee.property.name='query']",
          message: 'No SQL in resolvers: run it in the module\'s service (which takes an EntityManager) or read through ctx.loaders.',
        },
        {
          selector: "CallExpression[callee.property.name='createQueryBuilder'], CallExpression[callee.name='createQueryBuilder']",
          message: 'No SQL in resolvers: build the query in the module\'s service or loaders.',
        },
      ],
    },
  },
);
