import { Field, Float, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../../core/graphql/pagination';
import { ModelVersion } from '../../model/model-version.entity';
import { EvalSample } from '../eval-sample.entity';
import { Evaluation } from '../evaluation.entity';

export const EvaluationConnection = ConnectionType(Evaluation, 'Evaluation', 'evaluation');
export const EvalSampleConnection = ConnectionType(EvalSample, 'EvalSample', 'evaluation sample');

@ObjectType({
  description: "A model version's (by PROMPT_VERSION: a prompt version's) best completed evaluation value of a metric, with its rank in the project.",
})
export class LeaderboardEntry {
  @Field(() => Int, { description: '1 for the best; ties go to the evaluation that finished first.' })
  rank: number;

  @Field(() => ModelVersion, { description: 'The model version (by PROMPT_VERSION: the one the best evaluation ran).' })
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

  @Field(() => [Float], {
    nullable: 'items',
    description: "values[i] is metrics[i] from the version's (by PROMPT_VERSION: the pair's) latest completed evaluation reporting it; null when none does.",
  })
  values: (number | null)[];

  /** By PROMPT_VERSION: the prompt version of this row (null: evaluations that named none); read by ComparisonRow.promptVersion. */
  promptVersionId?: string | null;
}

@ObjectType({ description: 'Model versions side by side on the same metrics.' })
export class VersionComparison {
  @Field(() => [String], { description: 'The metric names, in column order.' })
  metrics: string[];

  @Field(() => [ComparisonRow], {
    description: 'One row per requested version, in the order of the ids; by PROMPT_VERSION, one per (version, prompt version) pair '
      + 'its completed evaluations report, the pair without a prompt version first, then the oldest prompt version first '
      + '(a version with no such evaluation keeps one row of nulls).',
  })
  rows: ComparisonRow[];
}
