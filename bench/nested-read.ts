/**
 * The nested-read scenario: one project -> 50 models -> 10 versions each, with tags, aliases
 * and base versions, asked of every peer in its own dialect. Each peer's answer is normalized
 * to one shape so the runner can check, before measuring, that all peers return the same data.
 */
import { isDeepStrictEqual } from 'node:util';
import type { SeedShape } from './seed';

/** ModelGraph's query; the hand-written SQL peer returns exactly this response shape. */
export const MODELGRAPH_QUERY = `query Nested($slug: String!) {
  project(slug: $slug) {
    models(first: 50) {
      nodes {
        id name tags { key value }
        aliases { name version { number } }
        versions(first: 10) {
          nodes { id number tags { key value } aliases baseVersion { id number } }
        }
      }
    }
  }
}`;

/**
 * The same read in PostGraphile 5's amber schema: relations are named after their foreign
 * keys, `id` is PostGraphile's global id (as ModelGraph's `id` is ModelGraph's), and the orders
 * are spelled out to match ModelGraph's defaults (models newest change first, versions highest
 * number first, aliases by name).
 */
export const POSTGRAPHILE_QUERY = `query Nested($slug: String!) {
  projectBySlug(slug: $slug) {
    modelsByProjectId(first: 50, orderBy: [UPDATED_AT_DESC], condition: { archived: false }) {
      nodes {
        id name tags
        modelAliasesByProjectIdAndModelId(orderBy: [NAME_ASC]) { nodes { name modelVersionByProjectIdAndVersionId { number } } }
        modelVersionsByProjectIdAndModelId(first: 10, orderBy: [NUMBER_DESC]) {
          nodes {
            id number tags
            modelAliasesByProjectIdAndVersionId(orderBy: [NAME_ASC]) { nodes { name } }
            modelVersionByProjectIdAndBaseVersionId { id number }
          }
        }
      }
    }
  }
}`;

interface Tag { key: string; value: string }

/** One model as every peer must answer it, ids reduced to the row's uuid. */
export interface NormalizedModel {
  id: string;
  name: string;
  tags: Tag[];
  aliases: { name: string; version: number }[];
  versions: { id: string; number: number; tags: Tag[]; aliases: string[]; base: { id: string; number: number } | null }[];
}

export interface ResponseSummary {
  models: number;
  versions: number;
  modelAliases: number;
  versionAliases: number;
  baseVersions: number;
}

/** A GraphQL response with its errors surfaced, so a peer cannot pass with partial data. */
function dataOf(body: string, peer: string): Record<string, any> {
  const parsed = JSON.parse(body) as { data?: Record<string, any>; errors?: unknown[] };
  if (parsed.errors?.length) throw new Error(`${peer} answered with errors: ${JSON.stringify(parsed.errors).slice(0, 2000)}`);
  if (!parsed.data) throw new Error(`${peer} answered without data: ${body.slice(0, 500)}`);
  return parsed.data;
}

const tagsOf = (v: unknown): Tag[] => (v as Tag[]).map((t) => ({ key: t.key, value: t.value }));

/** ModelGraph ids are base64url("Type:uuid"). */
function modelGraphKey(id: string, type: string): string {
  const raw = Buffer.from(id, 'base64url').toString();
  if (!raw.startsWith(`${type}:`)) throw new Error(`not a ${type} id: ${id}`);
  return raw.slice(type.length + 1);
}

/** PostGraphile ids are base64(JSON ["Type", uuid]). */
function postGraphileKey(id: string, type: string): string {
  const [t, key] = JSON.parse(Buffer.from(id, 'base64').toString()) as [string, string];
  if (t !== type) throw new Error(`not a ${type} id: ${id}`);
  return key;
}

