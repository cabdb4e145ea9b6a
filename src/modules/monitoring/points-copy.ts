import type { EntityManager } from 'typeorm';
import { HEADER_BYTES, TRAILER_BYTES, copyIn, writeHeader, writeTimestamptz, writeTrailer } from '../../core/db/binary-copy';

export { uuidBytes } from '../../core/db/binary-copy';

/**
 * Writes metric points with binary COPY on the transaction's own connection, so the points
 * commit or roll back with the rest of the call.
 *
 * Why COPY and not `INSERT ... SELECT FROM unnest($::uuid[], $::timestamptz[], $::float8[])`:
 * both were measured in the same run, alternating, 5,000 points over 1,000 series, each in its
 * own transaction (`npm run bench:ingest`, "Write path alone" in BENCHMARKS.md), and COPY was
 * the faster (1.25x to 1.5x on this 2-core machine). The unnest pays twice for text: node-pg
 * formats every Date and number into an array literal and the server parses it back; COPY
 * BINARY sends 66 bytes a row that the server turns into tuples without parsing.
 *
 * The columns are named, not positional: `id` is an identity column, and the table may be
 * partitioned (PostgreSQL routes COPY rows into partitions).
 */
export const COPY_POINTS_SQL = 'COPY metric_point (project_id, series_id, ts, value) FROM STDIN (FORMAT binary)';

/** Bytes of one row: field count, then (length, value) for uuid, uuid, timestamptz, float8. */
const ROW_BYTES = 2 + (4 + 16) + (4 + 16) + (4 + 8) + (4 + 8);

/**
 * The COPY BINARY stream of the points: one buffer, written without a per-row allocation.
 * `seriesOf[i]` indexes `seriesIds` (16-byte uuids); `tsMs` are epoch milliseconds.
 */
export function encodePoints(projectId: Buffer, seriesIds: Buffer[], seriesOf: ArrayLike<number>, tsMs: ArrayLike<number>, values: ArrayLike<number>): Buffer {
  const n = tsMs.length;
  // Fixed-width rows: the exact size is known, so no BinaryCopyWriter (which checks room per field).
  const buf = Buffer.allocUnsafe(HEADER_BYTES + n * ROW_BYTES + TRAILER_BYTES);
  let o = writeHeader(buf);
  for (let i = 0; i < n; i++) {
    o = buf.writeInt16BE(4, o);
    o = buf.writeInt32BE(16, o);
    o += projectId.copy(buf, o);
    o = buf.writeInt32BE(16, o);
    o += seriesIds[seriesOf[i]].copy(buf, o);
    o = writeTimestamptz(buf, o, tsMs[i]);
    o = buf.writeInt32BE(8, o);
    o = buf.writeDoubleBE(values[i], o);
  }
  writeTrailer(buf, o);
  return buf;
}

/** Streams `data` (from encodePoints) into metric_point on the transaction's connection. */
export function copyPoints(m: EntityManager, data: Buffer): Promise<void> {
  return copyIn(m, COPY_POINTS_SQL, data);
}
