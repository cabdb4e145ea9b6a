import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DatasetVersion } from '../../dataset/dataset-version.entity';
import { Evaluation } from '../../evaluation/evaluation.entity';
import { ModelVersion } from '../../model/model-version.entity';
import { FrontierStatus } from '../pareto';

export enum CandidateCostSource {
  USAGE = 'USAGE',
  ESTIMATED_FROM_SAMPLES = 'ESTIMATED_FROM_SAMPLES',
  NONE = 'NONE',
}
registerEnumType(CandidateCostSource, {
  name: 'CandidateCostSource',
  description: 'Where a candidate\'s cost per 1,000 requests comes from.',
  valuesConfig: {
    USAGE: { description: 'The requests it served in the window: the mean cost of its priced requests (each at the price stored with it) x 1,000.' },
    ESTIMATED_FROM_SAMPLES: {
      description: 'It served no priced request in the window: the mean input and output tokens of the samples of its quality evaluation '
        + '(those that carry both counts), at its price in force now, x 1,000 (PricingKind\'s formulas).',
    },
    NONE: { description: 'Neither: no priced request in the window, and no quality evaluation with token counts on its samples, or no price now.' },
  },
});

registerEnumType(FrontierStatus, {
  name: 'FrontierStatus',
  description: 'Whether a candidate is on the quality–cost Pareto frontier, and if not, why.',
  valuesConfig: {
    ON_FRONTIER: { description: 'No other candidate is at least as good on quality and cost and strictly better on one (equal candidates are on it together).' },
    DOMINATED: { description: 'Another candidate is at least as good on both and strictly better on one: see dominatedBy.' },
    NO_QUALITY: { description: 'Not on it: no quality (no COMPLETED evaluation on the dataset version reporting the metric).' },
    NO_COST: { description: 'Not on it: no cost (costSource NONE).' },
    NO_QUALITY_NO_COST: { description: 'Not on it: neither quality nor cost.' },
  },
});

/** One candidate as the comparison computed it; engagement is read by its field resolver, for the same window. */
@ObjectType({ description: 'One model version of a compareCandidates answer: its quality, cost, latency, engagement and place on the quality–cost Pareto frontier.' })
export class Candidate {
  @Field(() => ModelVersion, { description: 'The model version.' })
  modelVersion: ModelVersion;

  @Field(() => Evaluation, {
    nullable: true,
    description: 'The evaluation quality comes from: the latest-finished COMPLETED evaluation of the version on the dataset version that reports the metric '
      + 'overall (slice null); null when none does.',
  })
  evaluation: Evaluation | null;

  @Field(() => Float, { nullable: true, description: 'The metric\'s overall value in that evaluation; null without one.' })
  quality: number | null;

  @Field(() => Float, { nullable: true, description: 'USD per 1,000 requests; see costSource for how it was obtained. Null when costSource is NONE.' })
  costPer1kRequestsUsd: number | null;

  @Field(() => CandidateCostSource, { description: 'Where costPer1kRequestsUsd comes from.' })
  costSource: CandidateCostSource;

  @Field(() => Int, { description: 'Requests the version served in the window, priced or not.' })
  requests: number;

  @Field(() => Int, { description: 'Of those, the requests with a price at their time: the basis of a USAGE cost.' })
  pricedRequests: number;

  @Field(() => Int, { description: 'Samples of the quality evaluation that carry both inputTokens and outputTokens: the basis of an ESTIMATED_FROM_SAMPLES cost. 0 without an evaluation.' })
  samplesWithTokens: number;

  @Field(() => Float, { nullable: true, description: '95th percentile latency in ms of the requests in the window (continuous percentile, as percentile_cont); null without requests.' })
  p95LatencyMs: number | null;

  @Field({ description: 'True when the candidate is on the quality–cost Pareto frontier (frontierStatus ON_FRONTIER).' })
  onParetoFrontier: boolean;

  @Field(() => FrontierStatus, { description: 'ON_FRONTIER, DOMINATED, or why the candidate could not be placed (missing quality or cost).' })
  frontierStatus: FrontierStatus;

  @Field(() => [ModelVersion], { description: 'The candidates that dominate this one (at least as good on quality and cost, strictly better on one), in the order asked; empty unless DOMINATED.' })
  dominatedBy: ModelVersion[];

  /** The window engagement is rolled up over: the comparison's. */
  from: Date;
  to: Date;
}

@ObjectType({ description: 'Model versions compared for a choice between them: quality on one dataset version against cost, with latency and engagement.' })
export class CandidateComparison {
  @Field(() => DatasetVersion, { description: 'The dataset version quality is measured on.' })
  datasetVersion: DatasetVersion;

  @Field({ description: 'The metric quality is read from.' })
  qualityMetric: string;

  @Field({ description: 'Whether a larger quality is better, as asked.' })
  higherIsBetter: boolean;

  @Field({ description: 'Start of the usage and engagement window (inclusive).' })
  from: Date;

  @Field({ description: 'End of the usage and engagement window (exclusive).' })
  to: Date;

  @Field(() => [Candidate], { description: 'One per distinct version asked for, in the order asked.' })
  candidates: Candidate[];
}