/** Normalizes ModelGraph's response; the hand-written SQL peer answers in the same shape. */
export function normalizeModelGraph(body: string, peer: string): NormalizedModel[] {
  const project = dataOf(body, peer).project;
  if (!project) throw new Error(`${peer}: project not found`);
  return (project.models.nodes as any[]).map((m) => ({
    id: modelGraphKey(m.id, 'Model'),
    name: m.name,
    tags: tagsOf(m.tags),
    aliases: (m.aliases as any[]).map((a) => ({ name: a.name, version: a.version.number })),
    versions: (m.versions.nodes as any[]).map((v) => ({
      id: modelGraphKey(v.id, 'ModelVersion'),
      number: v.number,
      tags: tagsOf(v.tags),
      aliases: v.aliases,
      base: v.baseVersion ? { id: modelGraphKey(v.baseVersion.id, 'ModelVersion'), number: v.baseVersion.number } : null,
    })),
  }));
}

export function normalizePostGraphile(body: string, peer: string): NormalizedModel[] {
  const project = dataOf(body, peer).projectBySlug;
  if (!project) throw new Error(`${peer}: project not found`);
  return (project.modelsByProjectId.nodes as any[]).map((m) => ({
    id: postGraphileKey(m.id, 'Model'),
    name: m.name,
    tags: tagsOf(m.tags),
    aliases: (m.modelAliasesByProjectIdAndModelId.nodes as any[]).map((a) => ({ name: a.name, version: a.modelVersionByProjectIdAndVersionId.number })),
    versions: (m.modelVersionsByProjectIdAndModelId.nodes as any[]).map((v) => ({
      id: postGraphileKey(v.id, 'ModelVersion'),
      number: v.number,
      tags: tagsOf(v.tags),
      aliases: (v.modelAliasesByProjectIdAndVersionId.nodes as any[]).map((a) => a.name),
      base: v.modelVersionByProjectIdAndBaseVersionId
        ? { id: postGraphileKey(v.modelVersionByProjectIdAndBaseVersionId.id, 'ModelVersion'), number: v.modelVersionByProjectIdAndBaseVersionId.number }
        : null,
    })),
  }));
}

export function summarize(models: NormalizedModel[]): ResponseSummary {
  const versions = models.flatMap((m) => m.versions);
  return {
    models: models.length,
    versions: versions.length,
    modelAliases: models.reduce((n, m) => n + m.aliases.length, 0),
    versionAliases: versions.reduce((n, v) => n + v.aliases.length, 0),
    baseVersions: versions.filter((v) => v.base).length,
  };
}

/**
 * Fails unless the reference answer holds everything seeded and every other answer is equal
 * to it, model by model: the peers must do the same work for the comparison to mean anything.
 */
export function checkAgreement(answers: { peer: string; models: NormalizedModel[] }[], seed: SeedShape): ResponseSummary {
  const [reference, ...others] = answers;
  const summary = summarize(reference.models);
  const expected: ResponseSummary = {
    models: seed.models,
    versions: seed.models * seed.versionsPerModel,
    modelAliases: seed.aliases,
    versionAliases: seed.aliases,
    baseVersions: seed.baseVersions,
  };
  if (!isDeepStrictEqual(summary, expected)) {
    throw new Error(`${reference.peer} does not return the seeded data: got ${JSON.stringify(summary)}, seeded ${JSON.stringify(expected)}`);
  }
  for (const other of others) {
    const theirs = summarize(other.models);
    if (!isDeepStrictEqual(theirs, summary)) {
      throw new Error(`${other.peer} disagrees with ${reference.peer}: ${JSON.stringify(theirs)} vs ${JSON.stringify(summary)}`);
    }
    const i = other.models.findIndex((m, k) => !isDeepStrictEqual(m, reference.models[k]));
    if (i >= 0) {
      throw new Error(
        `${other.peer} disagrees with ${reference.peer} on model #${i + 1}:\n` +
          `  ${JSON.stringify(other.models[i])}\n  ${JSON.stringify(reference.models[i])}`,
      );
    }
  }
  return summary;
}
