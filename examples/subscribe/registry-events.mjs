// Follows a project's registry events over WebSocket (graphql-ws) and never misses or repeats
// one: each event's cursor is written to a file as soon as the event is handled, and every
// (re)subscription passes the last one as `since`, so the server first replays what happened
// while this script was away (disconnected, or not running), then goes live. With no cursor
// yet, it starts from the stream's position as the server gives it (the registryEventsCursor
// query), kept in the file like any other: a socket lost before the first event, or a restart,
// resumes from there. (Subscribing with `since: null` would mean "from now" at each reconnect,
// and what happened in between would be missed.)
//
//   node examples/subscribe/registry-events.mjs <project-slug>
//
// MODELGRAPH_URL     the server (default http://127.0.0.1:4000/graphql; ws:// is derived)
// MODELGRAPH_KEY     a VIEWER key or better (default: .modelgraph/admin-key)
// CURSOR_FILE        where the last cursor is kept (default: registry-events.<slug>.cursor)
//
// Prints one JSON line per event on stdout; connection news goes to stderr.
// Uses only the `graphql-ws` client and `ws`, the packages the server itself uses.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const slug = process.argv[2];
if (!slug) {
  process.stderr.write('usage: node examples/subscribe/registry-events.mjs <project-slug>\n');
  process.exit(2);
}
const httpUrl = process.env.MODELGRAPH_URL ?? 'http://127.0.0.1:4000/graphql';
const url = httpUrl.replace(/^http/, 'ws');
const key = process.env.MODELGRAPH_KEY ?? readFileSync('.modelgraph/admin-key', 'utf8').trim();
const cursorFile = process.env.CURSOR_FILE ?? `registry-events.${slug}.cursor`;

const readCursor = () => {
  try {
    return readFileSync(cursorFile, 'utf8').trim() || null;
  } catch {
    return null;
  }
};

const SUBSCRIPTION = `subscription($p: String!, $since: String) {
  registryEvents(projectSlug: $p, since: $since) { cursor type at actor subject { id } }
}`;

let stopping = false;
let client = null;
const aborter = new AbortController();
const stop = () => { stopping = true; aborter.abort(); client?.dispose(); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

/** The position of the project's stream now: the events that commit after this call follow it. */
async function startingCursor() {
  const res = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: 'query($p: String!) { registryEventsCursor(projectSlug: $p) }', variables: { p: slug } }),
    signal: aborter.signal,
  });
  const body = await res.json();
  if (body.errors) throw new Error(body.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('; '));
  return body.data.registryEventsCursor;
}

for (let attempt = 0; !stopping; attempt++) {
  client = null;
  try {
    let since = readCursor();
    if (since) {
      process.stderr.write(`resuming after ${since}\n`);
    } else {
      since = await startingCursor();
      writeFileSync(cursorFile, `${since}\n`);
      process.stderr.write(`starting at ${since}\n`);
    }
    // One client per connection: graphql-ws would re-send the first `since` on its own retries.
    client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
    for await (const result of client.iterate({ query: SUBSCRIPTION, variables: { p: slug, since } })) {
      if (result.errors) throw new Error(result.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('; '));
      const event = result.data.registryEvents;
      process.stdout.write(`${JSON.stringify(event)}\n`);
      // Handled, then remembered: a crash between the two repeats this event, never skips one.
      writeFileSync(cursorFile, `${event.cursor}\n`);
      attempt = 0;
    }
  } catch (err) {
    if (stopping) break;
    // A refused key or a bad cursor will not get better by retrying.
    const message = err instanceof Error ? err.message : `connection closed (${err?.code ?? 'unknown'} ${err?.reason ?? ''})`.trim();
    if (/UNAUTHENTICATED|FORBIDDEN|BAD_USER_INPUT|NOT_FOUND/.test(message) || err?.code === 4403) {
      process.stderr.write(`giving up: ${message}\n`);
      process.exit(1);
    }
    const wait = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
    process.stderr.write(`${message}; reconnecting in ${wait} ms\n`);
    await sleep(wait, undefined, { signal: aborter.signal }).catch(() => undefined);
  } finally {
    await client?.dispose();
  }
}
