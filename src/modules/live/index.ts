import type { ModuleDescriptor } from '../../core/module';
import { MetricPointsEventResolver, RegistryEventResolver, SubscriptionResolver } from './events.resolver';

/** Subscriptions: the registry event stream, alerts and metric points, resumable by cursor. Last in the order. */
export const liveModule: ModuleDescriptor = {
  name: 'live',
  entities: [],
  resolvers: [SubscriptionResolver, RegistryEventResolver, MetricPointsEventResolver],
};
