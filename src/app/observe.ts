import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import type { Context } from '../core/graphql/context';
import { OPERATION_UNKNOWN, ServerMetrics, firstErrorCode } from '../core/metrics/metrics';
import { startOperationSpan } from './tracing';

/**
 * Counts and times every GraphQL request answered over HTTP (GET /metrics), and traces its
 * operation when tracing is on. Requests refused before Apollo reads them (no key, body too
 * large) are counted by server.ts, where they are refused.
 */
export function observePlugin(metrics: ServerMetrics): ApolloServerPlugin<Context> {
  return {
    // Refused while the context was made (a key out of tokens: RATE_LIMITED) or as a malformed
    // request (no query): no operation was resolved in either.
    async contextCreationDidFail({ error }) {
      metrics.answered('http', OPERATION_UNKNOWN, undefined, firstErrorCode([error as GraphQLError]));
    },
    async invalidRequestWasReceived() {
      metrics.answered('http', OPERATION_UNKNOWN, undefined, 'BAD_USER_INPUT');
    },
    async requestDidStart() {
      const started = process.hrtime.bigint();
      const span = startOperationSpan();
      return {
        async didResolveOperation({ operation }) {
          if (operation) span?.named(operation.operation, operation.name?.value);
        },
        async willSendResponse({ response, operation }) {
          const body = response.body;
          // What the client is sent, after formatError: the codes it sees are the codes counted.
          const code = body.kind === 'single' ? firstErrorCode(body.singleResult.errors as GraphQLError[] | undefined) : null;
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.answered('http', metrics.operationLabel(operation), operation?.operation, code, seconds);
          span?.end(code);
        },
      };
    },
  };
}
