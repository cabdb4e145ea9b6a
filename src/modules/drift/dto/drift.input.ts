import { ArrayMaxSize, ArrayMinSize, IsDate, IsOptional, IsString, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ColumnInput } from '../../dataset/dto/dataset.input';

@InputType({
  description: 'What a model version saw in production in [from, to), profiled per column like a dataset version\'s columns. '
    + 'Recording the same window again replaces that profile; profiles of different windows add up in drift reports.',
})
export class RecordColumnProfileInput {
  @Field(() => ID, { description: 'The model version that served the traffic.' })
  @IsString()
  modelVersionId: string;

  @Field(() => Date, { description: 'Start of the window (inclusive).' })
  @IsDate()
  from: Date;

  @Field(() => Date, { description: 'End of the window (exclusive); after from.' })
  @IsDate()
  to: Date;

  @Field(() => [ColumnInput], { description: 'The columns, with unique names; statistics follow the dataset version rules.' })
  @ArrayMinSize(1) @ArrayMaxSize(5000) @ValidateNested({ each: true })
  columns: ColumnInput[];
}

@ObjectType({ description: 'How much of a column profile was stored.' })
export class RecordColumnProfilePayload {
  @Field(() => Int, { description: 'Columns stored.' })
  accepted: number;
}

@InputType({
  description: 'One side of a drift comparison, in exactly one form: { datasetVersionId } for a dataset version, or '
    + '{ modelVersionId, from, to } for what a model version saw in production in [from, to) (every profile overlapping '
    + 'the window, merged; from and to have defaults, see driftReport). Anything else is BAD_USER_INPUT.',
})
export class DriftSideInput {
  @Field(() => ID, { nullable: true, description: 'A dataset version, e.g. the training data as reference.' })
  @IsOptional() @IsString()
  datasetVersionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'A model version whose production profiles to use, over the window from..to.' })
  @IsOptional() @IsString()
  modelVersionId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Start of the production window (inclusive); default: to minus the default window (MODELGRAPH_DRIFT_DEFAULT_WINDOW_SECONDS, see driftReport).' })
  @IsOptional() @IsDate()
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'End of the production window (exclusive); after from; default: now.' })
  @IsOptional() @IsDate()
  to?: Date | null;
}
