import { Params, likeEscape } from '../../core/db/sql';
import { AppError } from '../../core/graphql/errors';
import type { WorkLimits } from '../../core/graphql/context';
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

declare module '../../core/graphql/context' {
  interface WorkLimits {
    /** ModelVersionFilter: how deep `or` may nest, and how many conditions the whole tree may hold. */
    versionFilter: { maxDepth: number; maxConditions: number };
  }
}

/** Defaults of the schema's descriptions; the configured values are in the README's table. */
export const VERSION_FILTER_DEFAULTS = { maxDepth: 4, maxConditions: 100 };

export const VERSION_FILTER_RULE =
  `\`or\` nests at most ${VERSION_FILTER_DEFAULTS.maxDepth} deep (MODELGRAPH_MAX_FILTER_DEPTH), and the whole filter holds at most ` +
  `${VERSION_FILTER_DEFAULTS.maxConditions} conditions (MODELGRAPH_MAX_FILTER_CONDITIONS): each field given of each filter counts one, ` +
  'and so does each alternative of an `or`; over either, BAD_USER_INPUT.';

/**
 * Refuses a filter tree too deep or too large before any SQL is built from it: each condition
 * becomes a clause of one statement (a metric bound a subquery), so the tree's size is the
 * statement's size. Walked without recursion, by a stack.
 */
export function checkVersionFilterSize(f: ModelVersionFilter | null | undefined, limits: { maxDepth: number; maxConditions: number }, field = 'filter'): void {
  if (!f) return;
  let conditions = 0;
  const stack: [ModelVersionFilter, string, number][] = [[f, field, 0]];
  while (stack.length) {
    const [node, at, depth] = stack.pop()!;
    for (const [key, value] of Object.entries(node)) {
      if (key !== 'or' && value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0)) conditions++;
    }
    const alternatives = node.or ?? [];
    if (alternatives.length && depth >= limits.maxDepth) {
      throw new AppError('BAD_USER_INPUT', `${at}.or nests deeper than the limit of ${limits.maxDepth}`, {
        field: `${at}.or`, limit: 'maxFilterDepth', max: limits.maxDepth,
      });
    }
    conditions += alternatives.length;
    if (conditions > limits.maxConditions) {
      throw new AppError('BAD_USER_INPUT', `${field} holds more than the limit of ${limits.maxConditions} conditions`, {
        field, limit: 'maxFilterConditions', max: limits.maxConditions,
      });
    }
    alternatives.forEach((sub, i) => stack.push([sub, `${at}.or.${i}`, depth + 1]));
  }
}

/** The same check on a filter argument before the operation runs (see `CheckedArgs`): before its tree is validated node by node. */
export const checkFilterArg = (value: unknown, limits: WorkLimits) => checkVersionFilterSize(value as ModelVersionFilter, limits.versionFilter);

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
