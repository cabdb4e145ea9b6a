import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { Allow } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { fromSlug } from '../project/project.locators';
import { metricPointsNow, registryEventsNow } from './event-streams';

const PROJECT_SLUG = { description: 'The project whose stream the cursor is for (the cursor is used with the same projectSlug).' };

/**
 * Starting cursors: a subscription without `since` starts wherever the server is when the
 * subscribe message arrives, so a client whose socket drops before the first event has no
 * cursor to resume from. Asking for the cursor first fixes the start on the client's side.
 */
@Resolver()
export class StreamCursorResolver {
  @Allow(Role.VIEWER, fromSlug('projectSlug'))
  @Query(() => String, {
    description: 'The position of the registryEvents stream now. Pass it as `since` to registryEvents (same project) to receive exactly '
      + 'the events that commit after this call, nothing missed and nothing twice, even when the subscription starts later or '
      + 'reconnects before its first event. Needs VIEWER.',
  })
  registryEventsCursor(@Arg('projectSlug', PROJECT_SLUG) _projectSlug: string, @Ctx() ctx: Context): Promise<string> {
    return registryEventsNow(ctx.events);
  }

  @Allow(Role.VIEWER, fromSlug('projectSlug'))
  @Query(() => String, {
    description: 'The position of the metricPoints stream now. Pass it as `since` to metricPoints (same project, any filter) to receive '
      + 'exactly the matching points stored after this call, nothing missed and nothing twice, even when the subscription starts later '
      + 'or reconnects before its first event. Needs VIEWER.',
  })
  metricPointsCursor(@Arg('projectSlug', PROJECT_SLUG) _projectSlug: string, @Ctx() ctx: Context): Promise<string> {
    return metricPointsNow(ctx.events);
  }
}
