import { ConnectionType } from '../../../core/graphql/pagination';
import { MetricSeries } from '../metric-series.entity';
import { Alert, Monitor } from '../monitor.entity';

export const MetricSeriesConnection = ConnectionType(MetricSeries, 'MetricSeries', 'metric series');
export const MonitorConnection = ConnectionType(Monitor, 'Monitor', 'monitor');
export const AlertConnection = ConnectionType(Alert, 'Alert', 'alert');
