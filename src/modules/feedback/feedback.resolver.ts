import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { RecordFeedbackInput, RecordFeedbackPayload } from './dto/feedback.input';
import { EngagementSummary } from './feedback.entity';
import { ENGAGEMENT_WINDOW_RULE, engagementWindow, recordFeedback } from './feedback.service';

@Resolver(() => ModelVersion)
export class FeedbackResolver {
  @Allow(Role.EDITOR, fromId('input.modelVersionId', 'ModelVersion'))
  @Mutation(() => RecordFeedbackPayload, {
    description: 'Records one piece of user feedback on a model version\'s output (thumbs, rating, text or event). Needs EDITOR.',
  })
  async recordFeedback(@Arg('input', { description: 'The model version and the feedback.' }) input: RecordFeedbackInput, @Ctx() ctx: Context): Promise<RecordFeedbackPayload> {
    const version = await loadByGlobalId(ctx.loaders, ModelVersion, input.modelVersionId, 'modelVersionId');
    await ctx.db.transaction((m) => recordFeedback(m, ctx.principal!, version, input));
    return { accepted: true };
  }

  @FieldResolver(() => EngagementSummary, { description: `User feedback on this version rolled up, from (inclusive) to (exclusive). ${ENGAGEMENT_WINDOW_RULE}` })
  engagement(
    @Root() version: ModelVersion,
    @Arg('from', () => Date, { nullable: true, description: 'Start of the window (inclusive).' }) from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: 'End of the window (exclusive).' }) to: Date | null,
    @Ctx() ctx: Context,
  ): Promise<EngagementSummary> {
    const window = engagementWindow(from, to, ctx.limits.engagement);
    return ctx.loaders.engagement.load([version.id, window.from, window.to]);
  }
}
