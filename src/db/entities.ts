import { ApiKey } from '../modules/auth/api-key.entity';
import { AuditEvent } from '../modules/audit/audit-event.entity';
import { DatasetUsage, DatasetVersion } from '../modules/dataset/dataset-version.entity';
import { Dataset } from '../modules/dataset/dataset.entity';
import { AliasEvent, ModelAlias } from '../modules/model/model-alias.entity';
import { ModelVersion } from '../modules/model/model-version.entity';
import { Model } from '../modules/model/model.entity';
import { Project } from '../modules/project/project.entity';
import { FeatureSet } from '../modules/feature-set/feature-set.entity';
import { EvalMetric } from '../modules/evaluation/eval-metric.entity';
import { EvalSample } from '../modules/evaluation/eval-sample.entity';
import { Evaluation } from '../modules/evaluation/evaluation.entity';
import { Feedback } from '../modules/feedback/feedback.entity';
import { MetricSeries } from '../modules/monitoring/metric-series.entity';
import { Alert, Monitor } from '../modules/monitoring/monitor.entity';
import { AliasPolicy, PromotionRequest } from '../modules/promotion/promotion.entity';
import { RegistryCore1764100000000 } from '../../migrations/1764100000000-RegistryCore';
import { FeatureSets1764300000000 } from '../../migrations/1764300000000-FeatureSets';
import { Datasets1764180000000 } from '../../migrations/1764180000000-Datasets';
import { Evaluations1764400000000 } from '../../migrations/1764400000000-Evaluations';
import { Feedback1764500000000 } from '../../migrations/1764500000000-Feedback';
import { Monitoring1764600000000 } from '../../migrations/1764600000000-Monitoring';
import { Promotions1764700000000 } from '../../migrations/1764700000000-Promotions';

/** Listed, not globbed, so the same list works from TypeScript (tests) and compiled JavaScript. */
export const ENTITIES = [Project, ApiKey, AuditEvent, Model, ModelVersion, ModelAlias, AliasEvent, Dataset, DatasetVersion, DatasetUsage, Feedback, AliasPolicy, PromotionRequest, Evaluation, EvalMetric, EvalSample, FeatureSet, MetricSeries, Monitor, Alert];
export const MIGRATIONS = [RegistryCore1764100000000, Datasets1764180000000, Evaluations1764400000000, Feedback1764500000000, Promotions1764700000000, FeatureSets1764300000000, Monitoring1764600000000];
