import { AUTH_CODES, ModelGraphError } from '../errors';

/**
 * Exit codes, for scripts (docs/client.md lists them):
 * 0 done; 1 the server answered with an error not listed below; 2 usage: bad arguments or
 * input file, or input the server refused (BAD_USER_INPUT); 3 authentication or permission
 * (no key, a bad or revoked key, too low a role); 4 not found (NOT_FOUND); 5 the server could
 * not be reached, or the connection was lost for good.
 */
export const EXIT = { OK: 0, ERROR: 1, USAGE: 2, AUTH: 3, NOT_FOUND: 4, NETWORK: 5 } as const;

/** An error found before anything was sent (arguments, files). */
export class UsageError extends Error {}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (err instanceof ModelGraphError) {
    if (AUTH_CODES.has(err.code)) return EXIT.AUTH;
    if (err.code === 'NOT_FOUND') return EXIT.NOT_FOUND;
    if (err.code === 'BAD_USER_INPUT') return EXIT.USAGE;
    if (err.code === 'NETWORK_ERROR' || err.code === 'HTTP_ERROR') return EXIT.NETWORK;
  }
  return EXIT.ERROR;
}

/** The error as one line (text) or one JSON object (--json), on stderr. */
export function reportError(err: unknown, json: boolean): void {
  const code = err instanceof ModelGraphError ? err.code : err instanceof UsageError ? 'USAGE' : 'ERROR';
  const message = err instanceof Error ? err.message : String(err);
  if (json) {
    const field = err instanceof ModelGraphError ? err.errors[0]?.extensions?.field : undefined;
    process.stderr.write(`${JSON.stringify({ error: { code, message, ...(field ? { field } : {}) } })}\n`);
  } else {
    process.stderr.write(`modelgraph: ${code === 'USAGE' || code === 'ERROR' ? '' : `${code}: `}${message}\n`);
  }
}

/** Prints a command's result: its JSON with --json, else the text. */
export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

/** Rows as aligned columns. */
export function table(rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0))) ?? [];
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}
