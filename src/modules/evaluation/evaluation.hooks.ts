import type { Params } from '../../core/db/sql';
import { on } from '../../core/hooks';
import type { ModelVersionFilter } from '../model/dto/model-version.input';
import { versionFilterConditions } from '../model/model.hooks';
import { metricBoundSql } from './evaluation.filters';

/** `ModelVersionFilter.metric`: versions with a completed evaluation whose metric is in bounds. */
const metricFilterSql = (f: ModelVersionFilter, p: Params, field: string) => (f.metric ? metricBoundSql(f.metric, p, `${field}.metric`) : null);

export const evaluationHooks = [on(versionFilterConditions, metricFilterSql)];
