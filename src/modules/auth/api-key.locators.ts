import { GLOBAL, Locator, argAt } from '../../core/auth/permission';
import { fromSlug } from '../project/project.locators';

/**
 * Whose keys `apiKeys` lists: the project named, else the caller's own scope (its project, or
 * every project for a key of no project). ADMIN of that scope may list them.
 */
export const apiKeyListScope: Locator = {
  describe: 'Project at projectSlug, else the key\'s own project (or every project)',
  locate: (args, ctx) => (argAt(args, 'projectSlug')
    ? fromSlug('projectSlug').locate(args, ctx)
    : Promise.resolve([{ projectId: ctx.principal!.projectId }])),
};

/** Where a new key is valid: the project named, else every project (which only a global admin may grant). */
export const newApiKeyScope: Locator = {
  describe: 'Project at input.projectSlug, else every project',
  locate: (args, ctx) => (argAt(args, 'input.projectSlug') ? fromSlug('input.projectSlug').locate(args, ctx) : GLOBAL.locate(args, ctx)),
};
