import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DeploymentRevision, DeploymentRoute } from '../../deployment/deployment.entity';

export enum ExperimentMetric {
  THUMBS_UP_RATE = 'THUMBS_UP_RATE',
  MEAN_RATING = 'MEAN_RATING',
  LATENCY_MS = 'LATENCY_MS',
  COST_PER_REQUEST = 'COST_PER_REQUEST',
}
registerEnumType(ExperimentMetric, {
  name: 'ExperimentMetric',
  description: 'What an experiment compares the routes of a deployment on (docs/experiments.md).',
  valuesConfig: {
    THUMBS_UP_RATE: { description: 'Share of THUMBS feedback that is up, on the requests each route served; two-proportion z-test. Higher is better.' },
    MEAN_RATING: { description: 'Mean of RATING feedback values on the requests each route served; Welch\'s t-test. Higher is better.' },
    LATENCY_MS: { description: 'Mean latency per request in ms; Welch\'s t-test. Lower is better.' },
    COST_PER_REQUEST: { description: 'Mean cost per priced request in USD (requests without a price are left out); Welch\'s t-test. Lower is better.' },
  },
});

export enum ExperimentVerdict {
  BETTER = 'BETTER',
  WORSE = 'WORSE',
  NO_DIFFERENCE = 'NO_DIFFERENCE',
  NOT_ENOUGH_DATA = 'NOT_ENOUGH_DATA',
}
registerEnumType(ExperimentVerdict, {
  name: 'ExperimentVerdict',
  description: 'A route against the control (the first route), two-sided at alpha 0.05.',
  valuesConfig: {
    BETTER: { description: 'p < alpha and the difference goes the good way for the metric.' },
    WORSE: { description: 'p < alpha and the difference goes the bad way for the metric.' },
    NO_DIFFERENCE: { description: 'p >= alpha: the data do not show a difference (read differenceInterval for how large one could still be).' },
    NOT_ENOUGH_DATA: { description: 'This route or the control falls short of the minimum sample (minimumSampleSize, sampleRule); pValue is still given for reference.' },
  },
});

@ObjectType({ description: 'A 95% confidence interval.' })
export class ConfidenceInterval {
  @Field(() => Float, { description: 'Lower bound.' })
  lower: number;

  @Field(() => Float, { description: 'Upper bound.' })
  upper: number;
}

@ObjectType({ description: 'One route of an experiment: its estimate and, except for the control, its comparison with the control.' })
export class ExperimentRoute {
  @Field({ description: 'The route\'s name.' })
  name: string;

  @Field({ description: 'True for the first route, the control every other route is compared with.' })
  control: boolean;

  @Field(() => DeploymentRoute, { description: 'The route, as the revision in force at the end of the window has it (its version: the one it served then).' })
  route: DeploymentRoute;

  @Field(() => Int, { description: 'THUMBS_UP_RATE: thumbs votes; otherwise the observations (ratings, requests, priced requests) behind the estimate.' })
  observations: number;

  @Field(() => Int, { nullable: true, description: 'THUMBS_UP_RATE: thumbs up; null for the other metrics.' })
  successes: number | null;

  @Field(() => Float, { nullable: true, description: 'The share (THUMBS_UP_RATE) or the mean; null without observations.' })
  estimate: number | null;

  @Field(() => Float, { nullable: true, description: 'Sample standard deviation (n - 1) of a mean; null for THUMBS_UP_RATE and below 2 observations.' })
  standardDeviation: number | null;

  @Field(() => ConfidenceInterval, { nullable: true, description: '95% interval of the estimate: Wilson score for a share, Student t for a mean; null without enough observations.' })
  interval: ConfidenceInterval | null;

  @Field(() => Float, { nullable: true, description: 'This route\'s estimate minus the control\'s; null for the control or without data.' })
  difference: number | null;

  @Field(() => ConfidenceInterval, { nullable: true, description: '95% interval of the difference (unpooled for shares, Welch for means); null for the control or when undefined.' })
  differenceInterval: ConfidenceInterval | null;

  @Field(() => Float, { nullable: true, description: 'z (THUMBS_UP_RATE) or Welch\'s t against the control; null for the control or when undefined.' })
  statistic: number | null;

  @Field(() => Float, { nullable: true, description: 'Welch–Satterthwaite degrees of freedom of the t-test; null for THUMBS_UP_RATE, the control, or when undefined.' })
  degreesOfFreedom: number | null;

  @Field(() => Float, { nullable: true, description: 'Two-sided p-value against the control; null for the control or when undefined.' })
  pValue: number | null;

  @Field(() => ExperimentVerdict, { nullable: true, description: 'The verdict against the control; null for the control.' })
  verdict: ExperimentVerdict | null;

  @Field(() => Int, { nullable: true, description: 'Observations each of this route and the control needs before a verdict other than NOT_ENOUGH_DATA; null for the control.' })
  minimumSampleSize: number | null;

  @Field(() => String, { nullable: true, description: 'The minimum sample rule in words; null for the control.' })
  sampleRule: string | null;
}

@ObjectType({ description: 'The routes of a deployment compared over a window on one metric, each against the first route (the control).' })
export class Experiment {
  @Field({ description: 'Start of the window (inclusive).' })
  from: Date;

  @Field({ description: 'End of the window (exclusive).' })
  to: Date;

  @Field(() => ExperimentMetric, { description: 'What the routes are compared on.' })
  metric: ExperimentMetric;

  @Field({ description: 'True when a higher estimate is better (THUMBS_UP_RATE, MEAN_RATING), false when lower is (LATENCY_MS, COST_PER_REQUEST).' })
  higherIsBetter: boolean;

  @Field(() => Float, { description: 'Significance level of every verdict, two-sided: 0.05.' })
  alpha: number;

  @Field(() => DeploymentRevision, { nullable: true, description: 'The revision in force at the end of the window, whose routes are compared; null if there was none.' })
  revision: DeploymentRevision | null;

  @Field(() => [ExperimentRoute], { description: 'The routes of that revision in their order; the first is the control.' })
  routes: ExperimentRoute[];
}
