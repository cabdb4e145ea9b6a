import type { GraphQLFormattedError } from 'graphql';

/**
 * What went wrong, in one word a script can test:
 * - a server error code (`extensions.code`: BAD_USER_INPUT, NOT_FOUND, FORBIDDEN, UNAUTHENTICATED, ...);
 * - NETWORK_ERROR: the server could not be reached, or the connection was lost;
 * - HTTP_ERROR: an answer that is not a GraphQL response.
 */
export class ModelGraphError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** The GraphQL errors of the response, when there were any. */
    readonly errors: readonly GraphQLFormattedError[] = [],
    /** The HTTP status, for answers over HTTP. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ModelGraphError';
  }

  /** The error of a response's GraphQL errors: the first one's code and every message. */
  static fromGraphQL(errors: readonly GraphQLFormattedError[], status?: number): ModelGraphError {
    const code = String(errors[0]?.extensions?.code ?? 'GRAPHQL_ERROR');
    return new ModelGraphError(errors.map((e) => e.message).join('; '), code, errors, status);
  }
}

/** Codes that mean the key is missing, unknown, revoked or not allowed. */
export const AUTH_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

interface CloseLike { code: number; reason?: string }
const isClose = (e: unknown): e is CloseLike => typeof e === 'object' && e !== null && typeof (e as CloseLike).code === 'number' && 'reason' in e;

/**
 * Close codes after which a subscription must not come back on its own: the server refused the
 * connection or the request (4400 bad request, 4401/4403 no or a bad key, 4406, 4409, 4429, 4500,
 * and the protocol errors 1002/1003/1007/1008/1009/1010). Anything else (1000, 1001 on a server
 * stop, 1006 a dropped socket, 1012/1013, 4008 a slow consumer) is a lost connection: reconnect
 * and resume from the last cursor.
 */
const TERMINAL_CLOSE = new Set([1002, 1003, 1007, 1008, 1009, 1010, 4004, 4005, 4400, 4401, 4403, 4406, 4409, 4429, 4500]);

/** Whether what ended a subscription is a lost connection (reconnect) rather than a refusal (stop). */
export function isConnectionLoss(err: unknown): boolean {
  if (Array.isArray(err)) return false; // GraphQL errors of the operation itself
  if (err instanceof ModelGraphError) return err.code === 'NETWORK_ERROR';
  if (isClose(err)) return !TERMINAL_CLOSE.has(err.code);
  return true; // a socket error event or a failed connect
}

/** The error a subscription's failure is reported as. */
export function toModelGraphError(err: unknown): ModelGraphError {
  if (err instanceof ModelGraphError) return err;
  if (Array.isArray(err)) return ModelGraphError.fromGraphQL(err as GraphQLFormattedError[]);
  if (isClose(err)) {
    const code = err.code === 4403 || err.code === 4401 ? 'UNAUTHENTICATED' : 'NETWORK_ERROR';
    return new ModelGraphError(`WebSocket closed (${err.code}${err.reason ? `: ${err.reason}` : ''})`, code);
  }
  const message = err instanceof Error ? err.message : 'WebSocket connection failed';
  return new ModelGraphError(message, 'NETWORK_ERROR');
}
