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
import { type AliasKind, checkRevision, findAlias, writeAliasRemove, writeAliasSet } from '../../core/aliases/alias-writer';

/** Prompt aliases, for the writes all aliases share (core/aliases/alias-writer.ts). */
const PROMPT_ALIASES: AliasKind<PromptAlias, PromptAliasEvent> = {
  alias: PromptAlias, event: PromptAliasEvent, table: 'prompt_alias', parentColumn: 'prompt_id', parentKey: 'promptId',
  parentType: 'Prompt', versionType: 'PromptVersion', auditPrefix: 'promptAlias',
  setEvent: RegistryEventType.PROMPT_ALIAS_SET, removeEvent: RegistryEventType.PROMPT_ALIAS_REMOVED, eventType: 'PromptAliasEvent',
};

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
  const current = await findAlias(m, PROMPT_ALIASES, promptId, input.alias);
  checkRevision(current, input.expectedRevision);
  const version = await m.findOneBy(PromptVersion, { promptId, number: input.versionNumber });
  if (!version) throw new AppError('NOT_FOUND', `Version ${input.versionNumber} of this prompt does not exist`, { field: 'versionNumber' });
  if (current?.versionId === version.id) return { alias: current, moved: false };
  const after = await writeAliasSet(m, PROMPT_ALIASES, actor, prompt, current, version, input);
  await touchPrompt(m, promptId);
  return { alias: after, moved: true };
}

export async function removePromptAlias(
  m: EntityManager, actor: Principal, promptId: string,
  input: { alias: string; expectedRevision?: number | null; reason?: string | null },
): Promise<Prompt> {
  const prompt = await lockPrompt(m, promptId);
  const current = await findAlias(m, PROMPT_ALIASES, promptId, input.alias);
  if (!current?.versionId) throw new AppError('NOT_FOUND', `The prompt has no alias "${input.alias}"`, { field: 'alias' });
  checkRevision(current, input.expectedRevision);
  await writeAliasRemove(m, PROMPT_ALIASES, actor, prompt, { ...current, versionId: current.versionId }, input);
  await touchPrompt(m, promptId);
  return m.findOneByOrFail(Prompt, { id: promptId });
}
