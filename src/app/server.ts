import 'reflect-metadata';
import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { WebSocket, WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import {
  DocumentNode, ExecutionArgs, ExecutionResult, GraphQLError, GraphQLFormattedError, GraphQLSchema, createSourceEventStream, execute, parse,
  specifiedRules, validate, getOperationAST,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import pino, { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Config } from './config';
import { SqlStatementCounter, authenticating, migrate, migrationsApplied, sessionOptions } from '../core/db/data-source';
import { createDataSource } from './database';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../core/db/embedded-postgres';
import type { Context } from '../core/graphql/context';
import { makeFormatError, maskUnexpected, retryableOutside } from '../core/graphql/errors';
import { QueryLimits, checkCost, limitRules } from '../core/graphql/limits';
import { checkInputs } from '../core/graphql/input-guard';
import { boundJsonScalars } from '../core/graphql/scalars';
import { RateLimiter } from '../core/graphql/rate-limit';
import { SubscriptionRegistry, releaseWhenDone } from '../core/graphql/subscription-limits';
import { createLoaders } from './loaders';
import { getSchema } from './schema';
import { jitGateway } from '../core/graphql/jit-executor';
import { authenticate, bootstrapAdminKey } from '../modules/auth/api-key.service';
import { Principal } from '../core/auth/principal';
import { PrincipalCache } from '../core/auth/principal-cache';
import { EventHub } from '../core/events/event-hub';
import { Drain } from './drain';
import { Leader } from '../core/db/leader';
import { afterCommitSettled } from '../core/db/after-commit';
import { announcementsSettled } from '../core/events/points-announcer';
import { MONITOR_TIMER_LOCK, MonitorTimer } from '../modules/monitoring/monitor.timer';
import { startStorageRounds } from '../modules/monitoring/storage-rounds';
import { webAppRoutes } from './web';
import { StartupError } from '../core/startup-error';

export interface RunningServer {
  url: string;
  wsUrl: string;
  port: number;
  db: DataSource;
  sql: SqlStatementCounter;
  log: Logger;
  /** The LISTEN connection and its subscriptions. */
  events: EventHub;
  /** The per-key token buckets; null when the rate limit is off. */
  rateLimiter: RateLimiter | null;
  /** The subscriptions being served, counted against their limits. */
  subscriptions: SubscriptionRegistry;
  /** Evaluates monitors on a schedule while this process holds the leader lock. */
  monitorTimer: MonitorTimer;
  /** Stops accepting, finishes in-flight requests, closes sockets, then the database. */
  stop(): Promise<void>;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Close code of a WebSocket that did not take what was sent to it fast enough: more than
 * MODELGRAPH_MAX_SEND_BUFFER_BYTES waited for it (README, "Slow consumers").
 */
export const SLOW_CONSUMER_CLOSE = 4008;

/** The payload onNext hands graphql-ws for a result serialized once; the socket's send replaces it. */
const PRESERIALIZED = Object.freeze({});
const EMPTY_PAYLOAD = '"payload":{}}';

/**
 * The results of a subscription's events, executed once per event object and group: streams
 * that share their event objects (the subscribers of one metric point feed with one filter)
 * and run the same document with the same variables under the same kind of key get the same
 * result object, resolved once. A new loaders bag per execution, as per event before.
 */
const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

function sharedResults(source: AsyncIterator<unknown>, args: ExecutionArgs, group: string): AsyncIterableIterator<ExecutionResult> {
  const ctx = args.contextValue as Context;
  const run = (item: unknown): Promise<ExecutionResult> => {
    const once = async () => {
      // The subscriber's context with a loaders bag of this event's own.
      const contextValue: Context = Object.create(ctx);
      contextValue.loaders = ctx.freshLoaders();
      return execute({ ...args, rootValue: item, contextValue });
    };
    if (typeof item !== 'object' || item === null) return once();
    let byGroup = executions.get(item);
    if (!byGroup) executions.set(item, (byGroup = new Map()));
    let result = byGroup.get(group);
    if (!result) byGroup.set(group, (result = once()));
    return result;
  };
  const it: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const r = await source.next();
      if (r.done) return { done: true, value: undefined };
      return { done: false, value: await run(r.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(err?: unknown) {
      await source.return?.();
      throw err;
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/** The answer to a request with no key or a key that does not authenticate. */
const UNAUTHENTICATED_MESSAGE = 'Send a valid API key: Authorization: Bearer <secret>';
const unauthenticated = () => new GraphQLError(UNAUTHENTICATED_MESSAGE, { extensions: { code: 'UNAUTHENTICATED' } });

/** Resolves an Authorization value to a principal; `invalid` when a key was sent but is no good. */
async function principalFrom(db: DataSource, authorization: unknown, keys: PrincipalCache): Promise<{ principal: Principal | null; invalid: boolean }> {
  if (authorization === undefined || authorization === null) return { principal: null, invalid: false };
  // Over WebSocket the value is any JSON: one that is not a string is a bad key, not no key.
  if (typeof authorization !== 'string') return { principal: null, invalid: true };
  if (authorization.trim() === '') return { principal: null, invalid: false };
  const m = BEARER.exec(authorization.trim());
  if (!m) return { principal: null, invalid: true };
  const principal = await authenticating(db, (manager) => authenticate(manager, m[1], keys));
  return { principal, invalid: !principal };
}

/**
 * The Authorization value among a WebSocket's connectionParams. They are any JSON the client
 * chose; HTTP header names are case-insensitive, and clients written against HTTP send
 * `Authorization`, so any case is taken here too (the lowercase spelling first).
 */
function authorizationParam(params: Record<string, unknown> | undefined): unknown {
  if (!params) return undefined;
  if (Object.hasOwn(params, 'authorization')) return params.authorization;
  const name = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
  return name === undefined ? undefined : params[name];
}

/**
 * The cost check, the rate limit (which charges by that cost) and the refusal of subscriptions,
 * as an Apollo plugin, after the operation is known and before it runs.
 */
function costPlugin(schema: GraphQLSchema, limits: QueryLimits, rateLimiter: RateLimiter | null): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operation, contextValue }) {
          // Subscriptions are served over graphql-ws on the same path; HTTP has no way to stream them.
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws protocol) at this path, not over HTTP', {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          checkInputs(document, request.variables, limits);
          // The executor (jit-executor.ts) coerces every variable and refuses a bad one as a 400 with a code.
          const cost = checkCost(schema, document, request.variables, request.operationName ?? undefined, limits.maxCost, contextValue.limits, true);
          contextValue.cost = { max: limits.maxCost, estimated: cost, spent: cost };
          if (rateLimiter && contextValue.principal) await rateLimiter.spend(contextValue.principal.keyId, cost);
        },
      };
    },
  };
}

