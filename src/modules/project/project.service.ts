import { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../db/errors';
import { insertReturning } from '../../db/sql';
import { AppError } from '../../graphql/errors';
import { recordAudit } from '../audit/audit.service';
import { Principal } from '../auth/principal';
import { CreateProjectInput } from './dto/project.input';
import { Project } from './project.entity';

export async function createProject(m: EntityManager, actor: Principal, input: CreateProjectInput): Promise<Project> {
  let created: Project;
  try {
    created = await insertReturning(m, Project, { slug: input.slug, name: input.name, description: input.description ?? null });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('CONFLICT', `A project with slug "${input.slug}" already exists`, { field: 'slug' });
    throw err;
  }
  await recordAudit(m, { projectId: created.id, actor: actor.name, action: 'project.create', targetType: 'Project', targetId: created.nodeId, after: created });
  return created;
}
