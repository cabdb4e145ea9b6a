import { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../core/db/errors';
import { hydrate, insertReturning } from '../../core/db/sql';
import { AppError, badInput, notFound } from '../../core/graphql/errors';
import { keyOf, toGlobalId } from '../../core/graphql/ids';
import { refuseNull } from '../../core/graphql/patch';
import { normalizeTags } from '../../core/graphql/tag';
import { recordAudit } from '../../core/events/audit';
import { recordEvent } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Principal } from '../../core/auth/principal';
import { CreateModelInput, UpdateModelInput } from './dto/model.input';
import { CreateModelVersionInput, UpdateModelVersionInput } from './dto/model-version.input';
import { AliasEvent, ModelAlias } from './model-alias.entity';
import { ModelVersion, ModelVersionStatus, StoredSource } from './model-version.entity';
import { Model } from './model.entity';
import { type AliasMoved, aliasMoved, aliasMoving, aliasRemoving, versionCreated } from './model.hooks';
import { afterCommit } from '../../core/db/after-commit';
import { type AliasKind, checkRevision, findAlias, writeAliasRemove, writeAliasSet } from '../../core/aliases/alias-writer';

/**
 * Locks the model row: every change to a model, its versions and aliases, and (in later
 * modules) its alias policies and promotion requests is serialized on it. It is the first lock
 * each of those writes takes, and every rule about them (a policy, a revision, a request's
 * status) is read after it, so the checks and the change see one state and no two writers can
 * wait on each other in opposite orders. FOR NO KEY UPDATE, the mode an UPDATE of the row
 * takes anyway: it conflicts with every other writer of the model, but not with the key-share
 * locks that inserts of rows referencing the model (versions, monitors, series) take.
 */
export async function lockModel(m: EntityManager, id: string): Promise<Model> {
  const [model] = hydrate(m, Model, await m.query(`SELECT * FROM model WHERE id = $1 FOR NO KEY UPDATE`, [id]));
  if (!model) throw notFound('Model', toGlobalId('Model', id));
  return model;
}

const touchModel = (m: EntityManager, id: string) => m.query(`UPDATE model SET updated_at = now() WHERE id = $1`, [id]);

export async function createModel(m: EntityManager, actor: Principal, projectId: string, input: CreateModelInput): Promise<Model> {
  let created: Model;
  try {
    created = await insertReturning(m, Model, {
      projectId,
      name: input.name,
      description: input.description ?? null,
      task: input.task ?? null,
      kind: input.kind,
      license: input.license ?? null,
      tags: normalizeTags(input.tags),
    });
  } catch (err) {
    if (isUniqueViolation(err, 'model_project_name_key')) {
      throw new AppError('CONFLICT', `A model named "${input.name}" already exists in this project`, { field: 'name' });
    }
    throw err;
  }
  await recordAudit(m, { projectId, actor: actor.name, action: 'model.create', targetType: 'Model', targetId: created.nodeId, after: created });
  await recordEvent(m, { projectId, type: RegistryEventType.MODEL_CREATED, actor: actor.name, subjectType: 'Model', subjectId: created.id });
  return created;
}

/** Absent fields keep their value; null clears description, task or license (tags: give []). */
export async function updateModel(m: EntityManager, actor: Principal, id: string, input: UpdateModelInput): Promise<Model> {
  refuseNull(input, ['tags']);
  const before = await lockModel(m, id);
  const changes: Partial<Model> = {};
  if (input.description !== undefined) changes.description = input.description;
  if (input.task !== undefined) changes.task = input.task;
  if (input.license !== undefined) changes.license = input.license;
  if (input.tags !== undefined) changes.tags = normalizeTags(input.tags);
  if (Object.keys(changes).length === 0) return before;
  await m.update(Model, { id }, { ...changes, updatedAt: () => 'now()' } as never);
  const after = await m.findOneByOrFail(Model, { id });
  await recordAudit(m, { projectId: before.projectId, actor: actor.name, action: 'model.update', targetType: 'Model', targetId: after.nodeId, before, after });
  return after;
}

export async function archiveModel(m: EntityManager, actor: Principal, id: string, archived: boolean): Promise<Model> {
  const before = await lockModel(m, id);
  if (before.archived === archived) return before;
  await m.query(`UPDATE model SET archived = $2, updated_at = now() WHERE id = $1`, [id, archived]);
  const after = await m.findOneByOrFail(Model, { id });
  await recordAudit(m, {
    projectId: before.projectId, actor: actor.name, action: archived ? 'model.archive' : 'model.restore',
    targetType: 'Model', targetId: after.nodeId, before: { archived: before.archived }, after: { archived },
  });
  return after;
}

function sourceOf(input: CreateModelVersionInput): StoredSource {
  if (!!input.artifact === !!input.externalApi) {
    throw badInput('Give exactly one of artifact or externalApi', input.artifact ? 'externalApi' : 'artifact');
  }
  if (input.artifact) {
    const a = input.artifact;
    return { kind: 'ARTIFACT', uri: a.uri, digest: a.digest ?? null, format: a.format ?? null, sizeBytes: a.sizeBytes ?? null };
  }
  const e = input.externalApi!;
  return {
    kind: 'EXTERNAL_API', provider: e.provider, modelId: e.modelId, endpoint: e.endpoint ?? null,
    inputCostPerMillionTokens: e.inputCostPerMillionTokens ?? null, outputCostPerMillionTokens: e.outputCostPerMillionTokens ?? null,
  };
}

