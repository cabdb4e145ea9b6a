import { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { transientFailure } from '../db/errors';

/** The error codes of the public contract; `extensions.code` always holds one of them. */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  // Retryable: the database timed out the statement or a lock (TIMEOUT) or cannot be reached
  // (UNAVAILABLE). Both carry `retryable: true`; the operation changed nothing.
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

const PUBLIC_CODES = new Set<string>([
  'BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'TIMEOUT', 'UNAVAILABLE',
  // Produced by graphql-js / Apollo before our code runs; their messages are safe to show.
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE',
]);

/** The one error type services throw. Its message and details are meant for the client. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details } });
  }
}

export const badInput = (message: string, field?: string) =>
  new AppError('BAD_USER_INPUT', message, field ? { field } : {});
export const notFound = (what: string, id?: string) =>
  new AppError('NOT_FOUND', id ? `${what} ${id} was not found` : `${what} was not found`, id ? { id } : {});

interface ValidationFailure {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationFailure[];
}

/** Flattens class-validator's nested failures into `input.tags.0.key`-style paths. */
function flattenValidation(errors: ValidationFailure[], prefix = ''): { field: string; messages: string[] }[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flattenValidation(e.children ?? [], field)];
  });
}

/** Whether formatError would show this error as it is: one of ours, a validation failure, or a client mistake graphql-js reported. */
function isExpected(error: GraphQLError): boolean {
  const code = error.extensions?.code;
  if (typeof code === 'string' && PUBLIC_CODES.has(code)) return true;
  const original = error.originalError;
  if (!original) return true; // variable coercion and other graphql-js client errors
  if (Array.isArray((error.extensions as { validationErrors?: unknown })?.validationErrors) || Array.isArray((original as { validationErrors?: unknown }).validationErrors)) return true;
  // A scalar's parseValue rejection: a client mistake, with a message written for clients.
  return original instanceof GraphQLError && !original.extensions?.code;
}

/**
 * Turns every unexpected error of an executed operation into INTERNAL_SERVER_ERROR carrying the
 * request id, after logging its cause under that id; database timeouts and outages become their
 * retryable codes instead. Run by every executor path (graphql-jit and graphql-js over HTTP,
 * graphql-ws), where the request's context is at hand, so that nothing goes unlogged.
 */
export function maskUnexpected(errors: readonly GraphQLError[], ctx: { log: Logger; requestId: string }): GraphQLError[] {
  return errors.map((error) => {
    if (isExpected(error)) return error;
    const cause = error.originalError ?? error;
    const transient = transientFailure(cause);
    if (transient) {
      ctx.log.warn({ err: cause, path: error.path }, 'database failure answered as retryable');
      return withPlace(error, transient.message, { code: transient.code, retryable: true, requestId: ctx.requestId });
    }
    ctx.log.error({ err: cause, path: error.path }, 'unexpected error');
    return withPlace(error, `Internal server error (request ${ctx.requestId})`, { code: 'INTERNAL_SERVER_ERROR', requestId: ctx.requestId });
  });
}

/**
 * The answer to a database failure met outside the executor, while authenticating the caller
 * or building the request's context, where maskUnexpected does not run: an outage or timeout
 * answers its retryable code (HTTP 503 when `http`), as it would inside; null for anything else.
 */
export function retryableOutside(err: unknown, ctx: { log: Logger; requestId: string }, http = false): GraphQLError | null {
  const transient = transientFailure(err);
  if (!transient) return null;
  ctx.log.warn({ err, requestId: ctx.requestId }, 'database failure answered as retryable');
  return new GraphQLError(transient.message, {
    extensions: { code: transient.code, retryable: true, requestId: ctx.requestId, ...(http ? { http: { status: 503 } } : {}) },
  });
}

/** A new error with the old one's path and locations. */
function withPlace(error: GraphQLError, message: string, extensions: Record<string, unknown>): GraphQLError {
  const out = new GraphQLError(message, { path: error.path, extensions });
  (out as { locations?: unknown }).locations = error.locations;
  return out;
}

