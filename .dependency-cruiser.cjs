// The import rules of ARCHITECTURE.md, checked by `npm run lint` (depcruise).
//
// Layers: src/core imports no module and not src/app; a module imports core/ and the modules
// EARLIER in the declared order, never src/app. The order is read from src/app/modules.ts (its
// ORDER array, with the import lines that say which folder each descriptor comes from), so it
// is written once: appending a descriptor there is all a new module needs here.
//
// Tests (__tests__/, *.spec.ts, test/) may import across layers to set things up; they are
// exempt from the layer rules, not from the cycle rule.
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const MODULES_TS = join(__dirname, 'src/app/modules.ts');

/** The module folders in the declared order, earliest first. */
function declaredOrder() {
  const text = readFileSync(MODULES_TS, 'utf8');
  const folderOf = new Map();
  for (const m of text.matchAll(/import\s*\{\s*(\w+)\s*\}\s*from\s*'\.\.\/modules\/([\w-]+)'/g)) folderOf.set(m[1], m[2]);
  const body = /export const ORDER\b[^=]*=\s*\[([^\]]*)\]/.exec(text);
  if (!body) throw new Error(`${MODULES_TS}: no ORDER array found`);
  const order = body[1].split(',').map((s) => s.trim()).filter(Boolean).map((id) => {
    const folder = folderOf.get(id);
    if (!folder) throw new Error(`${MODULES_TS}: ORDER lists ${id}, which no "import { ${id} } from '../modules/<folder>'" line names`);
    return folder;
  });
  if (order.length === 0) throw new Error(`${MODULES_TS}: ORDER is empty`);
  return order;
}

const ORDER = declaredOrder();
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anyOf = (names) => `(${names.map(esc).join('|')})`;
const TESTS = '(^|/)__tests__/|\\.spec\\.ts$|^test/';

// A folder under src/modules/ that ORDER does not list has no place in the order, so no rule
// below would cover it: say so instead of letting it pass unchecked.
const unlisted = readdirSync(join(__dirname, 'src/modules'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !ORDER.includes(d.name))
  .map((d) => d.name);

/** One rule per module: it must not import any module after it in ORDER. */
const laterModuleRules = ORDER.slice(0, -1).map((name, i) => ({
  name: `module-order:${name}`,
  severity: 'error',
  comment: `${name} comes before ${ORDER.slice(i + 1).join(', ')} in src/app/modules.ts ORDER, so it must not import them. ` +
    'Extend the earlier type from the later module (a field resolver in <earlier>.fields.ts) or declare a hook in ' +
    `${name} that the later module registers (core/hooks.ts).`,
  from: { path: `^src/modules/${esc(name)}/`, pathNot: TESTS },
  to: { path: `^src/modules/${anyOf(ORDER.slice(i + 1))}/` },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only imports included) hide the order in which the code can be read. Move the shared part down.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-feature',
      severity: 'error',
      comment: 'src/core is the kernel: it imports neither a module nor the composition root. Let the module register with core (node registry, hooks) instead.',
      from: { path: '^src/core/', pathNot: TESTS },
      to: { path: '^src/(modules|app)/' },
    },
    {
      name: 'module-imports-no-app',
      severity: 'error',
      comment: 'src/app is the composition root: modules never import it; it imports them.',
      from: { path: '^src/modules/', pathNot: TESTS },
      to: { path: '^src/app/' },
    },
    ...laterModuleRules,
    {
      name: 'module-not-in-order',
      severity: 'error',
      comment: `src/modules/${unlisted.join(', ') || '<none>'} is not in src/app/modules.ts ORDER: append its descriptor there so the order rules cover it.`,
      from: { path: unlisted.length ? `^src/modules/${anyOf(unlisted)}/` : '^$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // bench/peers/* are separate npm projects (the benchmark's peers), with their own installs.
    exclude: { path: '^(dist|coverage|bench/peers)/' },
    // Type-only imports count: they tie the layers as much as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
