import { IsEnum, IsNumber, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { FeedbackKind } from '../feedback.entity';

@InputType({ description: 'One piece of user feedback on an output of a model version.' })
export class RecordFeedbackInput {
  @Field(() => ID, { description: 'The model version whose output the feedback is about.' })
  @IsString()
  modelVersionId: string;

  @Field(() => FeedbackKind, { description: 'THUMBS, RATING, TEXT or EVENT.' })
  @IsEnum(FeedbackKind)
  kind: FeedbackKind;

  @Field(() => Float, { nullable: true, description: 'THUMBS: 1 up, 0 down. RATING: the score. EVENT: optional.' })
  @IsOptional() @IsNumber()
  value?: number | null;

  @Field(() => String, { nullable: true, description: 'TEXT: the comment (required). EVENT: the event name (required).' })
  @IsOptional() @MaxLength(10000)
  comment?: string | null;

  @Field(() => String, { nullable: true, description: 'The session the output was shown in; engagement counts distinct sessions.' })
  @IsOptional() @Length(1, 256)
  sessionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Who gave it, as the product identifies users (pseudonymous is fine).' })
  @IsOptional() @Length(1, 256)
  userId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The request whose output this rates: the requestId its usage record has (or will have) in recordUsage. '
      + 'It ties the feedback to the deployment route that served the request, which experiments compare. 1 to 256 characters.',
  })
  @IsOptional() @Length(1, 256)
  requestId?: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was given; default now. At most 5 minutes in the future.' })
  @IsOptional()
  at?: Date | null;
}

@ObjectType({ description: 'Whether the feedback was stored.' })
export class RecordFeedbackPayload {
  @Field({ description: 'True once the feedback is stored.' })
  accepted: boolean;
}
