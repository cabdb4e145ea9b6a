import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './faults/support';

/**
 * `npm start` builds only when something the build reads changed (scripts/build-stamp.mjs
 * ensure), so a restart starts dist/ at once. Tried on a small project of its own with the real
 * script and the real npm: its build counts how often it ran.
 */

const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);

test('a build runs when dist is missing or a source, web/ file, tsconfig or lockfile changed, and not otherwise', async () => {
  const dir = tempDir('modelgraph-stamp-');
  try {
    const at = (...p: string[]) => path.join(dir.dir, ...p);
    mkdirSync(at('scripts'));
    mkdirSync(at('src'));
    copyFileSync(path.join(ROOT, 'scripts', 'build-stamp.mjs'), at('scripts', 'build-stamp.mjs'));
    // The build: makes what `npm start` runs, and counts its runs in a file outside the inputs.
    const build = `node -e "const fs=require('fs');fs.mkdirSync('dist/src/app',{recursive:true});fs.writeFileSync('dist/src/app/main.js','');fs.appendFileSync('builds','x')"`;
    writeFileSync(at('package.json'), JSON.stringify({ name: 'stamp-test', private: true, scripts: { build, postbuild: 'node scripts/build-stamp.mjs write' } }));
    writeFileSync(at('src', 'a.ts'), 'export const a = 1;\n');
    const builds = () => (existsSync(at('builds')) ? readFileSync(at('builds'), 'utf8').length : 0);
    const ensure = async () => {
      // npm_execpath as npm sets it for `npm start`; absent, the script would look for npm on PATH.
      const { stderr } = await run(process.execPath, [at('scripts', 'build-stamp.mjs'), 'ensure'], { cwd: dir.dir, env: { PATH: process.env.PATH } });
      return stderr;
    };

    expect(await ensure()).toContain('building first');
    expect(builds()).toBe(1);
    expect(await ensure()).toBe('');
    expect(builds()).toBe(1);

    writeFileSync(at('src', 'a.ts'), 'export const a = 2;\n');
    await ensure();
    expect(builds()).toBe(2);

    mkdirSync(at('web', 'explorer'), { recursive: true });
    writeFileSync(at('web', 'explorer', 'index.tsx'), 'export {};\n');
    await ensure();
    expect(builds()).toBe(3);
    // Output and installed packages under web/ are not inputs.
    mkdirSync(at('web', 'explorer', 'node_modules'), { recursive: true });
    writeFileSync(at('web', 'explorer', 'node_modules', 'x.js'), '');
    await ensure();
    expect(builds()).toBe(3);

    writeFileSync(at('tsconfig.build.json'), '{}\n');
    await ensure();
    writeFileSync(at('package-lock.json'), '{}\n');
    await ensure();
    expect(builds()).toBe(5);

    // Touched without a change (a checkout, a copy): no build.
    writeFileSync(at('src', 'a.ts'), 'export const a = 2;\n');
    await ensure();
    expect(builds()).toBe(5);

    rmSync(at('dist', 'src', 'app', 'main.js'));
    await ensure();
    expect(builds()).toBe(6);
  } finally {
    dir.remove();
  }
});
