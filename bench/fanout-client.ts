/**
 * A process of fan-out subscribers (bench/fanout.ts forks a few, so that parsing what arrives
 * does not share one event loop): graphql-ws over plain `ws`, `perSocket` subscriptions a
 * socket. Every point's value is the number of the write that made it; the arrival time of
 * each is kept, on the clock every process shares (performance.timeOrigin + now()).
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

interface Setup {
  url: string;
  authorization: string | null;
  sockets: number;
  perSocket: number;
  query: string;
  variables: Record<string, unknown>;
}

const now = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send!(m);

/** Arrival times of each write's point, by write number. */
const arrivals = new Map<number, number[]>();
let received = 0;
/** `next` messages, whatever number of points each holds. */
let messages = 0;
let lastAt = 0;
const sockets: WebSocket[] = [];

function onNext(payload: { data?: { metricPoints?: { points: { value: number }[] } }; errors?: unknown }) {
  if (payload.errors) {
    send({ type: 'fatal', error: JSON.stringify(payload.errors) });
    return;
  }
  const at = now();
  messages++;
  for (const p of payload.data!.metricPoints!.points) {
    let list = arrivals.get(p.value);
    if (!list) arrivals.set(p.value, (list = []));
    list.push(at);
    received++;
  }
  lastAt = at;
}

async function open(setup: Setup): Promise<void> {
  const socket = new WebSocket(setup.url, 'graphql-transport-ws', { perMessageDeflate: false });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    let acked = 0;
    socket.on('error', reject);
    socket.on('close', (code, reason) => send({ type: 'closed', code, reason: String(reason) }));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: setup.authorization ? { authorization: setup.authorization } : {} })));
    socket.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'next') onNext(m.payload);
      else if (m.type === 'connection_ack') {
        for (let i = 0; i < setup.perSocket; i++) {
          socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: setup.query, variables: setup.variables } }));
        }
        acked++;
        resolve();
      } else if (m.type === 'error') send({ type: 'fatal', error: JSON.stringify(m.payload) });
      else if (m.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      void acked;
    });
  });
}

process.on('message', async (m: { type: string; setup?: Setup; from?: number; to?: number }) => {
  try {
    if (m.type === 'open') {
      const setup = m.setup!;
      // A few sockets at a time: a burst of thousands of handshakes measures the kernel, not the peers.
      for (let i = 0; i < setup.sockets; i += 10) {
        await Promise.all(Array.from({ length: Math.min(10, setup.sockets - i) }, () => open(setup)));
      }
      send({ type: 'opened' });
    } else if (m.type === 'stats') {
      send({ type: 'stats', received, messages, lastAt });
    } else if (m.type === 'arrivals') {
      const out: Record<number, number[]> = {};
      for (let v = m.from!; v <= m.to!; v++) out[v] = arrivals.get(v) ?? [];
      send({ type: 'arrivals', arrivals: out });
    } else if (m.type === 'close') {
      for (const s of sockets) s.close();
      send({ type: 'closedAll' });
    }
  } catch (err) {
    send({ type: 'fatal', error: String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
