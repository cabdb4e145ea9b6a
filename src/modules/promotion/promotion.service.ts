import { EntityManager } from 'typeorm';
import { hydrate, insertReturning } from '../../core/db/sql';
import { AppError, badInput, notFound } from '../../core/graphql/errors';
import { keyOf, toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { recordEvent } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Principal } from '../../core/auth/principal';
import { Role, roleAtLeast } from '../../core/auth/role';
import { ModelVersion, ModelVersionStatus } from '../model/model-version.entity';
import type { AliasRemoval } from '../model/model.hooks';
import { lockModel, setModelAlias } from '../model/model.service';
import { SetAliasPolicyInput } from './dto/promotion.input';
import { AliasPolicy, PromotionRequest, PromotionStatus, StoredGate, StoredGateResult } from './promotion.entity';

/**
 * Lock order. Every write here takes the model's row lock first (`lockModel`), then the rows
 * it changes (policies, requests, approvals), and reads the policy only after the model lock:
 * the same order as the model module's alias moves, so no two of these writes can wait on each
 * other in a cycle, and no move is checked against a policy that changes before it commits.
 */

/** The policy of one alias. Read it under the model's lock when a write depends on it. */
export async function policyFor(m: EntityManager, modelId: string, alias: string): Promise<AliasPolicy | null> {
  return m.findOneBy(AliasPolicy, { modelId, alias });
}

/**
 * Checks a version against gates in one statement: per gate, the metric of the version's most
 * recently finished COMPLETED evaluation (on the gate's dataset version, when it names one).
 * Running or failed evaluations never count.
 */
export async function evaluateGates(m: EntityManager, versionId: string, gates: StoredGate[]): Promise<StoredGateResult[]> {
  if (gates.length === 0) return [];
  const rows: { i: string; value: number | null }[] = await m.query(
    `SELECT g.i, v.value
       FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS g(gate, i)
       LEFT JOIN LATERAL (
         SELECT em.value FROM evaluation e JOIN evaluation_metric em ON em.evaluation_id = e.id
          WHERE e.model_version_id = $1 AND e.status = 'COMPLETED'
            AND em.name = g.gate->>'metric'
            AND coalesce(em.slice, '') = coalesce(g.gate->>'slice', '')
            AND (g.gate->>'datasetVersionId' IS NULL OR e.dataset_version_id = (g.gate->>'datasetVersionId')::uuid)
          ORDER BY e.finished_at DESC, e.id DESC LIMIT 1) v ON true
      ORDER BY g.i`,
    [versionId, JSON.stringify(gates)],
  );
  return gates.map((gate, i) => {
    const value = rows[i]?.value ?? null;
    const passed = value !== null && (gate.gte === null || value >= gate.gte) && (gate.lte === null || value <= gate.lte);
    return { gate, value, passed };
  });
}

/** Validates gates and turns dataset version ids into row keys of this project. */
async function storedGates(m: EntityManager, projectId: string, input: SetAliasPolicyInput): Promise<StoredGate[]> {
  const gates: StoredGate[] = [];
  for (const [i, g] of input.gates.entries()) {
    const field = `gates.${i}`;
    if (g.gte == null && g.lte == null) throw badInput('A gate needs gte, lte or both', field);
    if (g.gte != null && g.lte != null && g.gte > g.lte) throw badInput('gte must not be above lte', `${field}.gte`);
    let datasetVersionId: string | null = null;
    if (g.datasetVersionId) {
      datasetVersionId = keyOf(g.datasetVersionId, 'DatasetVersion', `${field}.datasetVersionId`);
      const [found] = await m.query(
        `SELECT 1 FROM dataset_version dv JOIN dataset d ON d.id = dv.dataset_id WHERE dv.id = $1 AND d.project_id = $2`,
        [datasetVersionId, projectId],
      );
      if (!found) throw new AppError('NOT_FOUND', 'datasetVersionId names no dataset version of this project', { field: `${field}.datasetVersionId` });
    }
    gates.push({ metric: g.metric, datasetVersionId, slice: g.slice ?? null, gte: g.gte ?? null, lte: g.lte ?? null });
  }
  return gates;
}

