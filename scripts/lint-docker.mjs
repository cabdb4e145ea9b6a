#!/usr/bin/env node
// Lints Dockerfile and docker-compose.yml with what runs without a Docker engine (none runs
// here, so the image is never built in CI; docs/operations.md says what that leaves unchecked):
//   1. dockerfile-utils: the Dockerfile's syntax, instruction arguments and flags;
//   2. the rules of this project: the image runs as a user that is not root, has a health
//      check, starts node in exec form (so SIGTERM reaches it), and its Node line is one that
//      package.json `engines` allows;
//   3. `docker compose config` (or docker-compose v1's): the compose file against the Compose
//      schema, with its variables resolved.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser } from 'dockerfile-ast';
import semver from 'semver';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });

// 1. dockerfile-utils prints each problem and exits non-zero on an error.
const utils = run(process.execPath, [path.join(root, 'node_modules', 'dockerfile-utils', 'bin', 'dockerfile-utils'), 'lint', 'Dockerfile']);
if (utils.stdout.trim()) process.stdout.write(utils.stdout);
if (utils.status !== 0) problems.push(`dockerfile-utils lint failed (exit ${utils.status}) ${utils.stderr}`);

// 2. The project's rules, on the final stage.
const dockerfile = DockerfileParser.parse(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
const args = new Map(dockerfile.getInitialARGs().flatMap((a) => {
  const p = a.getProperty();
  return p ? [[p.getName(), p.getValue()]] : [];
}));
const stages = dockerfile.getFROMs();
const last = stages.at(-1);
const inLast = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= last.getRange().start.line);
const named = (kw) => inLast.filter((i) => i.getKeyword() === kw);
const user = named('USER').at(-1)?.getArgumentsContent()?.trim();
if (!user) problems.push('the final stage sets no USER: the server would run as root');
else if (/^(root|0)(:|$)/.test(user)) problems.push(`the final stage runs as ${user}`);
const health = named('HEALTHCHECK').at(-1);
if (!health || /^NONE\b/i.test(health.getArgumentsContent() ?? '')) problems.push('the final stage has no HEALTHCHECK');
const cmd = named('CMD').at(-1);
if (!cmd || !cmd.getArgumentsContent()?.trim().startsWith('[')) problems.push('CMD must be in exec form (a JSON array), so that SIGTERM reaches node');

// What `npm run build` reads must be in the build stage's context: the sources tsconfig.build.json
// includes, and web/ when the build bundles the browser apps. A missing COPY fails only in a real build.
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const tsBuild = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8'));
const needed = [...(tsBuild.include ?? []), 'tsconfig.json', 'tsconfig.build.json', ...(/build-web/.test(pkg.scripts?.build ?? '') ? ['web'] : [])];
const buildStage = stages.find((f) => f.getBuildStage() === 'build');
const nextStart = stages[stages.indexOf(buildStage) + 1]?.getRange().start.line ?? Infinity;
const copied = new Set(dockerfile.getCOPYs()
  .filter((c) => c.getRange().start.line > buildStage.getRange().start.line && c.getRange().start.line < nextStart && !c.getFromFlag())
  .flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue().replace(/^\.\//, '').replace(/\/$/, ''))));
for (const item of needed) if (!copied.has(item)) problems.push(`the build stage does not COPY ${item}, which npm run build reads`);

const engines = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines?.node;
for (const from of stages) {
  // An image named by a build argument (ARG NODE_IMAGE) is checked with the argument's default.
  const image = from.getImage()?.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');
  const m = /^node:(\d+)(?:\.(\d+))?/.exec(image ?? '');
  if (!m) { problems.push(`stage ${from.getBuildStage() ?? '(final)'} is not a node image: ${image}`); continue; }
  // The tag names a line (node:20 is its newest release): it must meet the range engines allows.
  const line = m[2] ? `~${m[1]}.${m[2]}` : `^${m[1]}`;
  if (!engines || !semver.intersects(line, engines)) problems.push(`${image} (Node ${line}) is outside package.json engines.node "${engines}"`);
}

// 3. The compose file, with whichever Compose is installed.
const composeV2 = run('docker', ['compose', 'version']).status === 0;
const composeV1 = !composeV2 && run('docker-compose', ['version']).status === 0;
if (composeV2 || composeV1) {
  const [cmdName, cmdArgs] = composeV2 ? ['docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q']] : ['docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']];
  const compose = run(cmdName, cmdArgs);
  if (compose.status !== 0) problems.push(`${cmdName} ${cmdArgs.join(' ')}: ${compose.stderr || compose.stdout}`);
  else console.log(`docker-compose.yml: valid (${composeV2 ? 'docker compose' : 'docker-compose v1'} config)`);
} else if (process.env.CI) {
  problems.push('neither `docker compose` nor `docker-compose` is installed: .ci/run installs docker-compose with apt');
} else {
  console.log('docker-compose.yml: NOT checked, neither `docker compose` nor `docker-compose` is installed (apt-get install --no-install-recommends docker-compose)');
}

if (problems.length) {
  console.error(`Docker lint failed:\n  ${[...new Set(problems)].join('\n  ')}`);
  process.exit(1);
}
console.log(`Dockerfile: valid (dockerfile-utils), runs as ${user}, has a HEALTHCHECK, ${stages.length} stages on Node allowed by engines "${engines}"`);
