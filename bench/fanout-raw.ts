/**
 * The fan-out peer: a bare `ws` broadcast server that speaks just enough graphql-ws (ack,
 * subscribe, next) for the same clients, and on `POST /write` sends every subscription a
 * `next` of the same shape and size as ModelGraph's metricPoints event for that point, then
 * answers. No database, no GraphQL, no auth: the practical limit of pushing the same bytes.
 */
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 0);
const subscriptions: { socket: WebSocket; id: string }[] = [];

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/write') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const { value, cursor, timestamp } = JSON.parse(body) as { value: number; cursor: string; timestamp: string };
    // One payload, as a broadcast builds it; each message differs only in its subscription id.
    const payload = JSON.stringify({ data: { metricPoints: { cursor, points: [{ timestamp, value }] } } });
    for (const s of subscriptions) {
      if (s.socket.readyState === WebSocket.OPEN) s.socket.send(`{"id":${JSON.stringify(s.id)},"type":"next","payload":${payload}}`);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1}');
  });
});

const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false, handleProtocols: () => 'graphql-transport-ws' });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (m.type === 'subscribe') subscriptions.push({ socket, id: m.id });
  });
  socket.on('close', () => {
    for (let i = subscriptions.length - 1; i >= 0; i--) if (subscriptions[i].socket === socket) subscriptions.splice(i, 1);
  });
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
