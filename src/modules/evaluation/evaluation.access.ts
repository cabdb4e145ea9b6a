import type { Context } from '../../core/graphql/context';
import { notFound } from '../../core/graphql/errors';
import { keyOf } from '../../core/graphql/ids';
import { requireProjectRole } from '../../core/auth/access';
import type { Role } from '../../core/auth/role';
import type { Evaluation } from './evaluation.entity';

/** Loads an evaluation by global id and checks the caller's role in its project. */
export async function loadEvaluationFor(ctx: Context, id: string, role: Role, field = 'evaluationId'): Promise<Evaluation> {
  const evaluation = await ctx.loaders.evaluationById.load(keyOf(id, 'Evaluation', field));
  if (!evaluation) throw notFound('Evaluation', id);
  requireProjectRole(ctx, evaluation.projectId, role);
  return evaluation;
}
