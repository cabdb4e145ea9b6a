import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';

export enum FeedbackKind {
  THUMBS = 'THUMBS',
  RATING = 'RATING',
  TEXT = 'TEXT',
  EVENT = 'EVENT',
}
registerEnumType(FeedbackKind, {
  name: 'FeedbackKind',
  description: 'What kind of feedback a user gave on an output.',
  valuesConfig: {
    THUMBS: { description: 'Thumbs up (value 1) or down (value 0).' },
    RATING: { description: 'A score, e.g. 1 to 5 stars, in value.' },
    TEXT: { description: 'A written comment, in comment.' },
    EVENT: { description: 'A product signal, e.g. "copied" or "regenerated", in comment; value optional.' },
  },
});

/** One piece of feedback; not exposed as a type, only rolled up into EngagementSummary. */
@Entity('feedback')
export class Feedback {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  @Column({ name: 'model_version_id', type: 'uuid' })
  modelVersionId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  kind: FeedbackKind;

  @Column({ type: 'double precision', nullable: true })
  value: number | null;

  @Column({ type: 'text', nullable: true })
  comment: string | null;

  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId: string | null;

  @Column({ name: 'user_id', type: 'text', nullable: true })
  userId: string | null;

  /** The request whose output it rates (the id of its usage record), when the caller said. */
  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Column({ type: 'timestamptz', precision: 3 })
  at: Date;

  @Column({ name: 'recorded_by' })
  recordedBy: string;
}

@ObjectType({ description: 'User feedback on a model version, rolled up over a time range.' })
export class EngagementSummary {
  @Field(() => GraphQLSafeInt, { description: 'Pieces of feedback of every kind.' })
  feedbackCount: number;

  @Field(() => Float, { nullable: true, description: 'Share of THUMBS feedback that is positive; null without any.' })
  positiveRate: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean of RATING values; null without any.' })
  meanRating: number | null;

  @Field(() => GraphQLSafeInt, { description: 'Distinct sessions that gave feedback.' })
  sessions: number;
}
