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

export class Api {
  private ws: Client | null = null;

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

  /** One WebSocket for all of the page's subscriptions, opened with the first of them. */
  private socket(): Client {
    if (!this.ws) {
      const url = new URL(this.endpoint);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      this.ws = createClient({
        url: url.toString(),
        connectionParams: { authorization: `Bearer ${this.key}` },
        lazy: true,
        // Reconnect after a restart of the server or a network drop, with graphql-ws's backoff
        // (it gives up at once on the close codes that retrying cannot fix).
        retryAttempts: Infinity,
      });
    }
    return this.ws;
  }

  close(): void {
    void this.ws?.dispose();
    this.ws = null;
  }
}
