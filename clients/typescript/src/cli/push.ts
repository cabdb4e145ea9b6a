import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { MetricPointInput } from '../generated/graphql';
import { UsageError } from './output';

/** The most points recordMetrics takes in one call. */
export const MAX_BATCH = 10_000;

export interface PushFile {
  /** sha256 of the file's bytes, hex. */
  hash: string;
  points: MetricPointInput[];
}

const asNumber = (v: unknown, where: string): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${where}: value ${JSON.stringify(v)} is not a finite number`);
  return n;
};

/** A point from one record (a CSV row or a JSON line). */
function pointOf(rec: Record<string, unknown>, where: string): MetricPointInput {
  if (typeof rec.name !== 'string' || !rec.name) throw new UsageError(`${where}: a point needs a "name"`);
  const point: MetricPointInput = { name: rec.name, value: asNumber(rec.value, where) };
  if (rec.timestamp !== undefined && rec.timestamp !== null && rec.timestamp !== '') {
    const ts = String(rec.timestamp);
    if (Number.isNaN(Date.parse(ts))) throw new UsageError(`${where}: timestamp ${JSON.stringify(ts)} is not a date`);
    point.timestamp = ts;
  }
  if (rec.labels !== undefined && rec.labels !== null) {
    if (typeof rec.labels !== 'object' || Array.isArray(rec.labels)) throw new UsageError(`${where}: "labels" must be an object`);
    point.labels = rec.labels as Record<string, unknown>;
  }
  if (rec.modelVersionId) point.modelVersionId = String(rec.modelVersionId);
  return point;
}

/**
 * Reads a metrics file: CSV with a header (name, value, and optionally timestamp,
 * modelVersionId and `label.<key>` columns) or JSON lines (one object per line: name, value,
 * and optionally timestamp, labels, modelVersionId). The format comes from the extension
 * (.csv; .jsonl / .ndjson) unless given.
 */
export function readPushFile(file: string, format: string | undefined): PushFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  const kind = format ?? (ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined);
  if (!kind) throw new UsageError(`cannot tell the format of ${file}: name it .csv, .jsonl or .ndjson, or give --format csv|jsonl`);
  const text = bytes.toString('utf8');
  const points: MetricPointInput[] = [];
  if (kind === 'csv') {
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
    } catch (err) {
      throw new UsageError(`${file}: ${(err as Error).message}`);
    }
    rows.forEach((row, i) => {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(row)) if (k.startsWith('label.') && v !== '') labels[k.slice('label.'.length)] = v;
      points.push(pointOf({ ...row, labels: Object.keys(labels).length ? labels : undefined }, `${file}:${i + 2}`));
    });
  } else if (kind === 'jsonl') {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (err) {
        throw new UsageError(`${file}:${i + 1}: ${(err as Error).message}`);
      }
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new UsageError(`${file}:${i + 1}: each line must be a JSON object`);
      points.push(pointOf(rec as Record<string, unknown>, `${file}:${i + 1}`));
    });
  } else {
    throw new UsageError(`unknown format ${kind}: use csv or jsonl`);
  }
  if (!points.length) throw new UsageError(`${file} holds no points`);
  return { hash: createHash('sha256').update(bytes).digest('hex'), points };
}

/**
 * The idempotency key of batch `index`: the same file pushed with the same options to the same
 * project gets the same keys, so a rerun after an interruption stores only the batches the
 * first run did not (the server answers the others with duplicate: true). The options that shape
 * the points (the version they default to) and the batch size, which fixes the batches'
 * boundaries, are part of it: a rerun must use the same ones to skip what was stored.
 */
export function batchKey(fileHash: string, shape: Record<string, unknown>, batchSize: number, index: number): string {
  const run = createHash('sha256').update(fileHash).update('\0').update(JSON.stringify(shape)).digest('hex').slice(0, 40);
  return `modelgraph-cli:push:v1:${run}:${batchSize}:${index}`;
}