/** Prints the first ADMIN key once, on purpose to stdout and not through the logger, so it is not shipped to log storage. */
function printAdminKey(secret: string, file: string): void {
  process.stdout.write(`\nModelGraph created the first ADMIN API key (also written to ${file}):\n\n  ${secret}\n\n`);
}

export interface StartOptions {
  log?: Logger;
  /** Tells the operator the ADMIN key made on first start; prints it to stdout unless given (tests keep it out of their output). */
  announceAdminKey?: (secret: string, file: string) => void;
}

/** The HTTP server, bound to its port before anything else starts, and what the start adds to it. */
interface Listening {
  app: express.Express;
  httpServer: http.Server;
  drain: Drain;
  /** Lets requests through to the routes; until then they are answered 503. */
  open(): void;
}

/** What a bind failure means to the operator, in one line; null for anything unforeseen. */
function bindFailure(err: NodeJS.ErrnoException, port: number, host: string): StartupError | null {
  const where = `port ${port} on ${host}`;
  if (err.code === 'EADDRINUSE') return new StartupError(`The ${where} is already in use (by another ModelGraph or another program): stop it, or set PORT to a free port (PORT=0 takes any)`);
  if (err.code === 'EACCES') return new StartupError(`This user may not listen on ${where} (ports below 1024 need privileges): set PORT to 1024 or above`);
  if (err.code === 'EADDRNOTAVAIL') return new StartupError(`HOST ${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for all)`);
  return null;
}

