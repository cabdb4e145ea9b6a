import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { AppError } from '../../core/graphql/errors';
import { keyOf } from '../../core/graphql/ids';
import { Role } from '../../core/auth/role';
import { EvaluationPayload } from './dto/evaluation.input';
import { ScoreGenerationsInput } from './dto/score-generations.input';
import { loadEvaluationFor } from './evaluation.access';
import { scoreGenerations } from './text-metrics.service';

@Resolver()
export class TextMetricsResolver {
  @Mutation(() => EvaluationPayload, {
    description: 'Computes text metrics over up to 5,000 generations of a generative model and logs them to a RUNNING evaluation '
      + '(names are the lowercase TextMetric values; a (name, slice) logged before gets the new value); each generation is stored '
      + 'as a sample with its own scores. CONFLICT once the evaluation finished. Needs EDITOR.',
  })
  async scoreGenerations(@Arg('input') input: ScoreGenerationsInput, @Ctx() ctx: Context): Promise<EvaluationPayload> {
    const current = await loadEvaluationFor(ctx, input.evaluationId, Role.EDITOR);
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
    const evaluation = await ctx.db.transaction((m) => scoreGenerations(m, ctx.principal!, current.id, {
      generations: input.generations, metrics: input.metrics, corpusDatasetVersionId,
    }));
    return { evaluation };
  }
}
