import { DataSource } from 'typeorm';
import { rowLoader } from '../../graphql/page-loader';
import { Project } from './project.entity';

export function projectLoaders(db: DataSource, batch: boolean) {
  return {
    projectById: rowLoader(db, Project, batch, (ids) => `SELECT * FROM project WHERE id = ANY(${ids}::uuid[])`, (p) => p.id),
    projectBySlug: rowLoader(db, Project, batch, (slugs) => `SELECT * FROM project WHERE slug = ANY(${slugs}::text[])`, (p) => p.slug),
  };
}
