/* eslint-disable @typescript-eslint/no-require-imports -- loaded with require() on purpose, see below */
import type { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * OpenTelemetry traces, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/operations.md).
 *
 * main.ts imports this file before anything else: an instrumentation patches a module (http,
 * express, graphql, pg) when the module is first required, so it must be registered before the
 * server's modules load. For the same reason it reads the environment itself rather than through
 * config.ts, which loads the whole server (config.ts checks the endpoint's form later, with the
 * other settings). The SDK is required only when tracing is on: off, none of it is loaded.
 */

let sdk: NodeSDK | null = null;

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
if (endpoint) {
  const { NodeSDK: Sdk } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation, ExpressLayerType } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { GraphQLInstrumentation } = require('@opentelemetry/instrumentation-graphql') as typeof import('@opentelemetry/instrumentation-graphql');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  // Scrapes and probes arrive every few seconds and would drown the traces of requests.
  const UNTRACED = new Set(['/metrics', '/healthz', '/readyz']);
  sdk = new Sdk({
    // The SDK reads the exporter's protocol, headers, sampler and resource from the OTEL_* variables.
    ...(process.env.OTEL_SERVICE_NAME ? {} : { serviceName: 'modelgraph' }),
    // Traces only: metrics are scraped from GET /metrics and logs are JSON lines on stdout; left
    // to its defaults the SDK would also push both to the endpoint.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED.has((req.url ?? '').split('?')[0]) }),
      // The route names the HTTP span; a span per middleware (auth, body parser) adds only noise.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      // A span per resolved field would multiply the spans of a list by its rows: parse,
      // validate and the operation (server.ts) are traced, and the SQL of the fields by pg.
      new GraphQLInstrumentation({ ignoreResolveSpans: true, mergeItems: true }),
      new PgInstrumentation(),
    ],
  });
  sdk.start();
}

/** The span of one GraphQL operation over HTTP. */
export interface OperationSpan {
  /** Once the operation is known: the span takes its type and name, as graphql-js's own span would. */
  named(type: string, name: string | undefined): void;
  /** `errorCode`: the first error's code, null when the answer has none. */
  end(errorCode: string | null): void;
}

/**
 * A span for a GraphQL operation, child of the HTTP request's span, or null when tracing is off.
 * The graphql instrumentation traces parse and validate, but not execution: operations run
 * through graphql-jit (core/graphql/jit-executor.ts), not graphql-js's execute.
 */
export function startOperationSpan(): OperationSpan | null {
  if (!sdk) return null;
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const span = api.trace.getTracer('modelgraph').startSpan('graphql.operation');
  return {
    named(type, name) {
      span.updateName(name ? `${type} ${name}` : type);
      span.setAttribute('graphql.operation.type', type);
      if (name) span.setAttribute('graphql.operation.name', name);
    },
    end(errorCode) {
      if (errorCode) {
        span.setAttribute('graphql.error.code', errorCode);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorCode });
      }
      span.end();
    },
  };
}

/** Sends the spans still buffered and stops the SDK; called last on shutdown. */
export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
}