/**
 * Registers a version. The number is the model's counter plus one, taken under the model's row
 * lock, so concurrent registrations get 1..n with no gap or duplicate, and a failed one rolls
 * the counter back with everything else.
 */
export async function createModelVersion(
  m: EntityManager, actor: Principal, modelId: string, input: CreateModelVersionInput,
): Promise<{ version: ModelVersion; created: boolean }> {
  const source = sourceOf(input);
  if (input.status === ModelVersionStatus.ARCHIVED) badInputThrow('A version cannot be created ARCHIVED', 'status');
  const baseKey = input.baseVersionId ? keyOf(input.baseVersionId, 'ModelVersion', 'baseVersionId') : null;

  const model = await lockModel(m, modelId);
  if (input.idempotencyKey) {
    const first = await m.findOneBy(ModelVersion, { modelId, idempotencyKey: input.idempotencyKey });
    if (first) return { version: first, created: false };
  }
  if (model.archived) throw new AppError('CONFLICT', 'The model is archived; restore it before adding versions');
  if (baseKey) {
    const [base] = await m.query(
      `SELECT v.id FROM model_version v JOIN model b ON b.id = v.model_id WHERE v.id = $1 AND b.project_id = $2`,
      [baseKey, model.projectId],
    );
    if (!base) throw new AppError('NOT_FOUND', 'baseVersionId names no version of this project', { field: 'baseVersionId' });
  }
  const number = model.versionCount + 1;
  await m.query(`UPDATE model SET version_count = $2, updated_at = now() WHERE id = $1`, [modelId, number]);
  const created = await insertReturning(m, ModelVersion, {
    modelId,
    projectId: model.projectId,
    number,
    status: input.status ?? ModelVersionStatus.READY,
    description: input.description ?? null,
    source,
    framework: input.framework ?? null,
    parameterCount: input.parameterCount ?? null,
    signature: input.signature ?? null,
    config: input.config ?? null,
    tags: normalizeTags(input.tags),
    createdBy: actor.name,
    baseVersionId: baseKey,
    fineTuningMethod: input.fineTuningMethod ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
  });
  // Later modules link what the input names (datasets, feature sets) and say what to audit of it.
  const links = await versionCreated.run(m, { projectId: model.projectId, versionId: created.id, input });
  await recordAudit(m, {
    projectId: model.projectId, actor: actor.name, action: 'modelVersion.create', targetType: 'ModelVersion',
    targetId: created.nodeId,
    after: Object.assign({ ...created }, ...links),
  });
  await recordEvent(m, {
    projectId: model.projectId, type: RegistryEventType.MODEL_VERSION_CREATED, actor: actor.name, subjectType: 'ModelVersion', subjectId: created.id,
  });
  return { version: created, created: true };
}

function badInputThrow(message: string, field: string): never {
  throw badInput(message, field);
}

/** Allowed status moves. ARCHIVED is final: a retired version is revived by registering anew. */
const NEXT_STATUS: Record<ModelVersionStatus, ModelVersionStatus[]> = {
  PENDING: [ModelVersionStatus.READY, ModelVersionStatus.FAILED, ModelVersionStatus.ARCHIVED],
  READY: [ModelVersionStatus.FAILED, ModelVersionStatus.ARCHIVED],
  FAILED: [ModelVersionStatus.ARCHIVED],
  ARCHIVED: [],
};

export async function updateModelVersion(
  m: EntityManager, actor: Principal, versionId: string, input: UpdateModelVersionInput,
): Promise<{ version: ModelVersion; projectId: string; statusChanged: boolean }> {
  const current = await m.findOneBy(ModelVersion, { id: versionId });
  if (!current) throw notFound('ModelVersion', input.id);
  const model = await lockModel(m, current.modelId);
  const before = await m.findOneByOrFail(ModelVersion, { id: versionId });
  const changes: Record<string, unknown> = {};
  const statusChanged = input.status != null && input.status !== before.status;
  if (statusChanged) {
    if (!NEXT_STATUS[before.status].includes(input.status!)) {
      throw badInput(`A version cannot move from ${before.status} to ${input.status}`, 'status');
    }
    if (input.status !== ModelVersionStatus.READY) {
      const aliases: { name: string }[] = await m.query(`SELECT name FROM model_alias WHERE version_id = $1`, [versionId]);
      if (aliases.length) {
        throw new AppError('CONFLICT', `Aliases ${aliases.map((a) => a.name).join(', ')} point to this version; move them first`, {
          aliases: aliases.map((a) => a.name),
        });
      }
    }
    changes.status = input.status;
  }
  if (input.statusMessage != null) changes.statusMessage = input.statusMessage;
  if (input.description != null) changes.description = input.description;
  if (input.tags != null) changes.tags = normalizeTags(input.tags);
  if (Object.keys(changes).length === 0) return { version: before, projectId: model.projectId, statusChanged: false };
  await m.update(ModelVersion, { id: versionId }, changes);
  await touchModel(m, model.id);
  const after = await m.findOneByOrFail(ModelVersion, { id: versionId });
  await recordAudit(m, {
    projectId: model.projectId, actor: actor.name, action: 'modelVersion.update', targetType: 'ModelVersion',
    targetId: after.nodeId, before, after,
  });
  if (statusChanged) {
    await recordEvent(m, {
      projectId: model.projectId, type: RegistryEventType.MODEL_VERSION_STATUS_CHANGED, actor: actor.name, subjectType: 'ModelVersion', subjectId: after.id,
    });
  }
  return { version: after, projectId: model.projectId, statusChanged };
}

