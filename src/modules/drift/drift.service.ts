import { EntityManager } from 'typeorm';
import { badInput } from '../../core/graphql/errors';
import { WindowLimits, describeSeconds } from '../../core/graphql/window';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { checkColumns } from '../dataset/columns';
import { ModelVersion } from '../model/model-version.entity';
import { RecordColumnProfileInput } from './dto/drift.input';

declare module '../../core/graphql/context' {
  interface WorkLimits {
    /** driftReport's production sides: the window merged when none is given, the longest one, and the most profiles merged. */
    drift: WindowLimits & { maxProfiles: number };
  }
}

/** Defaults of the schema's descriptions; the configured values are in the README's table. */
export const DRIFT_WINDOW_DEFAULTS: WindowLimits & { maxProfiles: number } = { defaultSeconds: 86400, maxRangeSeconds: 90 * 86400, maxProfiles: 100 };

export const DRIFT_WINDOW_RULE =
  `to defaults to now and from to ${describeSeconds(DRIFT_WINDOW_DEFAULTS.defaultSeconds)} before to (MODELGRAPH_DRIFT_DEFAULT_WINDOW_SECONDS); ` +
  `they may be at most ${describeSeconds(DRIFT_WINDOW_DEFAULTS.maxRangeSeconds)} apart (MODELGRAPH_DRIFT_MAX_RANGE_SECONDS) and the window may overlap ` +
  `at most ${DRIFT_WINDOW_DEFAULTS.maxProfiles} profiles (MODELGRAPH_DRIFT_MAX_PROFILES), else BAD_USER_INPUT.`;

/**
 * Stores a production profile of a model version for [from, to). The same window again
 * replaces the earlier profile (a retry must not count twice); other windows are kept and
 * add up in drift reports. Returns the number of columns stored.
 */
export async function recordColumnProfile(
  m: EntityManager, actor: Principal, version: ModelVersion, input: RecordColumnProfileInput,
): Promise<number> {
  if (!(input.from < input.to)) throw badInput('from must be before to', 'from');
  // A production window has no declared row count to hold counts against.
  const columns = checkColumns(input.columns, null);
  const [row] = await m.query(
    `INSERT INTO column_profile (project_id, model_version_id, window_from, window_to, columns, recorded_by)
     VALUES ($6, $1, $2, $3, $4::jsonb, $5)
     ON CONFLICT (model_version_id, window_from, window_to)
       DO UPDATE SET columns = excluded.columns, recorded_at = now(), recorded_by = excluded.recorded_by
     RETURNING id, (xmax <> 0) AS replaced`,
    [version.id, input.from.toISOString(), input.to.toISOString(), JSON.stringify(columns), actor.name, version.projectId],
  );
  // The audit names the window and the columns, not their statistics: those can be large.
  await recordAudit(m, {
    projectId: version.projectId, actor: actor.name, action: 'columnProfile.record', targetType: 'ModelVersion', targetId: version.nodeId,
    after: {
      profileId: String(row.id), replaced: row.replaced, from: input.from.toISOString(), to: input.to.toISOString(),
      columns: columns.map((c) => c.name),
    },
  });
  return columns.length;
}
