import type { DataSource, EntityManager } from 'typeorm';
import { Hook } from '../../core/hooks';
import type { Params } from '../../core/db/sql';
import type { Principal } from '../../core/auth/principal';
import type { CreateModelVersionInput, ModelVersionFilter } from './dto/model-version.input';

/** What a version-created handler is told: the new row, and the input it was created from. */
export interface VersionCreated {
  projectId: string;
  versionId: string;
  input: CreateModelVersionInput;
}

/**
 * Runs in the transaction that registers a version, right after its row is written. Later
 * modules link what the input names (datasets, feature sets) and answer what the audit record
 * should add about it; a handler that throws rolls the version back.
 */
export const versionCreated = new Hook<[EntityManager, VersionCreated], Promise<Record<string, unknown> | void>>('model.versionCreated');

/** What an alias move is about to do. */
export interface AliasMove {
  modelId: string;
  alias: string;
  versionNumber: number;
}

/**
 * Runs before an alias is moved directly (setModelAlias), in the move's transaction and under
 * the model's row lock: a handler throws to refuse the move (a promotion policy asks for
 * approvals, or a gate fails).
 */
export const aliasMoving = new Hook<[EntityManager, AliasMove], Promise<void>>('model.aliasMoving');

/** An alias that moved, or was removed (it then points nowhere), and who did it. */
export interface AliasMoved {
  projectId: string;
  modelId: string;
  alias: string;
  /** The version it points to now; null once removed. */
  versionId: string | null;
  actor: string;
}

/**
 * Runs after a transaction that moved or removed an alias has committed (never if it rolled
 * back), on its own, with the data source to open transactions of its own: later modules react
 * to where the alias points now (monitors that follow it are evaluated again). The mutation's
 * answer does not wait for it, and a failure is logged, not reported: the move stands.
 */
export const aliasMoved = new Hook<[DataSource, AliasMoved], Promise<void>>('model.aliasMoved');

/** What an alias removal is about to do, and who asks for it. */
export interface AliasRemoval {
  modelId: string;
  alias: string;
  actor: Principal;
}

/**
 * Runs before an alias is removed (removeModelAlias), in the removal's transaction and under
 * the model's row lock: a handler throws to refuse it (a promotion policy protects the alias).
 */
export const aliasRemoving = new Hook<[EntityManager, AliasRemoval], Promise<void>>('model.aliasRemoving');

/**
 * SQL conditions on `t` (a model_version row) for the parts of a ModelVersionFilter that
 * later modules own (metric bounds, dataset lineage). A handler answers null for a filter that
 * asks nothing of it; `field` is the filter's path, for error messages.
 */
export const versionFilterConditions = new Hook<[ModelVersionFilter, Params, string], string | null>('model.versionFilterConditions');
