import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Field, Float, ObjectType } from 'type-graphql';

/** One value of an evaluation, keyed by (name, slice); the table's key is an expression index. */
@Entity('evaluation_metric')
@ObjectType('EvalMetric', { description: 'One metric value of an evaluation, overall (slice null) or on a slice of the data.' })
export class EvalMetric {
  @PrimaryColumn({ name: 'evaluation_id', type: 'uuid' })
  evaluationId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @PrimaryColumn()
  @Field({ description: 'Metric name, e.g. "accuracy", "ndcg@10", "latency.p95".' })
  name: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'The slice it was measured on, e.g. "lang=fr"; null: the whole dataset.' })
  slice: string | null;

  @Column({ type: 'double precision' })
  @Field(() => Float, { description: 'The value; the last one logged for this (name, slice) wins.' })
  value: number;

  @Column({ name: 'higher_is_better', type: 'boolean', nullable: true })
  @Field(() => Boolean, { nullable: true, description: 'Whether larger values are better; null when the logger did not say.' })
  higherIsBetter: boolean | null;

  @Column({ name: 'logged_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  loggedAt: Date;
}
