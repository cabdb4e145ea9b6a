import { print, type DocumentNode } from 'graphql';
import { createClient, type Client as WsClient, type FormattedExecutionResult } from 'graphql-ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { ModelGraphError } from './errors';
import { type LiveOptions, type LiveSink, type LiveStream, liveStream } from './live';
import {
  AlertEventsDocument, type AlertEventsSubscription, MetricPointsCursorDocument, MetricPointsDocument, type MetricPointsSubscription,
  type MetricPointsSubscriptionVariables, RegistryEventsCursorDocument, RegistryEventsDocument, type RegistryEventsSubscription,
  type RegistryEventsSubscriptionVariables,
} from './generated/graphql';

export interface ModelGraphClientOptions {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  /** An API key's secret, sent as `Authorization: Bearer <key>` and in the WebSocket's connectionParams. */
  apiKey?: string | null;
  /** The graphql-ws endpoint; default: `url` with ws:// or wss://. */
  wsUrl?: string;
  /** Extra HTTP headers for every request. */
  headers?: Record<string, string>;
  /** The fetch to use; default: the global one. */
  fetch?: typeof fetch;
  /** The WebSocket class; default: the global one where there is one (browsers, Node 22+), else the `ws` package. */
  webSocketImpl?: unknown;
}

/** A metricPoints event: new points of one series, with the cursor to resume after it. */
export type MetricPointsEvent = MetricPointsSubscription['metricPoints'];
/** A registryEvents event. */
export type RegistryEventItem = RegistryEventsSubscription['registryEvents'];
/** An alert as it opens or resolves, with the cursor to resume after it. */
export type AlertEvent = AlertEventsSubscription['registryEvents'];

type Vars<V> = V extends Record<string, never> ? Record<string, never> | undefined : V;

export interface ModelGraphClient {
  /** Runs a query or mutation over HTTP; resolves with its data, or rejects with a ModelGraphError (its `code` is the server's `extensions.code`). */
  request<TData, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVariables>, variables?: Vars<TVariables>): Promise<TData>;
  /**
   * Runs one subscription over graphql-ws as it is: no reconnect, no resume. The sink receives
   * the raw results; returns the function that ends it.
   */
  subscribe<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: Vars<TVariables>,
    sink: { next(result: FormattedExecutionResult<TData>): void; error(err: unknown): void; complete(): void },
  ): () => void;
  /** New points of the series that match `filter`, resumable across reconnects (see LiveStream). */
  metricPoints(variables: Omit<MetricPointsSubscriptionVariables, 'since'>, options?: LiveOptions, sink?: LiveSink<MetricPointsEvent>): LiveStream<MetricPointsEvent>;
  /** Changes in the project as they commit, resumable across reconnects. */
  registryEvents(variables: Omit<RegistryEventsSubscriptionVariables, 'since'>, options?: LiveOptions, sink?: LiveSink<RegistryEventItem>): LiveStream<RegistryEventItem>;
  /** Alerts as they open and resolve (as registry events, which carry cursors), resumable across reconnects. */
  alerts(variables: { projectSlug: string }, options?: LiveOptions, sink?: LiveSink<AlertEvent>): LiveStream<AlertEvent>;
  /** Closes the WebSocket (ending every subscription of this client). */
  close(): Promise<void>;
}

const printed = new WeakMap<DocumentNode, string>();
const textOf = (doc: DocumentNode) => {
  let text = printed.get(doc);
  if (text === undefined) printed.set(doc, (text = print(doc)));
  return text;
};
const operationName = (doc: DocumentNode) => {
  for (const d of doc.definitions) if (d.kind === 'OperationDefinition' && d.name) return d.name.value;
  return undefined;
};

function defaultWebSocket(): unknown {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global) return global;
  // Node 20 has no global WebSocket: the `ws` package is this package's dependency for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('ws');
}

/** A client of one ModelGraph server with one API key. */
export function createModelGraphClient(options: ModelGraphClientOptions): ModelGraphClient {
  const doFetch = options.fetch ?? fetch;
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const wsUrl = options.wsUrl ?? options.url.replace(/^http/i, 'ws');
  let ws: WsClient | null = null;
  const socket = () => (ws ??= createClient({
    url: wsUrl,
    webSocketImpl: options.webSocketImpl ?? defaultWebSocket(),
    connectionParams: { ...auth },
    lazy: true,
    // Reconnecting is the live streams' job: graphql-ws would subscribe again with the first
    // `since`, replaying what was already delivered.
    retryAttempts: 0,
  }));

  async function request<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables?: TVariables): Promise<TData> {
    let res: Response;
    try {
      res = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...options.headers, ...auth },
        body: JSON.stringify({ query: textOf(document), variables: variables ?? {}, operationName: operationName(document) }),
      });
    } catch (err) {
      throw new ModelGraphError(`Cannot reach ${options.url}: ${(err as Error).cause ?? (err as Error).message}`, 'NETWORK_ERROR');
    }
    let body: FormattedExecutionResult<TData>;
    try {
      body = (await res.json()) as FormattedExecutionResult<TData>;
    } catch {
      throw new ModelGraphError(`${options.url} answered HTTP ${res.status} without a GraphQL response`, 'HTTP_ERROR', [], res.status);
    }
    if (body.errors?.length) throw ModelGraphError.fromGraphQL(body.errors, res.status);
    if (!body.data) throw new ModelGraphError(`${options.url} answered HTTP ${res.status} without data`, 'HTTP_ERROR', [], res.status);
    return body.data;
  }

  const subscribe: ModelGraphClient['subscribe'] = (document, variables, sink) =>
    socket().subscribe({ query: textOf(document), variables: (variables ?? {}) as Record<string, unknown>, operationName: operationName(document) }, sink);

  return {
    request: request as ModelGraphClient['request'],
    subscribe,
    metricPoints: (variables, opts, sink) => liveStream<MetricPointsSubscription, MetricPointsEvent>(
      (since, s) => subscribe(MetricPointsDocument, { ...variables, since }, s),
      async () => (await request(MetricPointsCursorDocument, { projectSlug: variables.projectSlug })).metricPointsCursor,
      (data) => data.metricPoints, opts, sink,
    ),
    registryEvents: (variables, opts, sink) => liveStream<RegistryEventsSubscription, RegistryEventItem>(
      (since, s) => subscribe(RegistryEventsDocument, { ...variables, since }, s),
      async () => (await request(RegistryEventsCursorDocument, { projectSlug: variables.projectSlug })).registryEventsCursor,
      (data) => data.registryEvents, opts, sink,
    ),
    alerts: (variables, opts, sink) => liveStream<AlertEventsSubscription, AlertEvent>(
      (since, s) => subscribe(AlertEventsDocument, { ...variables, since }, s),
      async () => (await request(RegistryEventsCursorDocument, { projectSlug: variables.projectSlug })).registryEventsCursor,
      (data) => data.registryEvents, opts, sink,
    ),
    close: async () => {
      const current = ws;
      ws = null;
      await current?.dispose();
    },
  };
}
