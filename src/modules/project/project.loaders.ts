import { DataSource } from 'typeorm';
import { rowLoader } from '../../core/graphql/page-loader';
import { Project } from './project.entity';

export function projectLoaders(db: DataSource, batch: boolean) {
  const projectById = rowLoader(db, Project, batch, (ids) => `SELECT * FROM project WHERE id = ANY(${ids}::uuid[])`, (p) => p.id);
  return {
    projectById,
    projectBySlug: rowLoader(db, Project, batch, (slugs) => `SELECT * FROM project WHERE slug = ANY(${slugs}::text[])`, (p) => p.slug,
      (rows) => { for (const p of rows) projectById.prime(p.id, p); }),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof projectLoaders> {}
}
