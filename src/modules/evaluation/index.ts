import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { EvalMetric } from './eval-metric.entity';
import { EvalSample } from './eval-sample.entity';
import { Evaluation } from './evaluation.entity';
import { evaluationHooks } from './evaluation.hooks';
import { evaluationLoaders } from './evaluation.loaders';
import {
  ComparisonRowResolver, EvaluationResolver, LeaderboardEntryResolver, ModelVersionEvaluationResolver, ProjectEvaluationResolver,
} from './evaluation.resolver';
import { TextMetricsResolver } from './text-metrics.resolver';

/** Evaluations: metrics per version, dataset and evaluator; leaderboards; text metrics. */
export const evaluationModule: ModuleDescriptor = {
  name: 'evaluation',
  entities: [Evaluation, EvalMetric, EvalSample],
  resolvers: [
    EvaluationResolver, ModelVersionEvaluationResolver, ProjectEvaluationResolver, LeaderboardEntryResolver, ComparisonRowResolver, TextMetricsResolver,
  ],
  loaders: evaluationLoaders,
  nodeTypes: [
    defineNodeType({ name: 'Evaluation', cls: Evaluation, key: 'uuid', load: (l, k) => l.evaluationById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({
      name: 'EvalSample', cls: EvalSample, key: 'bigint', load: (l, k) => l.evalSampleById.load(k),
      projectOf: async (r, l) => (await l.evaluationById.load(r.evaluationId))?.projectId ?? null,
    }),
  ],
  hooks: evaluationHooks,
};
