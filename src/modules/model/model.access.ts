import type { Context } from '../../core/graphql/context';
import { notFound } from '../../core/graphql/errors';
import { keyOf } from '../../core/graphql/ids';
import { requireProjectRole } from '../../core/auth/access';
import type { Role } from '../../core/auth/role';
import type { Model } from './model.entity';

/** Loads a model by global id and checks the caller's role in its project. */
export async function loadModelFor(ctx: Context, id: string, role: Role, field = 'id'): Promise<Model> {
  const model = await ctx.loaders.modelById.load(keyOf(id, 'Model', field));
  if (!model) throw notFound('Model', id);
  requireProjectRole(ctx, model.projectId, role);
  return model;
}
