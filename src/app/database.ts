import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import { SessionLimits, openDataSource, type Class } from '../core/db/data-source';
import { ORDER } from './modules';
import { RegistryCore1764100000000 } from '../../migrations/1764100000000-RegistryCore';
import { FeatureSets1764300000000 } from '../../migrations/1764300000000-FeatureSets';
import { Datasets1764180000000 } from '../../migrations/1764180000000-Datasets';
import { Evaluations1764400000000 } from '../../migrations/1764400000000-Evaluations';
import { Feedback1764500000000 } from '../../migrations/1764500000000-Feedback';
import { Drift1764800000000 } from '../../migrations/1764800000000-Drift';
import { Monitoring1764600000000 } from '../../migrations/1764600000000-Monitoring';
import { Promotions1764700000000 } from '../../migrations/1764700000000-Promotions';
import { RegistryEvents1764900000000 } from '../../migrations/1764900000000-RegistryEvents';
import { ProjectScopedKeys1765000000000 } from '../../migrations/1765000000000-ProjectScopedKeys';
import { RateBuckets1765150000000 } from '../../migrations/1765150000000-RateBuckets';
import { MonitorTimer1796245333845 } from '../../migrations/1796245333845-MonitorTimer';
import { PointStorage1796245496825 } from '../../migrations/1796245496825-PointStorage';
import { MetricSeriesHotUpdates1796248364304 } from '../../migrations/1796248364304-MetricSeriesHotUpdates';
import { Prompts1796300000000 } from '../../migrations/1796300000000-Prompts';
import { FeedbackRequest1796350000000 } from '../../migrations/1796350000000-FeedbackRequest';
import { Deployments1796400000000 } from '../../migrations/1796400000000-Deployments';
import { Usage1796450000000 } from '../../migrations/1796450000000-Usage';
import { UsageRoutes1796500000000 } from '../../migrations/1796500000000-UsageRoutes';
import { EvalSampleTokens1796550000000 } from '../../migrations/1796550000000-EvalSampleTokens';
import { UsageRecordKeys1796600000000 } from '../../migrations/1796600000000-UsageRecordKeys';
import { ValidateUsageRecordKeys1796610000000 } from '../../migrations/1796610000000-ValidateUsageRecordKeys';

/** Every module's entities, in the declared order. */
export const ENTITIES: Class[] = ORDER.flatMap((m) => m.entities);

/** Listed, not globbed, so the same list works from TypeScript (tests) and compiled JavaScript. */
export const MIGRATIONS: Class[] = [
  RegistryCore1764100000000, Datasets1764180000000, Evaluations1764400000000, Feedback1764500000000, Promotions1764700000000,
  FeatureSets1764300000000, Monitoring1764600000000, Drift1764800000000, RegistryEvents1764900000000,
  ProjectScopedKeys1765000000000, RateBuckets1765150000000, MonitorTimer1796245333845, PointStorage1796245496825,
  MetricSeriesHotUpdates1796248364304, Prompts1796300000000, FeedbackRequest1796350000000, Deployments1796400000000,
  Usage1796450000000, UsageRoutes1796500000000, EvalSampleTokens1796550000000, UsageRecordKeys1796600000000,
  ValidateUsageRecordKeys1796610000000,
];

/** The data source of this build: every module's entities and every migration. */
export function createDataSource(url: string, poolSize: number, logger?: TypeOrmLogger, session?: SessionLimits): DataSource {
  return openDataSource({ url, poolSize, entities: ENTITIES, migrations: MIGRATIONS, logger, session });
}
