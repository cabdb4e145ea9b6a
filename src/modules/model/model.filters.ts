import { Params, likeEscape } from '../../core/db/sql';
import { keyOf } from '../../core/graphql/ids';
import { normalizeTags } from '../../core/graphql/tag';
import { ModelFilter } from './dto/model.input';
import { ModelVersionFilter } from './dto/model-version.input';
import { versionFilterConditions } from './model.hooks';

/** SQL conditions on `t` (a model row) for a ModelFilter. */
export function modelFilterSql(f: ModelFilter | null | undefined, p: Params): string | null {
  const conds: string[] = [];
  // archived defaults to false (active models only); an explicit null asks for both.
  const archived = f === null || f === undefined ? false : f.archived;
  if (archived !== null && archived !== undefined) conds.push(`t.archived = ${p.add(archived)}`);
  if (f?.nameContains) conds.push(`t.name ILIKE ${p.add(`%${likeEscape(f.nameContains)}%`)}`);
  if (f?.kind) conds.push(`t.kind = ${p.add(f.kind)}`);
  if (f?.task) conds.push(`t.task = ${p.add(f.task)}`);
  if (f?.tags?.length) conds.push(`t.tags @> ${p.add(JSON.stringify(normalizeTags(f.tags)))}::jsonb`);
  return conds.length ? conds.join(' AND ') : null;
}

/** SQL conditions on `t` (a model_version row) for a ModelVersionFilter, `or` included. */
export function versionFilterSql(f: ModelVersionFilter | null | undefined, p: Params, field = 'filter'): string | null {
  if (!f) return null;
  const conds: string[] = [];
  if (f.status) conds.push(`t.status = ${p.add(f.status)}`);
  if (f.tags?.length) conds.push(`t.tags @> ${p.add(JSON.stringify(normalizeTags(f.tags)))}::jsonb`);
  if (f.alias) {
    conds.push(`EXISTS (SELECT 1 FROM model_alias a WHERE a.version_id = t.id AND a.name = ${p.add(f.alias)})`);
  }
  if (f.createdAfter) conds.push(`t.created_at >= ${p.add(f.createdAfter)}`);
  if (f.createdBefore) conds.push(`t.created_at < ${p.add(f.createdBefore)}`);
  if (f.baseVersionId) {
    conds.push(`t.base_version_id = ${p.add(keyOf(f.baseVersionId, 'ModelVersion', `${field}.baseVersionId`))}`);
  }
  // Metric bounds and dataset lineage belong to later modules, which answer through the hook.
  for (const c of versionFilterConditions.collect(f, p, field)) if (c) conds.push(c);
  const own = conds.length ? conds.join(' AND ') : null;
  if (!f.or?.length) return own;
  const alternatives = f.or.map((sub, i) => versionFilterSql(sub, p, `${field}.or.${i}`) ?? 'TRUE');
  const anyOf = `(${alternatives.map((a) => `(${a})`).join(' OR ')})`;
  return own ? `${own} AND ${anyOf}` : anyOf;
}
