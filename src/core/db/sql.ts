import { DataSource, EntityManager, ObjectLiteral } from 'typeorm';

/** Collects positional parameters while a statement is assembled: `p.add(v)` returns `$n`. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Escapes LIKE wildcards so user text matches literally. */
export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

type EntityClass<T> = { new (): T };

/**
 * Turns raw rows (snake_case columns) into entity instances using TypeORM's column metadata,
 * for the hand-written statements TypeORM's query builder cannot express (LATERAL pages).
 */
export function hydrate<T extends ObjectLiteral>(db: DataSource | EntityManager, cls: EntityClass<T>, rows: Record<string, unknown>[]): T[] {
  const meta = (db instanceof DataSource ? db : db.connection).getMetadata(cls);
  return rows.map((row) => {
    const entity = new cls() as Record<string, unknown>;
    for (const col of meta.columns) {
      let v = row[col.databaseName];
      if (v === undefined) continue;
      const from = (col.transformer as { from?: (x: unknown) => unknown } | undefined)?.from;
      if (from) v = from(v);
      entity[col.propertyName] = v;
    }
    return entity as T;
  });
}

/**
 * Inserts one row and returns it as stored (defaults, generated ids, server timestamps), in
 * one statement: no read-back SELECT.
 */
export async function insertReturning<T extends ObjectLiteral>(m: EntityManager, cls: EntityClass<T>, values: Partial<T>): Promise<T> {
  const res = await m.createQueryBuilder().insert().into(cls).values(values as never).returning('*').execute();
  return hydrate(m, cls, res.raw as Record<string, unknown>[])[0];
}