/**
 * Sets (or, with no approvals and no gates, removes) the policy of one alias, under the
 * model's lock: a move or promotion of the alias that waits for that lock sees the new policy,
 * one that holds it commits first.
 */
export async function setAliasPolicy(m: EntityManager, actor: Principal, model: { id: string; projectId: string; nodeId: string }, input: SetAliasPolicyInput): Promise<void> {
  await lockModel(m, model.id);
  const gates = await storedGates(m, model.projectId, input);
  const before = await policyFor(m, model.id, input.alias);
  if (input.requiredApprovals === 0 && gates.length === 0) {
    if (!before) return;
    await m.delete(AliasPolicy, { modelId: model.id, alias: input.alias });
  } else {
    await m.query(
      `INSERT INTO alias_policy (project_id, model_id, alias, required_approvals, gates, updated_at, updated_by) VALUES ($6, $1, $2, $3, $4, now(), $5)
       ON CONFLICT (model_id, alias) DO UPDATE SET required_approvals = $3, gates = $4, updated_at = now(), updated_by = $5`,
      [model.id, input.alias, input.requiredApprovals, JSON.stringify(gates), actor.name, model.projectId],
    );
  }
  await recordAudit(m, {
    projectId: model.projectId, actor: actor.name, action: 'aliasPolicy.set', targetType: 'Model', targetId: model.nodeId,
    before: before ? { alias: before.alias, requiredApprovals: before.requiredApprovals, gates: before.gates } : null,
    after: gates.length || input.requiredApprovals ? { alias: input.alias, requiredApprovals: input.requiredApprovals, gates } : null,
  });
}

/**
 * A direct setModelAlias on a protected alias is allowed only where the policy needs no
 * approvals and the version passes every gate; anything else goes through requestPromotion.
 * The model module calls it (its `aliasMoving` hook) under the model's lock.
 */
export async function assertDirectMove(m: EntityManager, modelId: string, alias: string, versionNumber: number): Promise<void> {
  const policy = await policyFor(m, modelId, alias);
  if (!policy) return;
  // Approvals are refused whatever the version; a missing version is setModelAlias's to report.
  const version = policy.requiredApprovals > 0 ? null : await m.findOneBy(ModelVersion, { modelId, number: versionNumber });
  await assertPolicyAdmits(m, policy, version);
}

/**
 * Whether an alias's policy lets it move to `version` directly: FORBIDDEN where it asks for
 * approvals (the move must go through requestPromotion), CONFLICT with the failed gates where
 * the version does not pass them. Later modules that send traffic around an alias (a deployment
 * route that stops following it) hold a version to the alias's rules through this. The caller
 * holds the alias's model locked (at least FOR SHARE) since it read the policy.
 */
export async function assertPolicyAdmits(m: EntityManager, policy: AliasPolicy, version: { id: string; number: number } | null): Promise<void> {
  const alias = policy.alias;
  if (policy.requiredApprovals > 0) {
    throw new AppError('FORBIDDEN', `Alias "${alias}" needs ${policy.requiredApprovals} approval(s): use requestPromotion`, { alias });
  }
  if (!version) return;
  const results = await evaluateGates(m, version.id, policy.gates);
  const failed = results.filter((r) => !r.passed);
  if (failed.length) {
    throw new AppError('CONFLICT', `Version ${version.number} fails ${failed.length} gate(s) of alias "${alias}"`, {
      gateResults: failed.map((r) => ({ metric: r.gate.metric, slice: r.gate.slice, value: r.value, gte: r.gate.gte, lte: r.gate.lte })),
    });
  }
}

