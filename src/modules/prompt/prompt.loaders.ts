import { DataSource } from 'typeorm';
import { filledRowLoader, pageLoader, pairLoader, rowLoader } from '../../core/graphql/page-loader';
import { asOfLoader } from '../../core/graphql/as-of-loader';
import { currentAliasesLoader } from '../../core/aliases/alias-loader';
import { PromptAlias, PromptAliasEvent } from './prompt-alias.entity';
import { PromptVersion } from './prompt-version.entity';
import { Prompt } from './prompt.entity';

export function promptLoaders(db: DataSource, batch: boolean) {
  // As in the model module: rows any list reads fill the by-id caches, so `prompt`,
  // `alias.version` and `fromVersion` under a list cost no statement of their own.
  const promptById = filledRowLoader(db, Prompt, batch, (ids) => `SELECT * FROM prompt WHERE id = ANY(${ids}::uuid[])`, (p) => p.id);
  const promptVersionById = filledRowLoader(db, PromptVersion, batch,
    (ids) => `SELECT * FROM prompt_version WHERE id = ANY(${ids}::uuid[])`, (v) => v.id);
  const primePrompts = (rows: Prompt[]) => promptById.fill(rows);
  const primeVersions = (rows: PromptVersion[]) => promptVersionById.fill(rows);
  return {
    promptById,
    promptByProjectAndName: promptById.fedBy(pairLoader(db, Prompt, batch,
      `SELECT p.* FROM unnest($1::uuid[], $2::text[]) k(pr, n) JOIN prompt p ON p.project_id = k.pr AND p.name = k.n`,
      (p) => [p.projectId, p.name], primePrompts)),
    promptVersionById,
    promptVersionByNumber: promptVersionById.fedBy(pairLoader(db, PromptVersion, batch,
      `SELECT v.* FROM unnest($1::uuid[], $2::int[]) k(p, n) JOIN prompt_version v ON v.prompt_id = k.p AND v.number = k.n`,
      (v) => [v.promptId, String(v.number)], primeVersions)),
    latestPromptVersion: promptVersionById.fedBy(rowLoader(db, PromptVersion, batch,
      (ids) => `SELECT DISTINCT ON (prompt_id) * FROM prompt_version WHERE prompt_id = ANY(${ids}::uuid[]) ORDER BY prompt_id, number DESC`,
      (v) => v.promptId, primeVersions)),
    /** Aliases currently set on each prompt, by name, with their versions in the same statement. */
    promptAliasesByPrompt: promptVersionById.fedBy(currentAliasesLoader(db, batch, {
      table: 'prompt_alias', parentColumn: 'prompt_id', versionTable: 'prompt_version', version: PromptVersion, alias: PromptAlias,
      parentKey: 'promptId', parentOf: (v) => v.promptId,
    }, primeVersions)),
    /** The version a prompt alias pointed to at a time: its last move at or before then. */
    promptAliasAsOf: asOfLoader(db, batch, { table: 'prompt_alias_event', parentColumn: 'prompt_id' }),
    promptAliasEventById: rowLoader(db, PromptAliasEvent, batch,
      (ids) => `SELECT * FROM prompt_alias_event WHERE id = ANY(${ids}::bigint[])`, (e) => String(e.id)),
    promptPages: promptById.fedBy(pageLoader(db, Prompt, batch, primePrompts)),
    promptVersionPages: promptVersionById.fedBy(pageLoader(db, PromptVersion, batch, primeVersions)),
    promptAliasEventPages: pageLoader(db, PromptAliasEvent, batch),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof promptLoaders> {}
}
