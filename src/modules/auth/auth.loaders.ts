import { DataSource } from 'typeorm';
import { rowLoader } from '../../core/graphql/page-loader';
import { API_KEY_COLUMNS, ApiKey } from './api-key.entity';

export function authLoaders(db: DataSource, batch: boolean) {
  return {
    apiKeyById: rowLoader(db, ApiKey, batch, (ids) => `SELECT ${API_KEY_COLUMNS} FROM api_key WHERE id = ANY(${ids}::uuid[])`, (k) => k.id),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof authLoaders> {}
}