/**
 * Removing a protected alias takes the authority that moving it takes. Where the policy asks
 * for approvals, no EDITOR can move the alias alone, so none may remove it alone either: only
 * an ADMIN, who could as well lift the policy first (both leave an audit record). Gates alone
 * do not restrict removal: they judge the version an alias points to, and a removed alias
 * points to none. The model module calls it (its `aliasRemoving` hook) under the model's lock.
 */
export async function assertRemovable(m: EntityManager, removal: AliasRemoval): Promise<void> {
  const policy = await policyFor(m, removal.modelId, removal.alias);
  if (!policy || policy.requiredApprovals === 0 || roleAtLeast(removal.actor.role, Role.ADMIN)) return;
  throw new AppError(
    'FORBIDDEN',
    `Alias "${removal.alias}" is protected: moving it needs ${policy.requiredApprovals} approval(s), so only an ADMIN can remove it`,
    { alias: removal.alias, requiredApprovals: policy.requiredApprovals },
  );
}

/** Moves the alias for an approved request and marks it APPLIED. The caller holds the model's lock. */
async function apply(m: EntityManager, actor: Principal, projectId: string, request: PromotionRequest, versionNumber: number): Promise<void> {
  await setModelAlias(m, actor, request.modelId, { alias: request.alias, versionNumber, reason: request.reason ?? `promotion ${request.nodeId}` });
  await m.query(`UPDATE promotion_request SET status = 'APPLIED', decided_at = now() WHERE id = $1`, [request.id]);
  await decided(m, actor, projectId, request.id);
}

const decided = (m: EntityManager, actor: Principal, projectId: string, requestId: string) =>
  recordEvent(m, { projectId, type: RegistryEventType.PROMOTION_DECIDED, actor: actor.name, subjectType: 'PromotionRequest', subjectId: requestId });

export async function requestPromotion(
  m: EntityManager, actor: Principal, model: { id: string; projectId: string },
  input: { alias: string; versionNumber: number; reason?: string | null },
): Promise<PromotionRequest> {
  await lockModel(m, model.id);
  const version = await m.findOneBy(ModelVersion, { modelId: model.id, number: input.versionNumber });
  if (!version) throw new AppError('NOT_FOUND', `Version ${input.versionNumber} of this model does not exist`, { field: 'versionNumber' });
  if (version.status !== ModelVersionStatus.READY) {
    throw badInput(`Version ${version.number} is ${version.status}; only READY versions can be promoted`, 'versionNumber');
  }
  const policy = await policyFor(m, model.id, input.alias);
  // A newer request for the same alias replaces the pending one.
  // TypeORM answers an UPDATE with [rows, affected].
  const [replaced]: [{ id: string }[], number] = await m.query(
    `UPDATE promotion_request SET status = 'CANCELLED', decided_at = now() WHERE model_id = $1 AND alias = $2 AND status = 'PENDING' RETURNING id`,
    [model.id, input.alias],
  );
  const gateResults = await evaluateGates(m, version.id, policy?.gates ?? []);
  const gatesPass = gateResults.every((r) => r.passed);
  const request = await insertReturning(m, PromotionRequest, {
    projectId: model.projectId, modelId: model.id, alias: input.alias, versionId: version.id,
    status: gatesPass ? PromotionStatus.PENDING : PromotionStatus.REJECTED,
    requestedBy: actor.name, requestedByKey: actor.keyId, reason: input.reason ?? null, gateResults,
    decidedAt: gatesPass ? null : (() => 'now()') as never,
  });
  await recordAudit(m, {
    projectId: model.projectId, actor: actor.name, action: 'promotion.request', targetType: 'PromotionRequest', targetId: request.nodeId,
    after: { alias: input.alias, versionNumber: version.number, status: request.status, gateResults },
  });
  for (const r of replaced) await decided(m, actor, model.projectId, r.id);
  await recordEvent(m, {
    projectId: model.projectId, type: RegistryEventType.PROMOTION_REQUESTED, actor: actor.name, subjectType: 'PromotionRequest', subjectId: request.id,
  });
  if (!gatesPass) await decided(m, actor, model.projectId, request.id);
  if (gatesPass && (policy?.requiredApprovals ?? 0) === 0) await apply(m, actor, model.projectId, request, version.number);
  return m.findOneByOrFail(PromotionRequest, { id: request.id });
}

