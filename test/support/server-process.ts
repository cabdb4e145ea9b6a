import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** The first start of a data directory migrates a new database: seconds, more on a loaded machine. */
const START_TIMEOUT_MS = 90_000;

/** The server's output with API key secrets masked, for messages that print it. */
export const masked = (out: string) => out.replace(/\bmg_[A-Za-z0-9_-]{8,}/g, 'mg_<secret>');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
  /** Its exit code once it exits (null when a signal ended it). */
  exited: Promise<number | null>;
}

/**
 * Starts `node dist/src/app/main.js` (built by `pretest`) with `env`; resolves with its port
 * once it serves. Its output is captured, never inherited: the first start prints a real ADMIN key.
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'app', 'main.js')], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => { out += chunk; });
  child.stderr!.on('data', (chunk) => { out += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The line it logs at level info once it serves; a start that never serves fails, not hangs.
  const deadline = Date.now() + START_TIMEOUT_MS;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /serving http:\/\/127\.0\.0\.1:(\d+)\/graphql/.exec(out);
      if (m) { clearInterval(timer); resolve(Number(m[1])); }
      else if (Date.now() > deadline) {
        clearInterval(timer);
        child.kill('SIGKILL');
        reject(new Error(`server did not serve within ${START_TIMEOUT_MS} ms (LOG_LEVEL must show info): ${masked(out)}`));
      }
    }, 50);
    exited.then((code) => { clearInterval(timer); reject(new Error(`server exited early (${code}): ${masked(out)}`)); });
  });
  return { child, port, output: () => out, exited };
}
