import { badInput } from './errors';

/** The types that have global ids; `node(id:)` dispatches on this name. */
export type NodeType = 'Project' | 'ApiKey' | 'AuditEvent' | 'Model' | 'ModelVersion' | 'AliasEvent' | 'Dataset' | 'DatasetVersion' | 'PromotionRequest' | 'Evaluation' | 'EvalSample' | 'FeatureSet' | 'MetricSeries' | 'Monitor' | 'Alert';
const NODE_TYPES = new Set<string>(['Project', 'ApiKey', 'AuditEvent', 'Model', 'ModelVersion', 'AliasEvent', 'Dataset', 'DatasetVersion', 'PromotionRequest', 'Evaluation', 'EvalSample', 'FeatureSet', 'MetricSeries', 'Monitor', 'Alert']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BIGINT = /^[1-9][0-9]{0,18}$/;
/** 19 digits can exceed a Postgres bigint, which would fail in SQL instead of as bad input. */
const MAX_BIGINT = 9223372036854775807n;
/** Which key shape each type's rows have, so a forged id fails as BAD_USER_INPUT, not in SQL. */
const KEY_SHAPE: Record<NodeType, RegExp> = {
  MetricSeries: UUID, Monitor: UUID, Alert: BIGINT,
  PromotionRequest: UUID,
  Project: UUID, ApiKey: UUID, Model: UUID, ModelVersion: UUID, AuditEvent: BIGINT, AliasEvent: BIGINT,
  Dataset: UUID, DatasetVersion: UUID,
  Evaluation: UUID, EvalSample: BIGINT,
  FeatureSet: UUID,
};

/** Opaque global id: base64url of `Type:key`. Opaque so clients never build ids by hand. */
export function toGlobalId(type: NodeType, key: string): string {
  return Buffer.from(`${type}:${key}`).toString('base64url');
}

export function parseGlobalId(id: string, field = 'id'): { type: NodeType; key: string } {
  const raw = typeof id === 'string' && /^[A-Za-z0-9_-]+$/.test(id) ? Buffer.from(id, 'base64url').toString() : '';
  const sep = raw.indexOf(':');
  const type = raw.slice(0, sep);
  const key = raw.slice(sep + 1);
  if (sep < 0 || !NODE_TYPES.has(type) || !KEY_SHAPE[type as NodeType].test(key) || (KEY_SHAPE[type as NodeType] === BIGINT && BigInt(key) > MAX_BIGINT)) {
    throw badInput(`${field} is not a valid ModelGraph id`, field);
  }
  return { type: type as NodeType, key };
}

/** Decodes an id that must be of one type; an id of another type is a client mistake. */
export function keyOf(id: string, type: NodeType, field = 'id'): string {
  const parsed = parseGlobalId(id, field);
  if (parsed.type !== type) throw badInput(`${field} must be a ${type} id, got a ${parsed.type} id`, field);
  return parsed.key;
}
