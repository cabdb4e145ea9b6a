import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { AppError } from '../../core/graphql/errors';
import { keyOf, loadByGlobalId } from '../../core/graphql/ids';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { EvaluationPayload } from './dto/evaluation.input';
import { MAX_GENERATIONS_PER_CALL, MAX_GENERATION_CHARS_PER_CALL, ScoreGenerationsInput } from './dto/score-generations.input';
import { Evaluation } from './evaluation.entity';
import { scoreGenerations } from './text-metrics.service';

@Resolver()
export class TextMetricsResolver {
  @Allow(Role.EDITOR, fromId('input.evaluationId', 'Evaluation'))
  @Mutation(() => EvaluationPayload, {
    description: `Computes text metrics over up to ${MAX_GENERATIONS_PER_CALL.toLocaleString('en-US')} generations (`
      + `${MAX_GENERATION_CHARS_PER_CALL.toLocaleString('en-US')} characters of outputs and references) of a generative `
      + 'model and logs them to a RUNNING evaluation (names are the lowercase TextMetric values; a (name, slice) logged before gets the '
      + 'new value); each generation is stored as a sample with its own scores. CONFLICT once the evaluation finished. Needs EDITOR.',
  })
  async scoreGenerations(@Arg('input', { description: 'The evaluation, the generations and the metrics to compute.' }) input: ScoreGenerationsInput, @Ctx() ctx: Context): Promise<EvaluationPayload> {
    const current = await loadByGlobalId(ctx.loaders, Evaluation, input.evaluationId, 'evaluationId');
    let corpusDatasetVersionId: string | null = null;
    if (input.noveltyReferenceDatasetVersionId) {
      const field = 'noveltyReferenceDatasetVersionId';
      const dv = await ctx.loaders.datasetVersionById.load(keyOf(input.noveltyReferenceDatasetVersionId, 'DatasetVersion', field));
      // Another project's dataset version is as unknown here as a missing one.
      if (!dv || dv.projectId !== current.projectId) {
        throw new AppError('NOT_FOUND', `${field} names no dataset version of this project`, { field });
      }
      corpusDatasetVersionId = dv.id;
    }
    // Not in a transaction: the scoring runs first, and the writes take their own.
    return scoreGenerations(ctx.db.manager, ctx.principal!, current, {
      generations: input.generations, metrics: input.metrics, corpusDatasetVersionId,
    });
  }
}
