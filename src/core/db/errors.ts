/** True when `err` is PostgreSQL's unique_violation (23505), optionally of one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.driverError?.code ?? e?.code;
  const name = e?.driverError?.constraint ?? e?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** A database failure the client may retry, with the code it answers. */
export interface TransientFailure {
  code: 'TIMEOUT' | 'UNAVAILABLE' | 'CONFLICT';
  message: string;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);

/**
 * Classifies a database error that is not the client's fault and not a bug: a statement or lock
 * timeout, a deadlock or serialization failure, or the database being unreachable or restarting.
 * These answer a retryable code instead of INTERNAL_SERVER_ERROR; null for anything else.
 */
export function transientFailure(err: unknown): TransientFailure | null {
  const e = err as { code?: string; message?: string; driverError?: { code?: string; message?: string } };
  const code = e?.driverError?.code ?? e?.code;
  const message = e?.driverError?.message ?? e?.message ?? '';
  if (code === '57014') return { code: 'TIMEOUT', message: 'The query took longer than the server allows (statement timeout); narrow it, or retry later' };
  if (code === '55P03') return { code: 'TIMEOUT', message: 'A row this change needs stayed locked by another writer (lock timeout); retry' };
  if (code === '25P03') return { code: 'TIMEOUT', message: 'The transaction stayed idle too long and was ended; retry' };
  if (code === '40P01' || code === '40001') return { code: 'CONFLICT', message: 'A concurrent change got in the way (deadlock or serialization failure); retry' };
  // 57P01..57P03: the server is shutting down or starting; 08xxx: the connection failed.
  if (code && (/^57P0[1-3]$/.test(code) || code.startsWith('08') || CONNECTION_CODES.has(code))) {
    return { code: 'UNAVAILABLE', message: 'The database is unavailable; retry shortly' };
  }
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) {
    return { code: 'UNAVAILABLE', message: 'The database is unavailable; retry shortly' };
  }
  return null;
}
