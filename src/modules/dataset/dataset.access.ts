import type { Context } from '../../core/graphql/context';
import { notFound } from '../../core/graphql/errors';
import { keyOf } from '../../core/graphql/ids';
import { requireProjectRole } from '../../core/auth/access';
import type { Role } from '../../core/auth/role';
import type { Dataset } from './dataset.entity';

/** Loads a dataset by global id and checks the caller's role in its project. */
export async function loadDatasetFor(ctx: Context, id: string, role: Role, field = 'id'): Promise<Dataset> {
  const dataset = await ctx.loaders.datasetById.load(keyOf(id, 'Dataset', field));
  if (!dataset) throw notFound('Dataset', id);
  requireProjectRole(ctx, dataset.projectId, role);
  return dataset;
}
