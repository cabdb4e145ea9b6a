import { EntityManager } from 'typeorm';
import { badInput } from '../../core/graphql/errors';
import { WindowLimits, boundedWindow, describeSeconds } from '../../core/graphql/window';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { ModelVersion } from '../model/model-version.entity';
import { RecordFeedbackInput } from './dto/feedback.input';
import { FeedbackKind } from './feedback.entity';

/** Feedback may be recorded a little ahead of the server's clock (client skew), no more. */
const MAX_FUTURE_MS = 5 * 60 * 1000;

declare module '../../core/graphql/context' {
  interface WorkLimits {
    /** ModelVersion.engagement: the window rolled up when none is given, and the longest one asked for. */
    engagement: WindowLimits;
  }
}

/** Defaults of the schema's descriptions; the configured values are in the README's table. */
export const ENGAGEMENT_WINDOW_DEFAULTS: WindowLimits = { defaultSeconds: 30 * 86400, maxRangeSeconds: 366 * 86400 };

export const ENGAGEMENT_WINDOW_RULE =
  `to defaults to now, from to ${describeSeconds(ENGAGEMENT_WINDOW_DEFAULTS.defaultSeconds)} before to (MODELGRAPH_ENGAGEMENT_DEFAULT_WINDOW_SECONDS); ` +
  `they may be at most ${describeSeconds(ENGAGEMENT_WINDOW_DEFAULTS.maxRangeSeconds)} apart (MODELGRAPH_ENGAGEMENT_MAX_RANGE_SECONDS), else BAD_USER_INPUT.`;

/** The [from, to) an engagement rollup covers: bounded, never the whole history at once. */
export function engagementWindow(from: Date | null, to: Date | null, limits: WindowLimits): { from: Date; to: Date } {
  if (from && to && from > to) throw badInput('from must not be after to', 'from');
  return boundedWindow({ from, to }, limits, { at: new Date(), is: 'now' });
}

/** Checks that the fields a kind needs are there and make sense, before anything is stored. */
function checkFeedback(input: RecordFeedbackInput): void {
  switch (input.kind) {
    case FeedbackKind.THUMBS:
      if (input.value !== 0 && input.value !== 1) throw badInput('THUMBS feedback needs value 1 (up) or 0 (down)', 'value');
      break;
    case FeedbackKind.RATING:
      if (input.value == null || !Number.isFinite(input.value)) throw badInput('RATING feedback needs a value', 'value');
      break;
    case FeedbackKind.TEXT:
      if (!input.comment?.trim()) throw badInput('TEXT feedback needs a comment', 'comment');
      break;
    case FeedbackKind.EVENT:
      if (!input.comment?.trim()) throw badInput('EVENT feedback needs the event name in comment', 'comment');
      break;
  }
  if (input.at && input.at.getTime() > Date.now() + MAX_FUTURE_MS) throw badInput('at is more than 5 minutes in the future', 'at');
}

export async function recordFeedback(m: EntityManager, actor: Principal, version: ModelVersion, input: RecordFeedbackInput): Promise<void> {
  checkFeedback(input);
  const [{ id }] = await m.query(
    `INSERT INTO feedback (project_id, model_version_id, kind, value, comment, session_id, user_id, at, recorded_by, request_id)
     VALUES ($9, $1, $2, $3, $4, $5, $6, coalesce($7, now()), $8, $10) RETURNING id`,
    [version.id, input.kind, input.value ?? null, input.comment ?? null, input.sessionId ?? null, input.userId ?? null, input.at ?? null, actor.name,
      version.projectId, input.requestId ?? null],
  );
  // The audit record names the feedback, not its text: comments may hold what users wrote.
  await recordAudit(m, {
    projectId: version.projectId, actor: actor.name, action: 'feedback.record', targetType: 'ModelVersion', targetId: version.nodeId,
    after: { feedbackId: String(id), kind: input.kind, sessionId: input.sessionId ?? null, requestId: input.requestId ?? null },
  });
}