/** Longest error message sent; graphql-js quotes the whole offending value into some. */
const MAX_MESSAGE = 1000;

/** "Variable "$x" got invalid value <echo>; <reason>" without the echo; any other message cut. */
function shorten(message: string): string {
  const m = /^(Variable "\$[\w]+" got invalid value) [\s\S]*?; ([^;]*)$/.exec(message);
  if (m && m[2].length < MAX_MESSAGE) return `${m[1]}; ${m[2]}`;
  return `${message.slice(0, MAX_MESSAGE)}…`;
}

/**
 * The single place where errors become what a client sees: validation failures become
 * BAD_USER_INPUT with the offending fields, our own codes pass through, and anything else is
 * masked as INTERNAL_SERVER_ERROR and logged with the request id so an operator can find it.
 */
export function makeFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const ext = (formatted.extensions ?? {}) as Record<string, unknown>;
    // type-graphql's ArgumentValidationError carries class-validator's failures in extensions.
    const validationErrors = (ext.validationErrors ?? (original as { validationErrors?: unknown })?.validationErrors) as ValidationFailure[] | undefined;
    if (Array.isArray(validationErrors)) {
      const fields = flattenValidation(validationErrors);
      return {
        message: `Invalid input: ${fields.map((f) => `${f.field} (${f.messages.join('; ')})`).join(', ')}`,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: 'BAD_USER_INPUT', fields },
      };
    }
    // A limit refused inside a scalar (maxJsonBytes) reaches here wrapped in the executor's
    // "Variable $x got invalid value <the value>; <reason>" error: the limit it names becomes
    // `extensions.limit` again, and a long echo of the client's own value is dropped.
    const inner = error instanceof GraphQLError && error.originalError instanceof GraphQLError ? error.originalError.extensions : undefined;
    if (inner && typeof inner.limit === 'string') Object.assign(ext, { limit: inner.limit, max: inner.max });
    const named = /\(limit (\w+)\)/.exec(formatted.message);
    if (named && !ext.limit) ext.limit = named[1];
    if (formatted.message.length > MAX_MESSAGE) formatted = { ...formatted, message: shorten(formatted.message) };
    const code = typeof ext.code === 'string' ? ext.code : undefined;
    // maskUnexpected already logged the cause under this request id and wrote the message.
    const masked = code === 'INTERNAL_SERVER_ERROR' && typeof ext.requestId === 'string';
    if (code && (PUBLIC_CODES.has(code) || masked)) {
      // `http` is Apollo's status hint; over HTTP Apollo strips it, over WebSocket it would leak.
      const { stacktrace: _dropped, http: _http, ...rest } = ext;
      return { ...formatted, extensions: { ...rest, code: mapGraphqlCode(code) } };
    }
    // Variable coercion errors (wrong scalar, missing required input) come without a code.
    if (!code && error instanceof GraphQLError && !error.originalError) {
      return { ...formatted, extensions: { code: 'BAD_USER_INPUT' } };
    }
    if (error instanceof GraphQLError && error.originalError instanceof GraphQLError && !code) {
      // A scalar's parseValue rejection: a client mistake, with a message written for clients.
      return { ...formatted, extensions: { ...(inner?.limit ? { limit: inner.limit, max: inner.max } : {}), code: 'BAD_USER_INPUT' } };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/** Apollo's parse/validation codes are client mistakes; the contract calls them BAD_USER_INPUT. */
function mapGraphqlCode(code: string): string {
  switch (code) {
    case 'GRAPHQL_PARSE_FAILED':
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'BAD_REQUEST':
    case 'PERSISTED_QUERY_NOT_FOUND':
    case 'PERSISTED_QUERY_NOT_SUPPORTED':
    case 'OPERATION_RESOLUTION_FAILURE':
      return 'BAD_USER_INPUT';
    default:
      return code;
  }
}