/**
 * Builds and starts the whole server: the port first, then the database (embedded when no URL
 * is configured), migrations, the first admin key, GraphQL over HTTP and WebSocket on that port.
 * The port is bound before anything is created, so a start that cannot serve (the port is
 * taken) leaves nothing behind: no data directory, no database, no admin key. Until the start
 * is done every request is answered 503.
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const app = express();
  const httpServer = http.createServer(app);
  const drain = new Drain(httpServer);
  let started = false;
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (started) { next(); return; }
    // Retryable, in each path's own shape: a client that retries a refused connection retries this too.
    res.status(503).setHeader('retry-after', '1');
    if (req.path.startsWith('/graphql')) {
      res.json({ errors: [{ message: 'The server is starting; retry', extensions: { code: 'UNAVAILABLE', retryable: true } }] });
    } else {
      res.json({ status: 'starting' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (err: NodeJS.ErrnoException) => reject(bindFailure(err, config.port, config.host) ?? err));
    httpServer.listen(config.port, config.host, () => resolve());
  });
  try {
    return await serve(config, opts, { app, httpServer, drain, open: () => { started = true; } });
  } catch (err) {
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    throw err;
  }
}

async function serve(config: Config, opts: StartOptions, { app, httpServer, drain, open }: Listening): Promise<RunningServer> {
  const log = opts.log ?? pino({ level: config.logLevel });
  let embedded: EmbeddedDatabase | null = null;
  let url = config.databaseUrl;
  if (!url) {
    log.info({ dataDir: config.dataDir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(config.dataDir, (m) => log.debug({ postgres: m }));
    url = embedded.url;
  }
  const sql = new SqlStatementCounter(log.child({ component: 'sql' }));
  const db = createDataSource(url, config.databasePoolSize, sql, config.session);
  try {
    await db.initialize();
    await migrate(db);
    await bootstrapAdminKey(db, {
      adminKey: config.adminKey,
      dataDir: config.dataDir,
      announce: opts.announceAdminKey ?? printAdminKey,
    });
  } catch (err) {
    if (db.isInitialized) await db.destroy();
    await embedded?.stop();
    throw err;
  }

  // One LISTEN connection per process; subscriptions fan out from it.
  const keys = new PrincipalCache();
  const events = new EventHub(db, url, log.child({ component: 'events' }), keys, config.streams.pointsRecheckMs);
  try {
    await events.start();
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    throw err;
  }

  const rateLimiter = config.rateLimit.perMinute > 0
    ? new RateLimiter(RateLimiter.pool(url, sessionOptions(config.session), log.child({ component: 'rate-limit' })), config.rateLimit)
    : null;

  const schema = await getSchema();
  boundJsonScalars(schema, config.limits.maxJsonBytes);
  const formatError = makeFormatError(log);
  const rules = limitRules(config.limits);
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.limits.maxBodyBytes });

  /**
   * A result is serialized once for all the subscriptions it goes to (sharedResults hands them
   * one object): onNext hands graphql-ws an empty payload, and the socket's send puts the JSON
   * of the result in its place. Registered before graphql-ws's own listener, so it sees every
   * socket first. A real payload is never `{}` (a result has data or errors).
   */
  const serialized = new WeakMap<object, string>();
  const pendingPayloads = new WeakMap<WebSocket, Map<string, string>>();
  wss.on('connection', (socket: WebSocket) => {
    const pending = new Map<string, string>();
    pendingPayloads.set(socket, pending);
    const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
    socket.send = ((data: unknown, ...rest: unknown[]) => {
      if (pending.size && typeof data === 'string' && data.endsWith(EMPTY_PAYLOAD)) {
        const { id } = JSON.parse(data) as { id: string };
        const json = pending.get(id);
        if (json !== undefined) {
          pending.delete(id);
          data = `${data.slice(0, -EMPTY_PAYLOAD.length)}"payload":${json}}`;
        }
      }
      send(data, ...rest);
    }) as typeof socket.send;
  });

  /** One per HTTP request and per WebSocket operation: the caller is looked up every time. */
  const makeContext = async (authorization: unknown, requestId: string, bindings: Record<string, string> = {}): Promise<Context> => {
    const { principal, invalid } = await principalFrom(db, authorization, keys);
    return contextFor(invalid ? null : principal, requestId, bindings);
  };
  const contextFor = (principal: Principal | null, requestId: string, bindings: Record<string, string> = {}): Context => {
    return {
      requestId,
      log: log.child({ requestId, ...bindings }),
      db,
      principal,
      loaders: createLoaders(db, config.batchLoads),
      freshLoaders: () => createLoaders(db, config.batchLoads),
      events,
      keys,
      limits: config.work,
    };
  };

  const subscriptions = new SubscriptionRegistry(config.subscriptions);
  // The slot a subscription took in onSubscribe, until `subscribe` ties its release to the stream.
  const slots = new WeakMap<Context, () => void>();
  // What a subscription's results are shared by (see sharedResults): document, variables, kind of key.
  const groups = new WeakMap<Context, string>();
  // Parsed and validated documents by text: validation depends on the document alone, and
  // thousands of subscribers of one dashboard send the same text, so they share one tree.
  const documents = new LRUCache<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>({
    max: 1000, maxSize: 64 * 1024 * 1024, sizeCalculation: (_v, k) => k.length * 4 + 1,
  });

  /**
   * Closes a socket that lets more than the bound wait for it. The close frame queues behind
   * what the socket already holds; ws destroys the socket if the client does not answer it
   * within its close timeout, so what it holds is freed either way. Its subscriptions end at
   * once: their streams closed themselves (Stream bound) or end with the socket.
   */
  const closeSlow = (socket: WebSocket) => {
    if (socket.readyState !== socket.OPEN) return;
    log.warn({ bufferedAmount: socket.bufferedAmount }, 'closing a slow WebSocket consumer');
    socket.close(SLOW_CONSUMER_CLOSE, 'Slow consumer: too much waiting to be sent');
  };

  /**
   * An event reaches every subscription of a socket within one turn of the event loop: corked
   * until the turn ends, their frames leave in one write (one system call) instead of one each.
   * `_socket` is ws's net.Socket; it is absent only on sockets ws did not open over TCP.
   */
  const corked = new WeakSet<WebSocket>();
  const batchWrites = (socket: WebSocket) => {
    const tcp = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (!tcp || corked.has(socket)) return;
    corked.add(socket);
    tcp.cork();
    setImmediate(() => {
      corked.delete(socket);
      tcp.uncork();
    });
  };

  const wsServer = useServer<Record<string, unknown> | undefined, { connectionId: string }>(
    {
      schema,
      subscribe: async (args) => {
        const ctx = args.contextValue as Context;
        const release = slots.get(ctx) ?? (() => undefined);
        slots.delete(ctx);
        try {
          // graphql-js subscribe() is createSourceEventStream then one execution per event and
          // subscriber; here the execution is shared (sharedResults).
          const source = await createSourceEventStream(args);
          // What the subscribe resolver loaded (the project, the version) would be kept for the
          // subscription's life: events are executed with bags of their own (sharedResults).
          ctx.loaders = ctx.freshLoaders();
          if (!(Symbol.asyncIterator in source)) return releaseWhenDone(source, release);
          return releaseWhenDone(sharedResults(source[Symbol.asyncIterator](), args, groups.get(ctx) ?? randomUUID()), release);
        } catch (err) {
          release();
          throw err;
        }
      },
      // A bad key closes the socket (4403); no key at all is allowed and every operation is then UNAUTHENTICATED.
      onConnect: async (ctx) => {
        if (drain.draining) {
          ctx.extra.socket.close(1001, 'Going away');
          return false;
        }
        let invalid: boolean;
        try {
          ({ invalid } = await principalFrom(db, authorizationParam(ctx.connectionParams), keys));
        } catch (err) {
          const retryable = retryableOutside(err, { log, requestId: randomUUID() });
          if (!retryable) throw err;
          // 1013 Try Again Later: graphql-ws clients reconnect on it, where 4403 would call the key bad.
          ctx.extra.socket.close(1013, retryable.message);
          return false;
        }
        if (invalid) return false;
        ctx.extra.connectionId = randomUUID();
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        if (drain.draining) return [new GraphQLError('The server is shutting down; retry', { extensions: { code: 'UNAVAILABLE', retryable: true } })];
        // Authenticated first, and again per operation: a caller without a valid key costs no
        // parsing, and a key revoked while the socket is open stops working at once, as over HTTP.
        const requestId = randomUUID();
        let contextValue: Context;
        try {
          contextValue = await makeContext(authorizationParam(ctx.connectionParams), requestId, { connectionId: ctx.extra.connectionId ?? '' });
        } catch (err) {
          // Answered on this operation alone: thrown, it would close the socket and every other subscription on it.
          const retryable = retryableOutside(err, { log, requestId });
          if (!retryable) throw err;
          return [retryable];
        }
        if (!contextValue.principal) return [unauthenticated()];
        try {
          rateLimiter?.precheck(contextValue.principal.keyId);
        } catch (err) {
          return [err as GraphQLError];
        }
        let checked = documents.get(payload.query);
        if (!checked) {
          let document;
          try {
            document = parse(payload.query, { maxTokens: config.limits.maxTokens });
          } catch (err) {
            return [new GraphQLError((err as Error).message, { extensions: { code: 'BAD_USER_INPUT' } })];
          }
          // `validate` runs only the rules it is given: the standard ones must be passed along with ours.
          const errors = validate(schema, document, [...specifiedRules, ...rules]);
          checked = errors.length
            ? { errors: errors.map((e) => (e.extensions.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } }))) }
            : { document };
          documents.set(payload.query, checked);
        }
        if ('errors' in checked) return [...checked.errors];
        const document = checked.document;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new GraphQLError('No operation to run', { extensions: { code: 'BAD_USER_INPUT' } })];
        try {
          checkInputs(document, payload.variables, config.limits);
          const cost = checkCost(schema, document, payload.variables ?? undefined, payload.operationName ?? undefined, config.limits.maxCost, contextValue.limits);
          contextValue.cost = { max: config.limits.maxCost, estimated: cost, spent: cost };
          // A subscription pays once, when it starts; its events are bounded by the subscription limits.
          await rateLimiter?.spend(contextValue.principal.keyId, cost);
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          return maskUnexpected([new GraphQLError('unexpected error', { originalError: err as Error })], contextValue);
        }
        const args: ExecutionArgs = {
          schema, document, contextValue, variableValues: payload.variables, operationName: payload.operationName,
        };
        if (operation.operation === 'subscription') {
          try {
            slots.set(contextValue, subscriptions.acquire(ctx.extra.connectionId ?? '', contextValue.principal.keyId));
          } catch (err) {
            return [err as GraphQLError];
          }
          // Results depend on the document, the variables and what the key may see (its role and project), not on which key.
          const { role, projectId } = contextValue.principal;
          // Kept per subscription: a digest, not the text.
          groups.set(contextValue, createHash('sha256')
            .update(JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null, role, projectId])).digest('base64'));
          const socket = ctx.extra.socket;
          contextValue.sendBound = {
            maxBytes: config.streams.maxSendBufferBytes,
            closeSlow: () => closeSlow(socket),
          };
        }
        // A stop waits for queries and mutations to answer (subscriptions it ends).
        if (operation.operation !== 'subscription') drain.operationStarted(`${ctx.extra.connectionId}:${id}`);
        return args;
      },
      onComplete: (ctx, id) => drain.operationEnded(`${ctx.extra.connectionId}:${id}`),
      onClose: (ctx) => drain.connectionClosed(`${ctx.extra.connectionId}:`),
      onNext: (ctx, id, _payload, args, result) => {
        // The socket's own buffer: bytes written but not yet taken by the client.
        if (ctx.extra.socket.bufferedAmount > config.streams.maxSendBufferBytes) closeSlow(ctx.extra.socket);
        batchWrites(ctx.extra.socket);
        // Each event of a subscription is one execution: what its resolvers charged does not carry over to the next.
        const cost = (args.contextValue as Context).cost;
        if (cost) cost.spent = cost.estimated;
        if (!('errors' in result) || !result.errors?.length) {
          const pending = pendingPayloads.get(ctx.extra.socket);
          if (!pending) return result;
          let json = serialized.get(result);
          if (json === undefined) serialized.set(result, (json = JSON.stringify(result)));
          pending.set(id, json);
          return PRESERIALIZED;
        }
        const errors = maskUnexpected(result.errors, args.contextValue as Context);
        return { ...result, errors: errors.map((e) => formatError(e.toJSON() as GraphQLFormattedError, e) as GraphQLError) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON() as GraphQLFormattedError, e) as GraphQLError),
    },
    wss,
    // A client that stops reading (and so answering pings) is ended after one to two intervals.
    config.streams.keepAliveMs,
  );

  const apollo = new ApolloServer<Context>({
    gateway: jitGateway(schema),
    formatError,
    validationRules: rules,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    introspection: true,
    // main.ts owns the signals: it stops Apollo, then the database, then exits.
    stopOnTerminationSignals: false,
    // Compact JSON: Apollo pretty-prints by default, which costs time and bytes on every answer.
    stringifyResult: (result) => JSON.stringify(result),
    plugins: [
      costPlugin(schema, config.limits, rateLimiter),
      // Cache hints are unused (answers are per key, never cached); without this plugin Apollo
      // wraps every field resolver to collect them, a cost paid on each of thousands of fields.
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();

  // One process of those on the database evaluates monitors on a schedule: the one holding this lock.
  const monitorTimer = new MonitorTimer(
    db,
    new Leader({
      url, name: MONITOR_TIMER_LOCK, sessionOptions: sessionOptions(config.session),
      queryTimeoutMs: Math.max(5000, config.monitorTimer.intervalMs), log: log.child({ component: 'leader' }),
    }),
    log.child({ component: 'monitor-timer' }),
    config.monitorTimer,
  );

  let ready = false;
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    if (drain.draining) { res.status(503).json({ status: 'shutting down' }); return; }
    try {
      await db.query('SELECT 1');
      // Once the migrations are known applied they stay applied for this process.
      ready ||= await migrationsApplied(db);
      if (!ready) { res.status(503).json({ status: 'migrations pending' }); return; }
      // Not a condition of readiness: a follower serves like a leader, it only waits for the lock.
      res.json({ status: 'ready', monitorTimer: monitorTimer.state });
    } catch {
      res.status(503).json({ status: 'database unreachable' });
    }
  });
  // The live dashboard (web/dashboard, bundled by npm run build): a page of this server's own files.
  if (config.dashboard) app.use('/dashboard', webAppRoutes('dashboard'));
  app.use(
    '/graphql',
    (_req: Request, res: Response, next: NextFunction) => {
      if (!drain.draining) { next(); return; }
      // Sent after SIGTERM on a connection kept alive from before: refused, not run, since the
      // connection may be closed before an answer could be written.
      res.setHeader('connection', 'close');
      res.status(503).json({ errors: [{ message: 'The server is shutting down; retry', extensions: { code: 'UNAVAILABLE', retryable: true } }] });
    },
    // The caller is known before the body is read: a request without a valid key is answered
    // 401 with its body unread, so an anonymous megabyte document costs the server only its
    // transfer, not a JSON parse (and nothing of it reaches GraphQL).
    async (req: Request, res: Response, next: NextFunction) => {
      const requestId = String(req.headers['x-request-id'] ?? randomUUID());
      let principal: Principal | null;
      try {
        ({ principal } = await principalFrom(db, req.headers.authorization, keys));
      } catch (err) {
        // Outside the executor: an outage met while authenticating answers retryably (503).
        const retryable = retryableOutside(err, { log, requestId });
        if (!retryable) { next(err); return; }
        res.status(503).json({ errors: [{ message: retryable.message, extensions: retryable.extensions }] });
        return;
      }
      if (!principal) {
        res.status(401).json({ errors: [{ message: UNAUTHENTICATED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }] });
        return;
      }
      res.locals.principal = principal;
      res.locals.requestId = requestId;
      next();
    },
    express.json({ limit: config.limits.maxBodyBytes }),
    (err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
      if (err.type === 'entity.too.large') {
        res.status(413).json({ errors: [{ message: `Request body is larger than the limit of ${config.limits.maxBodyBytes} bytes`, extensions: { code: 'BAD_USER_INPUT', limit: 'maxBodyBytes', max: config.limits.maxBodyBytes } }] });
        return;
      }
      if (err.status === 400 || err.type === 'entity.parse.failed') {
        res.status(400).json({ errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
        return;
      }
      next(err);
    },
    expressMiddleware(apollo, {
      // The caller was authenticated by the middleware above, before the body was read.
      context: async ({ res }) => {
        const principal = res.locals.principal as Principal;
        // A key known to be out of tokens is refused (429) before its document is parsed.
        rateLimiter?.precheck(principal.keyId);
        return contextFor(principal, res.locals.requestId as string);
      },
    }),
  );

  open();
  const port = (httpServer.address() as { port: number }).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  log.info({ port }, `ModelGraph is serving http://${host}:${port}/graphql`);
  monitorTimer.start();

  // Partitions ahead, retention and rollups of metric points (monitoring/storage-rounds.ts), on a
  // pool of their own: a round never takes a connection a request waits for, nor counts as its statement.
  const background = createDataSource(url, 2, undefined, config.session);
  await background.initialize();
  const stopRounds = startStorageRounds(background, log.child({ component: 'storage' }), config.storage);
  const stopStorageRounds = async () => {
    await stopRounds();
    if (background.isInitialized) await background.destroy();
  };

  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    port,
    db,
    sql,
    log,
    events,
    rateLimiter,
    subscriptions,
    monitorTimer,
    stop: () => {
      stopping ??= (async () => {
        await Promise.all([
          // Between two chunks at most: a round in flight does not hold the drain back.
          stopStorageRounds(),
          // Requests and WebSocket operations in flight answer (within the grace period) before Apollo stops.
          drain.stop(
            config.shutdownTimeoutMs,
            async () => { await wsServer.dispose(); },
            // Past the grace period: the pool's sessions end (a transaction still open rolls back)
            // before the sockets of the requests that are still running are closed.
            async () => { if (db.isInitialized) await db.destroy(); },
          ),
          // The lock is given back at once (after the batch in progress), so another replica takes
          // over the timer while this one still drains.
          monitorTimer.stop(),
        ]);
        // What the requests queued to run after their commits (monitors following a moved alias).
        if (db.isInitialized) await afterCommitSettled(db);
        // Wake-ups of points committed during the drain, before the pool closes under them.
        if (db.isInitialized) await announcementsSettled(db);
        await apollo.stop();
        await events.stop();
        await rateLimiter?.close();
        if (db.isInitialized) await db.destroy();
        await embedded?.stop();
      })();
      return stopping;
    },
  };
}
