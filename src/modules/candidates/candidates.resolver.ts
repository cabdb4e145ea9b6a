import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { AppError, badInput } from '../../core/graphql/errors';
import { keyOf } from '../../core/graphql/ids';
import { SizedArgs } from '../../core/graphql/sized-args';
import { Allow } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { EVAL_METRIC_NAME, EVAL_METRIC_NAME_RULE } from '../evaluation/evaluation.rules';
import { EngagementSummary } from '../feedback/feedback.entity';
import { Candidate, CandidateComparison } from './dto/candidates.types';
import {
  CANDIDATE_WINDOW_RULE, MAX_CANDIDATES, MIN_CANDIDATES, buildCandidates, candidateWindow, needsEstimate, qualityFacts, usageFacts,
} from './candidates.service';

@Resolver(() => Candidate)
export class CandidatesResolver {
  @Allow(Role.VIEWER, fromSlug('projectSlug'))
  @SizedArgs({ versionIds: { max: MAX_CANDIDATES, duplicates: 'kept', sizes: ['candidates', 'candidates.dominatedBy'] } })
  @Query(() => CandidateComparison, {
    description: 'The model choice in one query (open weights against an API, one model against another): for each candidate version, quality on '
      + 'a dataset version (the metric from its latest COMPLETED evaluation there), cost per 1,000 requests (from its usage in the window, '
      + 'or estimated from the token counts of its evaluation samples at its price now), p95 latency, engagement, and whether it is on '
      + 'the quality–cost Pareto frontier. Every version and the dataset version must be of the project (else NOT_FOUND). The statements '
      + 'it costs do not grow with the number of candidates. Needs VIEWER.',
  })
  async compareCandidates(
    @Arg('projectSlug', { description: 'The project of the candidates.' }) projectSlug: string,
    @Arg('versionIds', () => [ID], { description: `The candidate model versions, ${MIN_CANDIDATES} to ${MAX_CANDIDATES} distinct ones (repeats ignored), in the order of the answer.` })
    versionIds: string[],
    @Arg('datasetVersionId', () => ID, { description: 'The dataset version quality is measured on.' }) datasetVersionId: string,
    @Arg('qualityMetric', { description: `The evaluation metric that measures quality, e.g. "accuracy"; it ${EVAL_METRIC_NAME_RULE}.` }) qualityMetric: string,
    @Arg('higherIsBetter', () => Boolean, { defaultValue: true, description: 'Whether a larger quality is better (default true); false for a loss or an error rate.' })
    higherIsBetter: boolean,
    @Arg('from', () => Date, { nullable: true, description: 'Start of the usage and engagement window (inclusive).' }) from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: `End of the usage and engagement window (exclusive). ${CANDIDATE_WINDOW_RULE}` }) to: Date | null,
    @Ctx() ctx: Context,
  ): Promise<CandidateComparison> {
    // Every id is parsed before anything is loaded: a malformed one fails without a statement. A
    // repeat is dropped here rather than by SizedArgs, so that errors name the index the caller sent.
    const byKey = new Map<string, number>();
    versionIds.forEach((id, i) => {
      const key = keyOf(id, 'ModelVersion', `versionIds.${i}`);
      if (!byKey.has(key)) byKey.set(key, i);
    });
    if (byKey.size < MIN_CANDIDATES) throw badInput(`versionIds must name ${MIN_CANDIDATES} to ${MAX_CANDIDATES} distinct model versions`, 'versionIds');
    if (!EVAL_METRIC_NAME.test(qualityMetric)) throw badInput(`qualityMetric ${EVAL_METRIC_NAME_RULE}`, 'qualityMetric');
    const window = candidateWindow(from, to);
    const versionKeys = [...byKey.keys()];
    const sentAt = [...byKey.values()];
    const datasetKey = keyOf(datasetVersionId, 'DatasetVersion', 'datasetVersionId');
    const [project, versions, datasetVersion] = await Promise.all([
      loadProjectBySlug(ctx.loaders, projectSlug),
      Promise.all(versionKeys.map((k) => ctx.loaders.modelVersionById.load(k))),
      ctx.loaders.datasetVersionById.load(datasetKey),
    ]);
    // Another project's version or dataset version is as unknown here as a missing one.
    versions.forEach((v, i) => {
      const field = `versionIds.${sentAt[i]}`;
      if (!v || v.projectId !== project.id) throw new AppError('NOT_FOUND', `${field} names no model version of this project`, { field });
    });
    if (!datasetVersion || datasetVersion.projectId !== project.id) {
      throw new AppError('NOT_FOUND', 'datasetVersionId names no dataset version of this project', { field: 'datasetVersionId' });
    }
    const found = versions.map((v) => v!);
    const ids = found.map((v) => v.id);
    const [quality, usage] = await Promise.all([
      qualityFacts(ctx.db.manager, project.id, ids, datasetVersion.id, qualityMetric),
      usageFacts(ctx.db.manager, project.id, ids, window.from, window.to),
    ]);
    for (const q of quality.values()) ctx.loaders.evaluationById.prime(q.evaluation.id, q.evaluation);
    // Prices now, for the versions whose cost is estimated (one batched load, none when no estimate is needed).
    const now = new Date().toISOString();
    const estimated = ids.filter((id) => needsEstimate(quality.get(id), usage.get(id)));
    const prices = await Promise.all(estimated.map((id) => ctx.loaders.priceAt.load([id, now])));
    const pricesNow = new Map(estimated.map((id, i) => [id, prices[i]]));
    return {
      datasetVersion, qualityMetric, higherIsBetter, ...window,
      candidates: buildCandidates({ versions: found, quality, usage, pricesNow, higherIsBetter, ...window }),
    };
  }

  @FieldResolver(() => EngagementSummary, { description: 'User feedback on the version in the comparison\'s window, as ModelVersion.engagement rolls it up.' })
  engagement(@Root() c: Candidate, @Ctx() ctx: Context): Promise<EngagementSummary> {
    return ctx.loaders.engagement.load([c.modelVersion.id, c.from, c.to]);
  }
}
