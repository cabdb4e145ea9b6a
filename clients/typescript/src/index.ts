export { createModelGraphClient } from './client';
export type { ModelGraphClient, ModelGraphClientOptions, MetricPointsEvent, RegistryEventItem, AlertEvent } from './client';
export { ModelGraphError, AUTH_CODES } from './errors';
export type { LiveOptions, LiveSink, LiveStream, ReconnectOptions } from './live';
// Every operation of operations/*.graphql as a typed document, and the schema's types.
export * from './generated/graphql';