/**
 * Locks a request for a decision: its model first (a request never changes model, so reading
 * that without a lock is safe), then the request, and checks it is still PENDING under both.
 */
async function lockPending(m: EntityManager, id: string): Promise<PromotionRequest> {
  const notThere = () => notFound('PromotionRequest', toGlobalId('PromotionRequest', id));
  const [owner]: { model_id: string }[] = await m.query(`SELECT model_id FROM promotion_request WHERE id = $1`, [id]);
  if (!owner) throw notThere();
  await lockModel(m, owner.model_id);
  const [request] = hydrate(m, PromotionRequest, await m.query(`SELECT * FROM promotion_request WHERE id = $1 FOR UPDATE`, [id]));
  if (!request) throw notThere();
  if (request.status !== PromotionStatus.PENDING) throw new AppError('CONFLICT', `The request is ${request.status}, not PENDING`, { status: request.status });
  return request;
}

/**
 * Records an approval by someone other than the requester. The approval that completes the
 * count re-checks the gates (evaluations may have changed since the request) and applies.
 */
export async function approvePromotion(m: EntityManager, actor: Principal, projectId: string, id: string, comment: string | null): Promise<PromotionRequest> {
  const request = await lockPending(m, id);
  if (request.requestedByKey === actor.keyId) throw new AppError('FORBIDDEN', 'The requester cannot approve their own request');
  const inserted = await m.query(
    `INSERT INTO promotion_approval (project_id, request_id, key_id, key_name, comment) VALUES ($5, $1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING key_id`,
    [id, actor.keyId, actor.name, comment, projectId],
  );
  if (inserted.length === 0) throw new AppError('CONFLICT', 'This API key has already approved the request');
  await recordAudit(m, {
    projectId, actor: actor.name, action: 'promotion.approve', targetType: 'PromotionRequest', targetId: request.nodeId, after: { comment },
  });
  const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM promotion_approval WHERE request_id = $1`, [id]);
  const policy = await policyFor(m, request.modelId, request.alias);
  if (n >= (policy?.requiredApprovals ?? 0)) {
    const version = await m.findOneByOrFail(ModelVersion, { id: request.versionId });
    const gateResults = await evaluateGates(m, version.id, policy?.gates ?? []);
    await m.query(`UPDATE promotion_request SET gate_results = $2 WHERE id = $1`, [id, JSON.stringify(gateResults)]);
    if (gateResults.every((r) => r.passed) && version.status === ModelVersionStatus.READY) {
      await apply(m, actor, projectId, request, version.number);
    } else {
      await m.query(`UPDATE promotion_request SET status = 'REJECTED', decided_at = now() WHERE id = $1`, [id]);
      await decided(m, actor, projectId, id);
    }
  }
  return m.findOneByOrFail(PromotionRequest, { id });
}

/** Rejects a pending request; its own requester withdrawing it makes it CANCELLED. */
export async function rejectPromotion(m: EntityManager, actor: Principal, projectId: string, id: string, comment: string | null): Promise<PromotionRequest> {
  const request = await lockPending(m, id);
  const status = request.requestedByKey === actor.keyId ? PromotionStatus.CANCELLED : PromotionStatus.REJECTED;
  await m.query(`UPDATE promotion_request SET status = $2, decided_at = now() WHERE id = $1`, [id, status]);
  await recordAudit(m, {
    projectId, actor: actor.name, action: status === PromotionStatus.CANCELLED ? 'promotion.cancel' : 'promotion.reject',
    targetType: 'PromotionRequest', targetId: request.nodeId, after: { status, comment },
  });
  await decided(m, actor, projectId, request.id);
  return m.findOneByOrFail(PromotionRequest, { id });
}
