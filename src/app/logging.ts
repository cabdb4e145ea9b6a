import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import pino, { DestinationStream, Logger } from 'pino';

/**
 * The id of the HTTP request being served, for the log lines written on its behalf by code that
 * holds no request context (the SQL logger, formatError, the auth cache): each HTTP request runs
 * inside `requestScope.run(id, ...)`, and the logger's mixin adds the id to every line.
 */
export const requestScope = new AsyncLocalStorage<string>();

/**
 * An `x-request-id` the server takes from a caller (a proxy or a client that wants its own id in
 * our logs): 1 to 128 characters of letters, digits and `._:-`, so it cannot forge JSON, break a
 * log line, or fill the logs. Anything else is replaced by a fresh UUID.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
}

const BOUND = '"requestId":';

/**
 * The server's logger: JSON lines, with the request id of the HTTP request in progress on every
 * line that does not carry one already (a request context's child logger binds it itself; it
 * is not written twice).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    mixin(_obj, _level, logger) {
      const requestId = requestScope.getStore();
      if (requestId === undefined) return {};
      const chindings = (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym];
      return chindings?.includes(BOUND) ? {} : { requestId };
    },
  }, destination ?? pino.destination(1));
}
