import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';

/**
 * PostgreSQL's binary COPY format, written into one buffer, and sent on a transaction's own
 * connection so the rows commit or roll back with the rest of the call.
 *
 * Why COPY BINARY for the bulk writers (metric points, usage records) rather than
 * `INSERT ... SELECT FROM unnest($::type[], ...)`: node-pg formats every element of every array
 * into a text literal (per-element escaping was 12% of recordUsage's server CPU), the server
 * parses each back, and the INSERT's executor costs more per row than COPY's. Measured on this
 * machine, one session, 5,000 rows a transaction: metric points 1.25x to 1.6x faster (BENCHMARKS.md,
 * "Write path alone"); usage records 25 to 30 µs of database CPU a row by INSERT against 19 to 22
 * by COPY even in text form. The format: a header, then per row a field count and each field
 * as (length, bytes) or -1 for NULL, big-endian; then -1.
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4)
 *
 * pg-copy-streams-binary offers the same encoding through a stream of row objects; one buffer
 * written in place is what makes 10,000 rows cost a few allocations.
 */

const HEADER = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

/** A uuid's 16 bytes. */
export function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (hex.length !== 32) throw new Error(`not a uuid: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

/** Writes the file header (signature, flags, no extension) at 0; returns the next offset. */
export function writeHeader(buf: Buffer): number {
  const o = HEADER.copy(buf, 0);
  buf.writeInt32BE(0, o);
  return buf.writeInt32BE(0, o + 4);
}

/** Bytes of the header and of the trailer. */
export const HEADER_BYTES = HEADER.length + 8;
export const TRAILER_BYTES = 2;

/** Writes the end-of-data marker; returns the next offset. */
export const writeTrailer = (buf: Buffer, o: number): number => buf.writeInt16BE(-1, o);

/**
 * Writes a timestamptz value (length and 8 bytes) for epoch milliseconds; returns the next
 * offset. The value is microseconds since 2000-01-01 as a signed 64-bit integer, built from two
 * 32-bit halves: ms * 1000 can pass 2^53 (year 9999), so it is never formed as one double.
 */
export function writeTimestamptz(buf: Buffer, o: number, epochMs: number): number {
  o = buf.writeInt32BE(8, o);
  const ms = epochMs - PG_EPOCH_MS;
  const q = Math.floor(ms / TWO_32);
  const r = (ms - q * TWO_32) * 1000;
  const carry = Math.floor(r / TWO_32);
  o = buf.writeInt32BE(q * 1000 + carry, o);
  return buf.writeUInt32BE(r - carry * TWO_32, o);
}

/**
 * Rows of varying width (text columns), field by field, into a buffer that grows by doubling.
 * The caller writes exactly the table's column list, in order, for every row.
 */
export class BinaryCopyWriter {
  private buf: Buffer;
  private o: number;

  /** `bytesHint`: the expected size, so that a batch usually needs one allocation. */
  constructor(bytesHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(bytesHint, 64) + HEADER_BYTES + TRAILER_BYTES);
    this.o = writeHeader(this.buf);
  }

  private room(bytes: number): void {
    if (this.o + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + bytes));
    this.buf.copy(next, 0, 0, this.o);
    this.buf = next;
  }

  /** Starts a row of `fields` columns. */
  row(fields: number): this {
    this.room(2);
    this.o = this.buf.writeInt16BE(fields, this.o);
    return this;
  }

  /** A NULL field. */
  null(): this {
    this.room(4);
    this.o = this.buf.writeInt32BE(-1, this.o);
    return this;
  }

  /** A uuid given as its 16 bytes (uuidBytes), or NULL. */
  uuid(bytes: Buffer | null): this {
    if (bytes === null) return this.null();
    this.room(20);
    this.o = this.buf.writeInt32BE(16, this.o);
    this.o += bytes.copy(this.buf, this.o);
    return this;
  }

  /** A text value (UTF-8), or NULL. */
  text(s: string | null): this {
    if (s === null) return this.null();
    const bytes = Buffer.byteLength(s, 'utf8');
    this.room(4 + bytes);
    this.o = this.buf.writeInt32BE(bytes, this.o);
    this.o += this.buf.write(s, this.o, bytes, 'utf8');
    return this;
  }

  /** An integer (int4). */
  int4(n: number): this {
    this.room(8);
    this.o = this.buf.writeInt32BE(4, this.o);
    this.o = this.buf.writeInt32BE(n, this.o);
    return this;
  }

  /** A double (float8), or NULL. */
  float8(x: number | null): this {
    if (x === null) return this.null();
    this.room(12);
    this.o = this.buf.writeInt32BE(8, this.o);
    this.o = this.buf.writeDoubleBE(x, this.o);
    return this;
  }

  /** A boolean. */
  bool(b: boolean): this {
    this.room(5);
    this.o = this.buf.writeInt32BE(1, this.o);
    this.o = this.buf.writeUInt8(b ? 1 : 0, this.o);
    return this;
  }

  /** A timestamptz of epoch milliseconds. */
  timestamptz(epochMs: number): this {
    this.room(12);
    this.o = writeTimestamptz(this.buf, this.o, epochMs);
    return this;
  }

  /** The finished stream: what was written, and the trailer. */
  finish(): Buffer {
    this.room(TRAILER_BYTES);
    this.o = writeTrailer(this.buf, this.o);
    return this.buf.subarray(0, this.o);
  }
}

/** The pg client under a transaction's EntityManager (TypeORM keeps it on the query runner). */
function clientOf(m: EntityManager): PoolClient {
  const runner = m.queryRunner as unknown as { databaseConnection?: PoolClient; isTransactionActive?: boolean } | undefined;
  const client = runner?.databaseConnection;
  // Outside a transaction the rows would commit on their own: refuse rather than do that.
  if (!client || !runner?.isTransactionActive) throw new Error('COPY needs the EntityManager of an open transaction');
  return client;
}

/**
 * Runs `sql` (`COPY table (columns) FROM STDIN (FORMAT binary)`) with `data` on the
 * transaction's connection. A failure (a unique or foreign key violation) rejects with the
 * driver's error, its `code` and `constraint` set, as a query's would.
 */
export async function copyIn(m: EntityManager, sql: string, data: Buffer): Promise<void> {
  const client = clientOf(m);
  // Seen by the statement counter and the SQL log like any other statement.
  m.connection.logger.logQuery(sql, [], m.queryRunner);
  await new Promise<void>((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    stream.end(data);
  });
}
