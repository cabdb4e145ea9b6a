import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { everyInterval, storageRound } from './point-storage';
import { rollupRound } from './rollups';

export interface StorageRoundSettings {
  /** Partitions and retention, every so often; 0: never. */
  intervalMs: number;
  /** Rollups of the points committed since the last round; 0: never. */
  rollupIntervalMs: number;
  partitionsAheadDays: number;
}

/**
 * Starts this process's storage and rollup rounds; every server process runs them, and each
 * round's advisory lock lets one process at a time do the work. Returns the stop function
 * (which waits for a round in flight).
 */
export function startStorageRounds(db: DataSource, log: Logger, s: StorageRoundSettings): () => Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  if (s.intervalMs > 0) {
    stops.push(everyInterval('storage', s.intervalMs, log, async () => {
      const r = await storageRound(db, { aheadDays: s.partitionsAheadDays });
      if (r.created.length || r.dropped.length || r.deleted) log.info({ ...r }, 'metric point storage round');
    }));
  }
  if (s.rollupIntervalMs > 0) stops.push(everyInterval('rollup', s.rollupIntervalMs, log, (stopped) => rollupRound(db, stopped)));
  return async () => { await Promise.all(stops.map((stop) => stop())); };
}
