import { Field, Float, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../../core/graphql/pagination';
import { ModelVersion } from '../../model/model-version.entity';
import { EvalSample } from '../eval-sample.entity';
import { Evaluation } from '../evaluation.entity';

export const EvaluationConnection = ConnectionType(Evaluation, 'Evaluation', 'evaluation');
export const EvalSampleConnection = ConnectionType(EvalSample, 'EvalSample', 'evaluation sample');

@ObjectType({ description: "A model version's best completed evaluation value of a metric, with its rank in the project." })
export class LeaderboardEntry {
  @Field(() => Int, { description: '1 for the best; ties go to the evaluation that finished first.' })
  rank: number;

  @Field(() => ModelVersion, { description: 'The model version.' })
  modelVersion: ModelVersion;

  @Field(() => Evaluation, { description: 'The evaluation that produced the value.' })
  evaluation: Evaluation;

  @Field(() => Float, { description: 'The metric value.' })
  value: number;
}

@ObjectType({ description: 'One model version in a comparison.' })
export class ComparisonRow {
  @Field(() => ModelVersion, { description: 'The model version.' })
  modelVersion: ModelVersion;

  @Field(() => [Float], { nullable: 'items', description: "values[i] is metrics[i] from the version's latest completed evaluation reporting it; null when none does." })
  values: (number | null)[];
}

@ObjectType({ description: 'Model versions side by side on the same metrics.' })
export class VersionComparison {
  @Field(() => [String], { description: 'The metric names, in column order.' })
  metrics: string[];

  @Field(() => [ComparisonRow], { description: 'One row per requested version, in the order of the ids.' })
  rows: ComparisonRow[];
}
