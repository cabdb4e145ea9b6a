import { AppError, badInput } from '../../core/graphql/errors';
import { DataType } from '../dataset/data-type';
import { FeatureDefinition, FeatureSet, FeatureValue, FeatureValueStatus, FeatureVector } from './feature-set.entity';

/**
 * The rules for feature values that need no database: dtype checks on write, and turning the
 * values found into vectors (NOT_FOUND, EXPIRED) on read.
 */

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Checks one value against its feature's dtype: the value to store, or an error message.
 * null is allowed for every dtype: it records that the value was missing at that time, so it
 * is newer than (and hides) an older value, as a null does in Feast. TIMESTAMP values are
 * stored normalized to UTC with milliseconds.
 */
export function checkValue(dtype: DataType, v: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  if (v === null) return { ok: true, value: null };
  const fail = (what: string) => ({ ok: false as const, message: `must be ${what} (dtype ${dtype}), got ${describe(v)}` });
  switch (dtype) {
    case DataType.INT:
      return Number.isSafeInteger(v) ? { ok: true, value: v } : fail('an integer');
    case DataType.FLOAT:
      return typeof v === 'number' && Number.isFinite(v) ? { ok: true, value: v } : fail('a number');
    case DataType.BOOL:
      return typeof v === 'boolean' ? { ok: true, value: v } : fail('true or false');
    case DataType.STRING:
    case DataType.CATEGORY:
    case DataType.TEXT:
      return typeof v === 'string' ? { ok: true, value: v } : fail('a string');
    case DataType.TIMESTAMP: {
      const t = typeof v === 'string' && ISO_DATE_TIME.test(v) ? new Date(v) : null;
      return t && !Number.isNaN(t.getTime()) ? { ok: true, value: t.toISOString() } : fail('an ISO-8601 date-time with time zone');
    }
    case DataType.EMBEDDING:
      return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x))
        ? { ok: true, value: v }
        : fail('a non-empty array of numbers');
    case DataType.JSON:
      return { ok: true, value: v };
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `a string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number') return `${v}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** The rows of a write, flattened to one entry per value, in the order given. */
export interface FlatValues {
  entityKeys: string[];
  features: string[];
  eventTimestamps: string[];
  /** JSON text of each value; null for a missing value. */
  values: (string | null)[];
  entities: number;
}

const MAX_REPORTED = 20;

/**
 * Checks every row against the feature set and flattens it. Any unknown feature or value of
 * the wrong type rejects the whole write, naming each offender (up to 20) as rows.N.values.f.
 */
export function flattenRows(fs: FeatureSet, rows: { entityKey: string; eventTimestamp: Date; values: Record<string, unknown> }[]): FlatValues {
  const dtypes = new Map(fs.features.map((f) => [f.name, f.dtype]));
  const out: FlatValues = { entityKeys: [], features: [], eventTimestamps: [], values: [], entities: 0 };
  const errors: { field: string; messages: string[] }[] = [];
  const entities = new Set<string>();
  rows.forEach((row, i) => {
    const names = Object.keys(row.values);
    if (names.length === 0) errors.push({ field: `rows.${i}.values`, messages: ['values must name at least one feature'] });
    const ts = row.eventTimestamp.toISOString();
    for (const name of names) {
      const dtype = dtypes.get(name);
      const field = `rows.${i}.values.${name}`;
      if (!dtype) {
        errors.push({ field, messages: [`${name} is not a feature of ${fs.name}`] });
        continue;
      }
      const checked = checkValue(dtype, row.values[name]);
      if (!checked.ok) {
        errors.push({ field, messages: [checked.message] });
        continue;
      }
      out.entityKeys.push(row.entityKey);
      out.features.push(name);
      out.eventTimestamps.push(ts);
      out.values.push(checked.value === null ? null : JSON.stringify(checked.value));
    }
    entities.add(row.entityKey);
  });
  if (errors.length) {
    const shown = errors.slice(0, MAX_REPORTED);
    const more = errors.length > MAX_REPORTED ? ` and ${errors.length - MAX_REPORTED} more` : '';
    throw new AppError('BAD_USER_INPUT', `Invalid feature values: ${shown.map((e) => `${e.field} (${e.messages.join('; ')})`).join(', ')}${more}`, { fields: shown });
  }
  out.entities = entities.size;
  return out;
}

/** The features a read asks for (all, in definition order, when not given); unknown ones are BAD_USER_INPUT. */
export function requestedFeatures(fs: FeatureSet, features: string[] | null | undefined): FeatureDefinition[] {
  if (features === null || features === undefined) return fs.features;
  if (features.length === 0) throw badInput('features must name at least one feature; leave it out to read them all', 'features');
  const byName = new Map(fs.features.map((f) => [f.name, f]));
  const unknown = [...new Set(features.filter((f) => !byName.has(f)))];
  if (unknown.length) throw badInput(`Not features of ${fs.name}: ${unknown.slice(0, 20).join(', ')}`, 'features');
  return features.map((f) => byName.get(f)!);
}

/** A value found in the online table or the offline log. */
export interface StoredValue {
  value: unknown;
  eventTs: Date;
}

/**
 * One vector: for each feature, the value found, NOT_FOUND when none, or EXPIRED when the
 * feature set has a ttl and the value is older than `reference - ttl`.
 */
export function toVector(
  fs: FeatureSet, entityKey: string, asOf: Date | null, features: FeatureDefinition[], reference: Date,
  found: (feature: string) => StoredValue | undefined,
): FeatureVector {
  const oldest = fs.ttlSeconds ? reference.getTime() - fs.ttlSeconds * 1000 : null;
  const values = features.map((f): FeatureValue => {
    const hit = found(f.name);
    if (!hit) return { feature: f.name, value: null, status: FeatureValueStatus.NOT_FOUND, eventTimestamp: null };
    if (oldest !== null && hit.eventTs.getTime() < oldest) {
      return { feature: f.name, value: null, status: FeatureValueStatus.EXPIRED, eventTimestamp: hit.eventTs };
    }
    return { feature: f.name, value: hit.value, status: FeatureValueStatus.PRESENT, eventTimestamp: hit.eventTs };
  });
  return { entityKey, asOf, values };
}
