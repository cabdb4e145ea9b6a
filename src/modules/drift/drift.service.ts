import { EntityManager } from 'typeorm';
import { badInput } from '../../core/graphql/errors';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { checkColumns } from '../dataset/columns';
import { ModelVersion } from '../model/model-version.entity';
import { RecordColumnProfileInput } from './dto/drift.input';

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
