// GraphQL over HTTP (queries) and over graphql-ws (subscriptions) at this server's /graphql,
// with the key pasted by the user. The key travels only in the Authorization header and the
// WebSocket's connection_init payload, never in a URL.
import { Client, createClient } from 'graphql-ws';

/** A GraphQL error as the server sends it: the code is what the page reacts to. */
export class ApiError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

interface GraphQLErrorJson { message: string; extensions?: { code?: string } }

const firstError = (errors: readonly GraphQLErrorJson[]) => new ApiError(errors[0].message, errors[0].extensions?.code);

export interface Subscription { stop(): void }

/** The WebSocket's state: `closed` until graphql-ws has connected again (it retries on its own). */
export type LiveState = 'connected' | 'closed';

export class Api {
  private ws: Client | null = null;
  private readonly liveListeners = new Set<(state: LiveState) => void>();

  constructor(private readonly key: string, private readonly endpoint = new URL('/graphql', location.href)) {}

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(this.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${this.key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json().catch(() => null)) as { data?: T; errors?: GraphQLErrorJson[] } | null;
    if (!body) throw new ApiError(`The server answered ${res.status} without a GraphQL body`, undefined);
    if (body.errors?.length) throw firstError(body.errors);
    return body.data as T;
  }

  /**
   * Runs a subscription until stopped. graphql-ws reconnects on its own after a dropped
   * connection and subscribes again; `onError` hears of errors that end the subscription.
   */
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void, onError: (e: ApiError) => void): Subscription {
    const stop = this.socket().subscribe<T>({ query, variables }, {
      next: (result) => {
        if (result.errors?.length) onError(firstError(result.errors as GraphQLErrorJson[]));
        else if (result.data) onData(result.data as T);
      },
      error: (e) => {
        if (Array.isArray(e)) onError(firstError(e as GraphQLErrorJson[]));
        else if (e instanceof CloseEvent) onError(new ApiError(`The live connection closed: ${e.code} ${e.reason}`, undefined));
        else onError(new ApiError(e instanceof Error ? e.message : 'The live connection failed', undefined));
      },
      complete: () => undefined,
    });
    return { stop };
  }

  /** Hears the WebSocket connect, drop and connect again; returns the function that stops listening. */
  onLive(listener: (state: LiveState) => void): () => void {
    this.liveListeners.add(listener);
    return () => this.liveListeners.delete(listener);
  }

  /**
   * One WebSocket for all of the page's subscriptions, opened with the first of them and kept
   * open (not lazy) while the key is in use, so `closed` means a drop, not a change of view.
   */
  private socket(): Client {
    if (!this.ws) {
      const url = new URL(this.endpoint);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const emit = (state: LiveState) => { for (const l of this.liveListeners) l(state); };
      this.ws = createClient({
        url: url.toString(),
        connectionParams: { authorization: `Bearer ${this.key}` },
        lazy: false,
        on: { connected: () => emit('connected'), closed: () => emit('closed') },
        // Reconnect after a restart of the server or a network drop, with graphql-ws's backoff
        // (it gives up at once on the close codes that retrying cannot fix).
        retryAttempts: Infinity,
      });
    }
    return this.ws;
  }

  close(): void {
    this.liveListeners.clear();
    void this.ws?.dispose();
    this.ws = null;
  }
}
