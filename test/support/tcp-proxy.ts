import net from 'node:net';

/**
 * A TCP proxy in front of a server, for dropping a client's connections for real: `cut()`
 * destroys every connection through it (the client sees its socket close abnormally, 1006, as
 * when a network fails), and the proxy keeps listening, so the client can connect again.
 * `down()` also closes every new connection at once until `up()`, so a test knows that what it
 * does meanwhile happens while the client is away.
 */
export async function startProxy(targetPort: number) {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let cuts = 0;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    /** Drops every connection through the proxy now. */
    cut(): void {
      cuts++;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    /** Cuts every connection, and closes each new one as soon as it comes, until up(). */
    down(): void {
      refusing = true;
      this.cut();
    },
    /** Lets connections through again. */
    up(): void {
      refusing = false;
    },
    /** How many times cut() was called. */
    get cuts() { return cuts; },
    /** Connections open through the proxy. */
    get open() { return pairs.size; },
    async close(): Promise<void> {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
