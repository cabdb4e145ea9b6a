import type http from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Graceful stop of the HTTP server that also carries the WebSockets. On stop it accepts no new
 * connection, lets the HTTP requests and the WebSocket queries and mutations in flight finish
 * and answer within the grace period, then closes the WebSockets (1001, subscriptions end there)
 * and destroys whatever is left.
 *
 * Apollo's drain plugin did the HTTP half, but it ended every socket without an HTTP request in
 * flight at once, upgraded WebSockets included: a mutation sent over WebSocket then committed
 * with no socket left to answer on.
 */
export class Drain {
  /** HTTP sockets and their requests in flight; upgraded sockets leave this map. */
  private readonly requests = new Map<Socket, number>();
  private readonly sockets = new Set<Socket>();
  /** WebSocket queries and mutations in flight, by connection and operation id. */
  private readonly operations = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private stopping = false;

  constructor(private readonly server: http.Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      this.requests.set(socket, 0);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.requests.delete(socket);
        this.notify();
      });
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      this.requests.set(socket, (this.requests.get(socket) ?? 0) + 1);
      res.once('close', () => {
        if (!this.requests.has(socket)) return;
        const left = this.requests.get(socket)! - 1;
        this.requests.set(socket, left);
        if (this.stopping && left === 0) socket.end();
        this.notify();
      });
    });
    // An upgraded socket is the WebSocket server's to close.
    server.on('upgrade', (req: http.IncomingMessage) => { this.requests.delete(req.socket); });
  }

  /** True once stop() was called: new WebSocket connections and operations are refused. */
  get draining(): boolean {
    return this.stopping;
  }

  operationStarted(key: string): void {
    this.operations.add(key);
  }

  operationEnded(key: string): void {
    if (this.operations.delete(key)) this.notify();
  }

  /** Forgets the operations of a closed WebSocket connection (their answers have nowhere to go). */
  connectionClosed(prefix: string): void {
    for (const key of this.operations) if (key.startsWith(prefix)) this.operations.delete(key);
    this.notify();
  }

  /**
   * Stops as the class comment says. When the grace period ends with work still in flight,
   * `abandon` runs first (the server ends its database sessions, so that nothing commits after
   * its answer can no longer be sent), then the sockets of that work are closed.
   */
  async stop(graceMs: number, closeWebSockets: () => Promise<void>, abandon: () => Promise<void>): Promise<void> {
    this.stopping = true;
    let abandoned: Promise<void> | null = null;
    const abandonOnce = () => (abandoned ??= abandon());
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, inFlight] of this.requests) if (inFlight === 0) socket.end();
    const deadline = Date.now() + graceMs;
    const settled = async (busy: () => boolean) => {
      while (busy() && Date.now() < deadline) await this.changeOr(deadline - Date.now());
      return !busy();
    };
    await Promise.all([
      (async () => {
        if (!(await settled(() => this.operations.size > 0))) await abandonOnce();
        // The answers of the operations that ended were handed to their sockets; the close frames follow them.
        await new Promise((resolve) => setImmediate(resolve));
        await closeWebSockets();
      })(),
      (async () => {
        if (await settled(() => this.httpInFlight())) return;
        await abandonOnce();
        for (const [socket, n] of this.requests) if (n > 0) socket.destroy();
      })(),
    ]);
    // A peer that does not close its end (or answer the WebSocket close handshake) is not waited for long.
    if (!(await this.changeOr(Math.min(graceMs, 5000), closed))) for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private httpInFlight(): boolean {
    for (const n of this.requests.values()) if (n > 0) return true;
    return false;
  }

  private notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  /** Waits for a change in what is in flight (or for `until`), at most `ms`; false on timeout. */
  private async changeOr(ms: number, until?: Promise<void>): Promise<boolean> {
    const timer = new AbortController();
    const change = until ?? new Promise<void>((resolve) => { this.waiters.add(resolve); });
    const done = await Promise.race([change.then(() => true), sleep(ms, false, { signal: timer.signal }).catch(() => false)]);
    timer.abort();
    return done;
  }
}
