import { badInput } from '../../core/graphql/errors';

/** Names of recorded metric series (and of the metric a monitor watches): lowercase, Prometheus-like. */
export const METRIC_SERIES_NAME = /^[a-z0-9][a-z0-9_.:/-]{0,127}$/;
export const METRIC_SERIES_NAME_RULE = 'must match [a-z0-9][a-z0-9_.:/-]{0,127}';
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$/;
const MAX_LABELS = 16;
const MAX_LABEL_VALUE = 256;

/**
 * Returns the reason `labels` is not a flat object of string values (at most 16, keys like
 * identifiers, values up to 256 characters), or null when it is.
 */
export function labelsProblem(labels: unknown): string | null {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return 'must be an object';
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) return `must have at most ${MAX_LABELS} labels`;
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k)) return `key "${k.slice(0, 70)}" must match [A-Za-z_][A-Za-z0-9_.:/-]{0,63}`;
    if (typeof v !== 'string') return `value of "${k}" must be a string`;
    if (v.length > MAX_LABEL_VALUE) return `value of "${k}" must be at most ${MAX_LABEL_VALUE} characters`;
  }
  return null;
}

/** Checks labels given as a filter or monitor scope; null and undefined mean none. */
export function checkLabels(labels: unknown, field: string): Record<string, string> | null {
  if (labels === null || labels === undefined) return null;
  const problem = labelsProblem(labels);
  if (problem) throw badInput(`${field} ${problem}`, field);
  return labels as Record<string, string>;
}

/** Stable text of a label set: the same labels in any key order give the same string. */
export const canonicalLabels = (labels: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