interface AliasMoveInput {
  alias: string;
  versionNumber: number;
  expectedRevision?: number | null;
  reason?: string | null;
}

/** Model aliases, for the writes all aliases share (core/aliases/alias-writer.ts). */
const MODEL_ALIASES: AliasKind<ModelAlias, AliasEvent> = {
  alias: ModelAlias, event: AliasEvent, table: 'model_alias', parentColumn: 'model_id', parentKey: 'modelId',
  parentType: 'Model', versionType: 'ModelVersion', auditPrefix: 'alias',
  setEvent: RegistryEventType.ALIAS_SET, removeEvent: RegistryEventType.ALIAS_REMOVED, eventType: 'AliasEvent',
};

/**
 * A move asked for directly (setModelAlias), not through a promotion: later modules may refuse
 * it (a protected alias needs approvals or passing gates). They are asked under the model's
 * lock, so a policy committed while this move waited for the lock is the one it is checked
 * against, and none can be committed between the check and the move.
 */
export async function moveAliasDirectly(
  m: EntityManager, actor: Principal, modelId: string, input: AliasMoveInput,
): Promise<{ alias: ModelAlias; moved: boolean; projectId: string }> {
  const model = await lockModel(m, modelId);
  await aliasMoving.run(m, { modelId, alias: input.alias, versionNumber: input.versionNumber });
  return moveAlias(m, actor, model, input);
}

/**
 * Points an alias at a version. Pointing it where it already points changes nothing, so a
 * retried call is harmless; every real move is recorded as an AliasEvent.
 */
export async function setModelAlias(
  m: EntityManager, actor: Principal, modelId: string, input: AliasMoveInput,
): Promise<{ alias: ModelAlias; moved: boolean; projectId: string }> {
  return moveAlias(m, actor, await lockModel(m, modelId), input);
}

/** Tells the aliasMoved handlers once the transaction `m` belongs to commits. */
function announceAliasMoved(m: EntityManager, moved: AliasMoved): void {
  const db = m.connection;
  afterCommit(m, () => aliasMoved.run(db, moved));
}

/** The move itself; the caller holds the model's lock. */
async function moveAlias(
  m: EntityManager, actor: Principal, model: Model, input: AliasMoveInput,
): Promise<{ alias: ModelAlias; moved: boolean; projectId: string }> {
  const modelId = model.id;
  const current = await findAlias(m, MODEL_ALIASES, modelId, input.alias);
  checkRevision(current, input.expectedRevision);
  const version = await m.findOneBy(ModelVersion, { modelId, number: input.versionNumber });
  if (!version) throw new AppError('NOT_FOUND', `Version ${input.versionNumber} of this model does not exist`, { field: 'versionNumber' });
  if (version.status !== ModelVersionStatus.READY) {
    throw badInput(`Version ${version.number} is ${version.status}; only READY versions can be aliased`, 'versionNumber');
  }
  if (current?.versionId === version.id) return { alias: current, moved: false, projectId: model.projectId };
  const after = await writeAliasSet(m, MODEL_ALIASES, actor, model, current, version, input);
  await touchModel(m, modelId);
  announceAliasMoved(m, { projectId: model.projectId, modelId, alias: input.alias, versionId: version.id, actor: actor.name });
  return { alias: after, moved: true, projectId: model.projectId };
}

export async function removeModelAlias(
  m: EntityManager, actor: Principal, modelId: string,
  input: { alias: string; expectedRevision?: number | null; reason?: string | null },
): Promise<{ model: Model; removed: ModelAlias }> {
  const model = await lockModel(m, modelId);
  const current = await findAlias(m, MODEL_ALIASES, modelId, input.alias);
  if (!current?.versionId) throw new AppError('NOT_FOUND', `The model has no alias "${input.alias}"`, { field: 'alias' });
  // Later modules may refuse, under the lock (a promotion policy protects the alias).
  await aliasRemoving.run(m, { modelId, alias: input.alias, actor });
  checkRevision(current, input.expectedRevision);
  await writeAliasRemove(m, MODEL_ALIASES, actor, model, { ...current, versionId: current.versionId }, input);
  await touchModel(m, modelId);
  announceAliasMoved(m, { projectId: model.projectId, modelId, alias: input.alias, versionId: null, actor: actor.name });
  return { model: await m.findOneByOrFail(Model, { id: modelId }), removed: current };
}
