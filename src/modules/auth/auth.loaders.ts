import { DataSource } from 'typeorm';
import { rowLoader } from '../../graphql/page-loader';
import { API_KEY_COLUMNS, ApiKey } from './api-key.entity';

export function authLoaders(db: DataSource, batch: boolean) {
  return {
    apiKeyById: rowLoader(db, ApiKey, batch, (ids) => `SELECT ${API_KEY_COLUMNS} FROM api_key WHERE id = ANY(${ids}::uuid[])`, (k) => k.id),
  };
}
