import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataSource, EntityManager } from 'typeorm';
import { hydrate, insertReturning } from '../../core/db/sql';
import { AppError } from '../../core/graphql/errors';
import { API_KEY_COLUMNS, ApiKey } from './api-key.entity';
import { Principal } from '../../core/auth/principal';
import { KEYS_CHANNEL, PrincipalCache } from '../../core/auth/principal-cache';
import { Role } from '../../core/auth/role';

/**
 * Secrets are 32 random bytes, so a plain SHA-256 is enough to store them: there is nothing to
 * brute-force that a slow hash would protect, and lookup by hash stays one index probe.
 */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
export const generateSecret = () => `mg_${randomBytes(32).toString('base64url')}`;
export const PREFIX_LENGTH = 10;

/** Resolves a bearer secret to its key; null for unknown or revoked secrets. */
export async function authenticate(m: EntityManager, secret: string, cache?: PrincipalCache): Promise<Principal | null> {
  const hash = hashSecret(secret);
  const cached = cache?.get(hash);
  if (cached) return cached;
  const rows: { id: string; name: string; role: Role; project_id: string | null; stale: boolean }[] = await m.query(
    `SELECT id, name, role, project_id, (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
       FROM api_key WHERE secret_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.stale) {
    // At most one write a minute per key: lastUsedAt is for spotting unused keys, not tracing.
    await m.query(`UPDATE api_key SET last_used_at = now() WHERE id = $1`, [row.id]);
  }
  const principal = { keyId: row.id, name: row.name, role: row.role, projectId: row.project_id };
  cache?.set(hash, principal);
  return principal;
}

/** Keys of one project, or (projectId null) every key, newest first; at most 1000. */
export async function listApiKeys(db: DataSource, projectId: string | null): Promise<ApiKey[]> {
  const rows = await db.query(
    `SELECT ${API_KEY_COLUMNS} FROM api_key ${projectId ? 'WHERE project_id = $1' : ''} ORDER BY created_at DESC, id DESC LIMIT 1000`,
    projectId ? [projectId] : [],
  );
  return hydrate(db, ApiKey, rows);
}

/** Whether a key still authenticates: a subscription asks before each round, not only at its start. */
export async function isKeyActive(db: DataSource, keyId: string): Promise<boolean> {
  const [row] = await db.query(`SELECT 1 FROM api_key WHERE id = $1 AND revoked_at IS NULL`, [keyId]);
  return !!row;
}

/** Of `keyIds`, those still valid: one statement for any number of keys (a metric point feed checks its members' keys at once). */
export async function activeKeys(db: DataSource, keyIds: string[]): Promise<Set<string>> {
  if (!keyIds.length) return new Set();
  const rows: { id: string }[] = await db.query(`SELECT id FROM api_key WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL`, [keyIds]);
  return new Set(rows.map((r) => r.id));
}

export async function insertApiKey(
  m: EntityManager,
  fields: { name: string; role: Role; projectId: string | null; createdBy: string },
  secret = generateSecret(),
): Promise<{ apiKey: ApiKey; secret: string }> {
  const apiKey = await insertReturning(m, ApiKey, {
    ...fields,
    prefix: secret.slice(0, PREFIX_LENGTH),
    secretHash: hashSecret(secret),
  });
  delete (apiKey as Partial<ApiKey>).secretHash;
  return { apiKey, secret };
}

export async function revokeApiKey(m: EntityManager, id: string): Promise<{ before: ApiKey; after: ApiKey }> {
  const before = await m.findOne(ApiKey, { where: { id }, lock: { mode: 'pessimistic_write' } });
  if (!before) throw new AppError('NOT_FOUND', 'API key not found');
  if (!before.revokedAt) {
    await m.query(`UPDATE api_key SET revoked_at = now() WHERE id = $1`, [id]);
    // Delivered on commit to every server process, which then forgets the key (PrincipalCache).
    await m.query(`SELECT pg_notify($1, $2)`, [KEYS_CHANNEL, id]);
  }
  return { before, after: await m.findOneByOrFail(ApiKey, { id }) };
}

/**
 * On first start with no key at all, creates the ADMIN key: MODELGRAPH_ADMIN_KEY when set,
 * else a random secret that is printed once and written to `<dataDir>/admin-key` (mode 0600).
 * The advisory lock makes concurrent first starts create exactly one key.
 */
export async function bootstrapAdminKey(
  ds: DataSource,
  opts: { adminKey: string | null; dataDir: string; announce: (secret: string, file: string) => void },
): Promise<boolean> {
  return ds.transaction(async (m) => {
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('modelgraph.bootstrap'))`);
    const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM api_key`);
    if (n > 0) return false;
    const { secret } = await insertApiKey(
      m,
      { name: 'admin', role: Role.ADMIN, projectId: null, createdBy: 'bootstrap' },
      opts.adminKey ?? undefined,
    );
    if (!opts.adminKey) {
      await mkdir(opts.dataDir, { recursive: true });
      const file = path.join(opts.dataDir, 'admin-key');
      await writeFile(file, secret + '\n', { mode: 0o600 });
      await chmod(file, 0o600);
      opts.announce(secret, file);
    }
    return true;
  });
}
