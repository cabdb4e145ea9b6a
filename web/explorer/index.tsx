// The explorer: GraphiQL, bundled into this server's build (scripts/build-web.mjs), served at
// GET /graphql to browsers. Everything it loads comes from this server: no CDN, no telemetry.
import './workers';
import { StrictMode, useCallback, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import type { Fetcher } from '@graphiql/toolkit';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { Client, createClient } from 'graphql-ws';
import 'graphiql/style.css';
import './explorer.css';
import { operationNameFor } from './operation';

/** What the headers editor holds on a first visit: the one header every request needs. */
const HEADERS_TEMPLATE = JSON.stringify({ Authorization: 'Bearer <paste your key>' }, null, 2);

const DEFAULT_QUERY = `# ModelGraph explorer
#
# 1. Paste an API key into the Headers tab below. The first
#    ADMIN key was printed at the first start and written to
#    <data dir>/admin-key (.modelgraph/admin-key by default).
# 2. Run this query with the ▶ button (Ctrl-Enter).
#
# Subscriptions run over graphql-ws, with the same headers.

query Projects {
  projects(first: 10) {
    edges { node { id name } }
  }
}
`;

const httpUrl = `${location.origin}/graphql`;
const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;

/**
 * The headers as graphql-ws connectionParams. HTTP header names are case-insensitive and the
 * server reads `authorization` from connectionParams, so the names are sent in lower case.
 */
function connectionParams(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/**
 * One WebSocket for the headers in the editor: a subscription started after the headers changed
 * opens a new socket with the new ones (the key is checked when a socket connects), and the old
 * socket, with its subscriptions, is closed.
 */
function socketsByHeaders(): (headers: Record<string, unknown>) => Client {
  let current: { key: string; client: Client } | null = null;
  return (headers) => {
    const params = connectionParams(headers);
    const key = JSON.stringify(params);
    if (current?.key !== key) {
      void current?.client.dispose();
      current = { key, client: createClient({ url: wsUrl, connectionParams: params }) };
    }
    return current.client;
  };
}

/**
 * Queries and mutations over HTTP POST, subscriptions over graphql-ws; both with the editor's
 * headers, and the operation name the document defines (operationNameFor).
 */
function explorerFetcher(): Fetcher {
  const socketFor = socketsByHeaders();
  return (params, opts) => {
    const headers = (opts?.headers ?? {}) as Record<string, unknown>;
    const fetcher = createGraphiQLFetcher({ url: httpUrl, wsClient: socketFor(headers), enableIncrementalDelivery: false });
    return fetcher({ ...params, operationName: operationNameFor(params.query, params.operationName) }, opts);
  };
}

/** The Authorization value in the headers editor's JSON; undefined while it is not valid JSON. */
function authorizationIn(headersJson: string): string | null | undefined {
  try {
    const headers = JSON.parse(headersJson) as Record<string, unknown>;
    const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization');
    return typeof entry?.[1] === 'string' ? entry[1] : null;
  } catch {
    return undefined;
  }
}

function Explorer() {
  const [authorization, setAuthorization] = useState(authorizationIn(HEADERS_TEMPLATE));
  // A new fetcher when the key changes: GraphiQL then loads the schema again (with the new key),
  // so the Docs pane and completion work once a key is pasted, without pressing "Re-fetch".
  const fetcher = useMemo(explorerFetcher, [authorization]);
  const onEditHeaders = useCallback((value: string) => {
    const next = authorizationIn(value);
    if (next !== undefined) setAuthorization(next);
  }, []);
  return (
    <GraphiQL
      fetcher={fetcher}
      onEditHeaders={onEditHeaders}
      defaultQuery={DEFAULT_QUERY}
      initialHeaders={HEADERS_TEMPLATE}
      defaultHeaders={HEADERS_TEMPLATE}
      defaultEditorToolsVisibility="headers"
    />
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Explorer />
  </StrictMode>,
);
