/**
 * Reading a PostgreSQL query with `pg` and a server-side cursor (`pg-cursor`): the server keeps the
 * result and sends `chunkRows` rows per round trip, so memory stays flat whatever the result's size.
 * Values are converted by type parsers set on this client only (sql-types.ts).
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import type Cursor from 'pg-cursor';
import { messageOf } from '../../errors.js';
import type { RawChunk, RawValue } from './types.js';
import { CONNECT_TIMEOUT_MS, cannotConnect, positionText, sourceError, uniqueColumns, withTimeout, type SqlRead } from './sql-common.js';
import type { SourceError } from './errors.js';
import { pgDeclaredType, pgGetTypeParser } from './sql-types.js';

/**
 * `pg` and `pg-cursor`, loaded when a PostgreSQL source is read: they take a while to load, and most
 * loads read no database. (Required, not imported, so that the module graph stays the same.)
 */
const load = createRequire(import.meta.url);
function driver(): { pg: typeof pg; Cursor: typeof Cursor } {
  return { pg: load('pg') as typeof pg, Cursor: load('pg-cursor') as typeof Cursor };
}

/** SQLSTATEs of a refused login: invalid_authorization_specification, invalid_password. */
const LOGIN_STATES = new Set(['28000', '28P01']);
const UNKNOWN_DATABASE = '3D000';
const UNDEFINED_TABLE = '42P01';

function isDatabaseError(err: unknown): err is pg.DatabaseError {
  return err instanceof driver().pg.DatabaseError;
}

/**
 * The SourceError for a failed connection (`cannot log in: …`, the unknown database, `cannot connect
 * (…)`, a time-out), named as `read` names it; also used by the SQL sink.
 */
export function postgresConnectError(read: Pick<SqlRead, 'name' | 'secrets'>, err: unknown, elapsedMs: number): SourceError {
  if (isDatabaseError(err)) {
    if (LOGIN_STATES.has(err.code ?? '')) return sourceError(read, `cannot log in: ${err.message}`);
    if (err.code === UNKNOWN_DATABASE) return sourceError(read, err.message);
    return sourceError(read, `cannot connect (${err.message})`);
  }
  // pg ends a connection attempt that takes too long without saying why.
  if (elapsedMs >= CONNECT_TIMEOUT_MS - 100) return sourceError(read, `cannot connect (timed out after ${CONNECT_TIMEOUT_MS / 1000} s)`);
  return sourceError(read, cannotConnect(err));
}

function queryError(read: SqlRead, err: unknown): SourceError {
  if (isDatabaseError(err)) {
    if (read.table !== undefined && err.code === UNDEFINED_TABLE) return sourceError(read, `table "${read.table}" does not exist`);
    const position = read.table === undefined && err.position ? ` (${positionText(read.sql, Number(err.position))})` : '';
    return sourceError(read, `SQL error: ${err.message}${position}`);
  }
  return sourceError(read, `connection lost (${messageOf(err)})`);
}

function readCursor(cursor: Cursor, rows: number): Promise<{ rows: RawValue[][]; fields: pg.FieldDef[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(rows, (err, got, result) => {
      if (err) reject(err);
      else resolve({ rows: got as RawValue[][], fields: result?.fields ?? [] });
    });
  });
}

/** Runs `read.sql` on the server at `connectionString` (expanded, with its password), chunk by chunk. */
export async function* readPostgres(connectionString: string, read: SqlRead): AsyncGenerator<RawChunk> {
  const { pg: lib, Cursor: CursorClass } = driver();
  const client = new lib.Client({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'mlpipe',
    types: { getTypeParser: pgGetTypeParser as pg.CustomTypesConfig['getTypeParser'] },
  });
  // A connection that fails later surfaces through the cursor; this keeps the event from being unhandled.
  client.on('error', () => {});
  const started = Date.now();
  try {
    await client.connect();
  } catch (err) {
    await withTimeout(client.end().catch(() => {}), 2000);
    throw postgresConnectError(read, err, Date.now() - started);
  }

  let cursor: Cursor | undefined;
  let done = false;
  try {
    cursor = client.query(new CursorClass(read.sql, undefined, { rowMode: 'array' }));
    let columns: string[] | undefined;
    for (;;) {
      let got: { rows: RawValue[][]; fields: pg.FieldDef[] };
      try {
        got = await readCursor(cursor, read.chunkRows);
      } catch (err) {
        done = true;
        throw queryError(read, err);
      }
      const first = columns === undefined;
      if (columns === undefined) {
        columns = uniqueColumns(got.fields.map((f) => f.name), read.name, read.warnings);
        got.fields.forEach((f, i) => {
          const t = pgDeclaredType(f.dataTypeID);
          if (t) read.declared[columns![i]!] = t;
        });
      }
      // An empty result still yields one chunk, so the consumer learns the columns.
      if (got.rows.length > 0 || first) yield { columns, rows: got.rows };
      // A short read means the server has sent the last row.
      if (got.rows.length < read.chunkRows) break;
    }
    done = true;
  } finally {
    // Breaking out early: close the server-side portal, then the connection (end() forces it when busy).
    if (cursor && !done) await withTimeout(cursor.close().catch(() => {}), 2000);
    await withTimeout(client.end().catch(() => {}), 2000);
  }
}
