import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

/** A peer server running in its own process, with the tail of its output kept for errors. */
export interface Child {
  name: string;
  proc: ChildProcess;
  /** Last lines the process wrote, stdout and stderr interleaved. */
  output(): string;
  exited(): boolean;
}

const TAIL_LINES = 40;

/**
 * Starts and stops the peers' processes. Every process it starts is killed when the runner
 * exits, however it exits, so a failed run leaves no server holding a port or a database.
 */
export class ChildProcesses {
  private readonly children: Child[] = [];

  constructor() {
    // 'exit' handlers must be synchronous: SIGKILL whatever is still alive.
    process.on('exit', () => {
      for (const c of this.children) if (!c.exited()) c.proc.kill('SIGKILL');
    });
  }

  start(name: string, command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Child {
    const proc = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let exited = false;
    proc.once('exit', () => { exited = true; });
    // A spawn failure (ENOENT, EACCES) is an 'error' event; unhandled, it would crash the runner.
    proc.on('error', (err) => { tail.push(String(err)); exited = true; });
    const child: Child = { name, proc, output: () => tail.join('\n'), exited: () => exited };
    this.children.push(child);
    return child;
  }

  /** SIGTERM to all, then SIGKILL to any that has not exited within `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.exited()) return;
        const gone = new Promise<void>((resolve) => c.proc.once('exit', () => resolve()));
        c.proc.kill('SIGTERM');
        const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(timer);
      }),
    );
  }
}

/**
 * Resolves once `port` accepts TCP connections; rejects when the child exits first or the
 * deadline passes, with the child's last output, which usually says why.
 */
export async function waitForPort(child: Child, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited()) throw new Error(`${child.name} exited before listening:\n${child.output()}`);
    if ((await canConnect(port)) && (await notStarting(port))) return;
    if (Date.now() > deadline) throw new Error(`${child.name} did not listen on ${port} within ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * False while the server says it is still starting: ModelGraph binds its port before it has
 * started (a busy port fails before anything is made) and answers 503 until it is ready. A
 * peer without /readyz (404), or that does not speak HTTP, counts as ready once it listens.
 */
async function notStarting(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    await res.arrayBuffer();
    return res.status !== 503;
  } catch {
    return true;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
