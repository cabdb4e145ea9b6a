import type { Loaders } from '../../core/graphql/context';
import { AppError, badInput } from '../../core/graphql/errors';
import type { PromptVersion } from './prompt-version.entity';

/** The version an alias of a prompt points to now, or (asOf) pointed to then; null for none. Reads through the request's loaders. */
export async function promptVersionAt(loaders: Loaders, promptId: string, alias: string, asOf: Date | null): Promise<PromptVersion | null> {
  const versionId = asOf
    ? await loaders.promptAliasAsOf.load([promptId, alias, asOf])
    : (await loaders.promptAliasesByPrompt.load(promptId)).find((a) => a.name === alias)?.versionId ?? null;
  return versionId ? loaders.promptVersionById.load(versionId) : null;
}

/** The version to render: by number or by alias (exactly one); NOT_FOUND naming the argument when there is none. */
export async function versionToRender(
  loaders: Loaders, promptId: string, by: { version: number | null; alias: string | null },
): Promise<PromptVersion> {
  if ((by.version === null) === (by.alias === null)) throw badInput('Give exactly one of version or alias', by.version === null ? 'version' : 'alias');
  if (by.version !== null) {
    const v = await loaders.promptVersionByNumber.load([promptId, String(by.version)]);
    if (!v) throw new AppError('NOT_FOUND', `Version ${by.version} of this prompt does not exist`, { field: 'version' });
    return v;
  }
  const v = await promptVersionAt(loaders, promptId, by.alias!, null);
  if (!v) throw new AppError('NOT_FOUND', `The prompt has no alias "${by.alias}"`, { field: 'alias' });
  return v;
}
