/**
 * NOTIFY channels. Payloads stay small (`<project id>:<event id>`, or the project id for
 * points): subscribers read the rows from the tables. Their own file, read by both the writers
 * (registry-events.ts) and the listener (event-hub.ts), so neither imports the other.
 */
export const EVENTS_CHANNEL = 'modelgraph_events';
export const POINTS_CHANNEL = 'modelgraph_points';
