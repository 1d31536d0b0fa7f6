/**
 * Reading an SQLite file with `better-sqlite3`: opened read-only, the statement's rows iterated one at
 * a time (`stmt.iterate()`) and grouped into chunks, so memory stays flat. Every integer is read as a
 * bigint and narrowed as sql-types.ts describes, so a 64-bit value is never silently rounded.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { NotFoundError, messageOf } from '../../errors.js';
import type { ColumnType } from '../../values.js';
import type { RawChunk, RawValue } from './types.js';
import { sourceError, uniqueColumns, type SqlRead } from './sql-common.js';
import { SourceError } from './errors.js';
import { sqliteDeclaredType, sqliteValue } from './sql-types.js';

/** `better-sqlite3`, loaded when an SQLite source is read (most loads read no database). */
const load = createRequire(import.meta.url);

/** SQLite result codes meaning the file itself cannot be used. */
const OPEN_ERRORS = new Set(['SQLITE_NOTADB', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT', 'SQLITE_PERM', 'SQLITE_AUTH']);

/** `cannot open database (…)` when `err` says the file itself cannot be used (not a database, no access), else undefined. */
export function sqliteOpenProblem(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && OPEN_ERRORS.has(code) ? `cannot open database (${messageOf(err)})` : undefined;
}

function sqlError(read: SqlRead, err: unknown): SourceError {
  const message = messageOf(err);
  const open = sqliteOpenProblem(err);
  if (open !== undefined) return sourceError(read, open);
  if (read.table !== undefined && /^no such table\b/.test(message)) return sourceError(read, `table "${read.table}" does not exist`);
  return sourceError(read, `SQL error: ${message}`);
}

/** What the read learned about the file, for lineage. */
export interface SqliteFileInfo {
  bytes?: number;
}

/** Runs `read.sql` on the SQLite file at `path`, chunk by chunk. A missing file is a NotFoundError. */
export async function* readSqlite(path: string, read: SqlRead, info: SqliteFileInfo = {}): AsyncGenerator<RawChunk> {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new NotFoundError(`${read.name}: file not found`);
  }
  if (!stats.isFile()) throw sourceError(read, 'cannot open database (not a file)');
  info.bytes = stats.size;

  let db: Database.Database;
  try {
    const Sqlite = load('better-sqlite3') as typeof Database;
    db = new Sqlite(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw sqlError(read, err);
  }
  let rows: IterableIterator<unknown[]> | undefined;
  try {
    let columns: string[];
    const declared: (ColumnType | undefined)[] = [];
    try {
      const stmt = db.prepare(read.sql);
      if (!stmt.reader) throw sourceError(read, 'SQL error: the statement returns no rows');
      const defs = stmt.columns();
      columns = uniqueColumns(defs.map((c) => c.name), read.name, read.warnings);
      defs.forEach((c, i) => {
        const t = sqliteDeclaredType(c.type);
        declared.push(t);
        if (t) read.declared[columns[i]!] = t;
      });
      rows = stmt.raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>;
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw sqlError(read, err);
    }

    let chunk: RawValue[][] = [];
    let yielded = false;
    for (;;) {
      let next: IteratorResult<unknown[]>;
      try {
        next = rows.next();
      } catch (err) {
        throw sqlError(read, err);
      }
      if (next.done) break;
      chunk.push(next.value.map((v, i) => sqliteValue(v, declared[i])));
      if (chunk.length >= read.chunkRows) {
        yield { columns, rows: chunk };
        yielded = true;
        chunk = [];
      }
    }
    // An empty result still yields one chunk, so the consumer learns the columns.
    if (chunk.length > 0 || !yielded) yield { columns, rows: chunk };
  } finally {
    // Ends an unfinished statement (breaking out early) so the database can close.
    rows?.return?.();
    db.close();
  }
}
