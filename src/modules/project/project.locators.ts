import type { Loaders } from '../../core/graphql/context';
import { notFound } from '../../core/graphql/errors';
import { Locator, argAt } from '../../core/auth/permission';
import type { Project } from './project.entity';

/** The project of a slug, through the request's loaders; NOT_FOUND when no project has it. */
export async function loadProjectBySlug(loaders: Loaders, slug: string): Promise<Project> {
  const project = await loaders.projectBySlug.load(slug);
  if (!project) throw notFound('Project', slug);
  return project;
}

/**
 * The project a slug argument names, for `@Allow`. A missing project is NOT_FOUND, or with
 * `orNull` nothing to guard: the field answers null for it (`project(slug:)`). Another project
 * than the key's answers the same, so slugs cannot be probed.
 */
export function fromSlug(path: string, opts: { orNull?: boolean } = {}): Locator {
  return {
    describe: `Project at ${path}`,
    answersNull: opts.orNull,
    async locate(args, ctx) {
      const slug = argAt(args, path) as string;
      const project = await ctx.loaders.projectBySlug.load(slug);
      const absent = opts.orNull ? null : notFound('Project', slug);
      return [project ? { projectId: project.id, unseen: absent } : absent];
    },
  };
}
