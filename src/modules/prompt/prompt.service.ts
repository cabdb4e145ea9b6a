import { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../core/db/errors';
import { hydrate, insertReturning } from '../../core/db/sql';
import { AppError, notFound } from '../../core/graphql/errors';
import { toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { recordEvent } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Principal } from '../../core/auth/principal';
import { CreatePromptInput } from './dto/prompt.input';
import { CreatePromptVersionInput } from './dto/prompt-version.input';
import { PromptAlias, PromptAliasEvent } from './prompt-alias.entity';
import { PromptVersion } from './prompt-version.entity';
import { Prompt } from './prompt.entity';
import { checkDeclaredVariables } from './template';
import { checkRevision } from '../model/model.service';

/**
 * Locks the prompt row: every change to a prompt, its versions and its aliases is serialized on
 * it, so version numbers and alias revisions are read and advanced by one writer at a time.
 * FOR NO KEY UPDATE, as for models: it does not block inserts of rows that reference the prompt.
 */
export async function lockPrompt(m: EntityManager, id: string): Promise<Prompt> {
  const [prompt] = hydrate(m, Prompt, await m.query(`SELECT * FROM prompt WHERE id = $1 FOR NO KEY UPDATE`, [id]));
  if (!prompt) throw notFound('Prompt', toGlobalId('Prompt', id));
  return prompt;
}

const touchPrompt = (m: EntityManager, id: string) => m.query(`UPDATE prompt SET updated_at = now() WHERE id = $1`, [id]);

export async function createPrompt(m: EntityManager, actor: Principal, projectId: string, input: CreatePromptInput): Promise<Prompt> {
  let created: Prompt;
  try {
    created = await insertReturning(m, Prompt, { projectId, name: input.name, description: input.description ?? null });
  } catch (err) {
    if (isUniqueViolation(err, 'prompt_project_name_key')) {
      throw new AppError('CONFLICT', `A prompt named "${input.name}" already exists in this project`, { field: 'name' });
    }
    throw err;
  }
  await recordAudit(m, { projectId, actor: actor.name, action: 'prompt.create', targetType: 'Prompt', targetId: created.nodeId, after: created });
  await recordEvent(m, { projectId, type: RegistryEventType.PROMPT_CREATED, actor: actor.name, subjectType: 'Prompt', subjectId: created.id });
  return created;
}

/**
 * Creates a version. The template is checked against the declared variables before anything
 * is written. The number is the prompt's counter plus one, taken under the prompt's row lock,
 * so concurrent creations get 1..n with no gap or duplicate and a failed one rolls the counter
 * back with everything else. The caller has checked that `modelVersionId` (a row key) is of
 * the prompt's project.
 */
export async function createPromptVersion(
  m: EntityManager, actor: Principal, promptId: string, modelVersionId: string | null, input: CreatePromptVersionInput,
): Promise<{ version: PromptVersion; created: boolean }> {
  const variables = checkDeclaredVariables(input.template, input.variables);
  const prompt = await lockPrompt(m, promptId);
  if (input.idempotencyKey) {
    const first = await m.findOneBy(PromptVersion, { promptId, idempotencyKey: input.idempotencyKey });
    if (first) return { version: first, created: false };
  }
  const number = prompt.versionCount + 1;
  await m.query(`UPDATE prompt SET version_count = $2, updated_at = now() WHERE id = $1`, [promptId, number]);
  const created = await insertReturning(m, PromptVersion, {
    promptId,
    projectId: prompt.projectId,
    number,
    template: input.template,
    variables,
    parameters: input.parameters ?? null,
    modelVersionId,
    description: input.description ?? null,
    createdBy: actor.name,
    idempotencyKey: input.idempotencyKey ?? null,
  });
  await recordAudit(m, {
    projectId: prompt.projectId, actor: actor.name, action: 'promptVersion.create', targetType: 'PromptVersion', targetId: created.nodeId,
    after: { ...created, modelVersionId: modelVersionId && toGlobalId('ModelVersion', modelVersionId) },
  });
  await recordEvent(m, {
    projectId: prompt.projectId, type: RegistryEventType.PROMPT_VERSION_CREATED, actor: actor.name, subjectType: 'PromptVersion', subjectId: created.id,
  });
  return { version: created, created: true };
}

/**
 * Points an alias at a version. Pointing it where it already points changes nothing, so a
 * retried call is harmless; every real move is recorded as a PromptAliasEvent.
 */
export async function setPromptAlias(
  m: EntityManager, actor: Principal, promptId: string,
  input: { alias: string; versionNumber: number; expectedRevision?: number | null; reason?: string | null },
): Promise<{ alias: PromptAlias; moved: boolean }> {
  const prompt = await lockPrompt(m, promptId);
  const current = await m.findOneBy(PromptAlias, { promptId, name: input.alias });
  checkRevision(current, input.expectedRevision);
  const version = await m.findOneBy(PromptVersion, { promptId, number: input.versionNumber });
  if (!version) throw new AppError('NOT_FOUND', `Version ${input.versionNumber} of this prompt does not exist`, { field: 'versionNumber' });
  if (current?.versionId === version.id) return { alias: current, moved: false };
  const revision = (current?.revision ?? 0) + 1;
  await m.query(
    `INSERT INTO prompt_alias (project_id, prompt_id, name, version_id, revision, updated_at, updated_by)
     VALUES ($6, $1, $2, $3, $4, now(), $5)
     ON CONFLICT (prompt_id, name) DO UPDATE SET version_id = $3, revision = $4, updated_at = now(), updated_by = $5`,
    [promptId, input.alias, version.id, revision, actor.name, prompt.projectId],
  );
  const moved = await m.insert(PromptAliasEvent, {
    projectId: prompt.projectId, promptId, alias: input.alias, fromVersionId: current?.versionId ?? null, toVersionId: version.id,
    actor: actor.name, reason: input.reason ?? null,
  });
  await touchPrompt(m, promptId);
  const after = await m.findOneByOrFail(PromptAlias, { promptId, name: input.alias });
  await recordAudit(m, {
    projectId: prompt.projectId, actor: actor.name, action: 'promptAlias.set', targetType: 'Prompt', targetId: prompt.nodeId,
    before: current?.versionId ? { alias: input.alias, versionId: toGlobalId('PromptVersion', current.versionId), revision: current.revision } : null,
    after: { alias: input.alias, versionId: version.nodeId, versionNumber: version.number, revision, reason: input.reason ?? null },
  });
  await recordEvent(m, {
    projectId: prompt.projectId, type: RegistryEventType.PROMPT_ALIAS_SET, actor: actor.name,
    subjectType: 'PromptAliasEvent', subjectId: String(moved.identifiers[0].id),
  });
  return { alias: after, moved: true };
}

export async function removePromptAlias(
  m: EntityManager, actor: Principal, promptId: string,
  input: { alias: string; expectedRevision?: number | null; reason?: string | null },
): Promise<Prompt> {
  const prompt = await lockPrompt(m, promptId);
  const current = await m.findOneBy(PromptAlias, { promptId, name: input.alias });
  if (!current?.versionId) throw new AppError('NOT_FOUND', `The prompt has no alias "${input.alias}"`, { field: 'alias' });
  checkRevision(current, input.expectedRevision);
  await m.query(
    `UPDATE prompt_alias SET version_id = NULL, revision = revision + 1, updated_at = now(), updated_by = $3 WHERE prompt_id = $1 AND name = $2`,
    [promptId, input.alias, actor.name],
  );
  const removed = await m.insert(PromptAliasEvent, {
    projectId: prompt.projectId, promptId, alias: input.alias, fromVersionId: current.versionId, toVersionId: null,
    actor: actor.name, reason: input.reason ?? null,
  });
  await touchPrompt(m, promptId);
  await recordAudit(m, {
    projectId: prompt.projectId, actor: actor.name, action: 'promptAlias.remove', targetType: 'Prompt', targetId: prompt.nodeId,
    before: { alias: input.alias, versionId: toGlobalId('PromptVersion', current.versionId), revision: current.revision },
    after: { alias: input.alias, versionId: null, revision: current.revision + 1, reason: input.reason ?? null },
  });
  await recordEvent(m, {
    projectId: prompt.projectId, type: RegistryEventType.PROMPT_ALIAS_REMOVED, actor: actor.name,
    subjectType: 'PromptAliasEvent', subjectId: String(removed.identifiers[0].id),
  });
  return m.findOneByOrFail(Prompt, { id: promptId });
}
