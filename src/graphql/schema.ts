import 'reflect-metadata';
import { GraphQLSchema, isAbstractType } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ApiKeyResolver, ViewerResolver } from '../modules/auth/auth.resolver';
import { DatasetResolver } from '../modules/dataset/dataset.resolver';
import { DatasetUsageResolver, DatasetVersionResolver, ModelVersionDatasetsResolver } from '../modules/dataset/dataset-version.resolver';
import { ProjectDatasetsResolver } from '../modules/dataset/project-datasets.resolver';
import { EvaluationResolver, ModelVersionEvaluationResolver, ProjectEvaluationResolver } from '../modules/evaluation/evaluation.resolver';
import { TextMetricsResolver } from '../modules/evaluation/text-metrics.resolver';
import { AliasEventResolver, ModelAliasResolver } from '../modules/model/alias.resolver';
import { ModelVersionResolver } from '../modules/model/model-version.resolver';
import { ModelResolver } from '../modules/model/model.resolver';
import { ProjectResolver } from '../modules/project/project.resolver';
import { FeatureSetResolver, ModelVersionFeatureSetResolver, ProjectFeatureSetResolver } from '../modules/feature-set/feature-set.resolver';
import { NodeResolver } from './node.resolver';
import { FeedbackResolver } from '../modules/feedback/feedback.resolver';
import { DriftResolver } from '../modules/drift/drift.resolver';
import { MetricSeriesResolver, MonitoringProjectResolver, MonitoringVersionResolver } from '../modules/monitoring/metric-series.resolver';
import { AlertResolver, MonitorResolver } from '../modules/monitoring/monitor.resolver';
import { AliasPolicyResolver, EvaluationGateResolver, ModelPromotionResolver, PromotionRequestResolver } from '../modules/promotion/promotion.resolver';
import { resolveNodeType } from './node';
import { resolveSourceType } from '../modules/model/model-version.entity';
import { DateTimeScalar } from './scalars';
import { MetricPointsEventResolver, RegistryEventResolver, SubscriptionResolver } from '../modules/events/events.resolver';

export const RESOLVERS = [
  NodeResolver, ProjectResolver, ViewerResolver, ApiKeyResolver,
  ModelResolver, ModelVersionResolver, ModelAliasResolver, AliasEventResolver,
  FeatureSetResolver, ProjectFeatureSetResolver, ModelVersionFeatureSetResolver,
  DatasetResolver, DatasetVersionResolver, DatasetUsageResolver, ProjectDatasetsResolver, ModelVersionDatasetsResolver,
  FeedbackResolver,
  DriftResolver,
  MetricSeriesResolver, MonitoringProjectResolver, MonitoringVersionResolver, MonitorResolver, AlertResolver,
  EvaluationResolver, ModelVersionEvaluationResolver, ProjectEvaluationResolver, TextMetricsResolver,
  ModelPromotionResolver, AliasPolicyResolver, EvaluationGateResolver, PromotionRequestResolver,
  SubscriptionResolver, RegistryEventResolver, MetricPointsEventResolver,
] as const;

/**
 * type-graphql wraps every resolveType in an async function; graphql-jit (our executor) needs
 * the type name synchronously, so the abstract types get their plain functions back.
 */
const SYNC_RESOLVE_TYPE: Record<string, (value: object) => string> = {
  Node: resolveNodeType,
  ModelSource: resolveSourceType,
};

let built: Promise<GraphQLSchema> | null = null;

/** Builds the schema once per process; type-graphql's metadata is global anyway. */
export function getSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // class-validator on every input; failures reach formatError as BAD_USER_INPUT.
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
    // Every subscription brings its own `subscribe` (streams read from the database, woken by
    // LISTEN); type-graphql still insists on a pub/sub for topic-based ones, of which there are none.
    pubSub: { publish: () => undefined, subscribe: () => { throw new Error('no topic-based subscriptions'); } },
  }).then((schema) => {
    for (const type of Object.values(schema.getTypeMap())) {
      if (isAbstractType(type)) {
        const sync = SYNC_RESOLVE_TYPE[type.name];
        if (!sync) throw new Error(`abstract type ${type.name} needs a synchronous resolveType in SYNC_RESOLVE_TYPE`);
        type.resolveType = sync;
      }
    }
    return schema;
  });
  return built;
}
