import type { ModuleDescriptor } from '../../core/module';
import { MetricPointsEventResolver, RegistryEventResolver, SubscriptionResolver } from './events.resolver';
import { StreamCursorResolver } from './stream-cursor.resolver';

/** Subscriptions: the registry event stream, alerts and metric points, resumable by cursor, and their starting cursors. Last in the order. */
export const liveModule: ModuleDescriptor = {
  name: 'live',
  entities: [],
  resolvers: [SubscriptionResolver, RegistryEventResolver, MetricPointsEventResolver, StreamCursorResolver],
};
