import { ValidationOptions, ValidateBy } from 'class-validator';

/**
 * Names of evaluation metrics and of sample score keys: what ML tooling emits ("accuracy",
 * "ndcg@10", "rouge-L", "judge/helpfulness"), no spaces. Not the monitoring series rule.
 */
export const EVAL_METRIC_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:@/+-]{0,127}$/;
export const EVAL_METRIC_NAME_RULE = 'must be 1 to 128 characters of letters, digits and _ . : @ / + -, not starting with a punctuation mark other than _';

/** Slices are free text ("lang=fr", "length > 512"), but never empty or padded: '' is how the key stores "overall". */
export const SLICE = /^[^\p{Cc}\s](?:[^\p{Cc}]{0,254}[^\p{Cc}\s])?$/u;
export const SLICE_RULE = 'must be 1 to 256 characters without control characters or surrounding spaces (omit it for the overall value)';

/** Evaluation names: free text for humans, but one line. */
export const EVALUATION_NAME = /^[^\p{Cc}\s](?:[^\p{Cc}]{0,254}[^\p{Cc}\s])?$/u;

export const MAX_METRICS_PER_CALL = 1000;
export const MAX_SAMPLES_PER_CALL = 10000;
export const MAX_SCORES_PER_SAMPLE = 100;

/** Why `scores` is not an acceptable JSON object of finite numbers, or null when it is. */
export function scoresProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object';
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_SCORES_PER_SAMPLE) return `must have at most ${MAX_SCORES_PER_SAMPLE} scores`;
  for (const [key, v] of entries) {
    if (!EVAL_METRIC_NAME.test(key)) return `key "${key.slice(0, 40)}" ${EVAL_METRIC_NAME_RULE}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) return `"${key}" must be a finite number`;
  }
  return null;
}

/** class-validator rule: a JSON object whose values are finite numbers, keyed by metric names. */
export function IsScores(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isScores',
      validator: {
        validate: (value) => scoresProblem(value) === null,
        defaultMessage: (args) => `${args?.property ?? 'scores'} ${scoresProblem(args?.value) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

/**
 * Collapses repeated (name, slice) pairs of one call to the last one given, as logging them in
 * two calls would; one upsert statement cannot touch a row twice.
 */
export function lastPerKey<T extends { name: string; slice?: string | null }>(metrics: T[]): T[] {
  const byKey = new Map<string, T>();
  for (const m of metrics) {
    const key = `${m.name}\u0000${m.slice ?? ''}`;
    byKey.delete(key);
    byKey.set(key, m);
  }
  return [...byKey.values()];
}
