import { AppError } from './errors';

/** A time window's default length and longest span, in seconds (configured in `app/config.ts`). */
export interface WindowLimits {
  defaultSeconds: number;
  maxRangeSeconds: number;
}

/** "90 days", "24 hours", "15 minutes", "45 seconds": how the limits read in messages. */
export function describeSeconds(s: number): string {
  const units: [number, string][] = [[86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) if (s % size === 0) return `${s / size} ${name}${s / size === 1 ? '' : 's'}`;
  return `${s} second${s === 1 ? '' : 's'}`;
}

/**
 * The [from, to) window a read covers, so that no caller reads an open-ended history: `to`
 * defaults to `end` (now, or just past the newest data, as `end.is` says), `from` to `to` minus the default
 * length, and the two may be at most the longest span apart. Over it: BAD_USER_INPUT naming
 * the bound the caller gave (`limit: maxRangeSeconds`). Whether from must precede to is the
 * caller's rule, checked on its own terms.
 */
export function boundedWindow(
  args: { from?: Date | null; to?: Date | null }, limits: WindowLimits, end: { at: Date; is: string },
  names: { from: string; to: string } = { from: 'from', to: 'to' },
): { from: Date; to: Date } {
  const to = args.to ?? end.at;
  const from = args.from ?? new Date(to.getTime() - limits.defaultSeconds * 1000);
  const span = (to.getTime() - from.getTime()) / 1000;
  if (span > limits.maxRangeSeconds) {
    const field = args.from ? names.from : names.to;
    throw new AppError(
      'BAD_USER_INPUT',
      `${names.from} and ${names.to}${args.to ? '' : ` (by default ${end.is})`} are more than ${describeSeconds(limits.maxRangeSeconds)} apart; ask for a shorter window`,
      { field, limit: 'maxRangeSeconds', max: limits.maxRangeSeconds, actual: Math.ceil(span) },
    );
  }
  return { from, to };
}
