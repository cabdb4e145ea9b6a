import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { MetricSeries } from './metric-series.entity';
import { MetricSeriesResolver, MonitoringProjectResolver, MonitoringVersionResolver } from './metric-series.resolver';
import { Alert, Monitor } from './monitor.entity';
import { AlertResolver, MonitorResolver } from './monitor.resolver';
import { monitoringLoaders } from './monitoring.loaders';
import { monitoringHooks } from './monitoring.hooks';
import { ProjectRetentionFields } from './project.fields';
import { RetentionResolver } from './retention.resolver';

/** Metric series with downsampled history, monitors and alerts. */
export const monitoringModule: ModuleDescriptor = {
  name: 'monitoring',
  entities: [MetricSeries, Monitor, Alert],
  resolvers: [MetricSeriesResolver, MonitoringProjectResolver, MonitoringVersionResolver, MonitorResolver, AlertResolver, RetentionResolver, ProjectRetentionFields],
  loaders: monitoringLoaders,
  hooks: monitoringHooks,
  nodeTypes: [
    defineNodeType({ name: 'MetricSeries', cls: MetricSeries, key: 'uuid', load: (l, k) => l.metricSeriesById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({ name: 'Monitor', cls: Monitor, key: 'uuid', load: (l, k) => l.monitorById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({ name: 'Alert', cls: Alert, key: 'bigint', load: (l, k) => l.alertById.load(k), projectOf: (r) => r.projectId }),
  ],
};
