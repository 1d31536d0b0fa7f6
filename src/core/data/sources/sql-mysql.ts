/**
 * Reading a MySQL or MariaDB query with `mysql2`: the result is streamed row by row (the driver pauses
 * the socket while mlpipe has not taken the buffered rows, so memory stays flat) and grouped into
 * chunks. Values are converted as sql-types.ts describes; the session reads TIMESTAMPs in UTC.
 */
import { createRequire } from 'node:module';
import type mysql from 'mysql2';
import type { FieldPacket, QueryError } from 'mysql2';
import { messageOf } from '../../errors.js';
import type { RawChunk, RawValue } from './types.js';
import { CONNECT_TIMEOUT_MS, cannotConnect, errorCode, sourceError, uniqueColumns, withTimeout, type SqlRead } from './sql-common.js';
import type { SourceError } from './errors.js';
import { mysqlDeclaredType, mysqlValue } from './sql-types.js';

/** `mysql2`, loaded when a MySQL source is read (it takes a while to load; most loads read no database). */
const load = createRequire(import.meta.url);

const LOGIN_ERRORS = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_NOT_SUPPORTED_AUTH_MODE',
  'ER_ACCOUNT_HAS_BEEN_LOCKED',
  'ER_MUST_CHANGE_PASSWORD_LOGIN',
]);

/** True for an error the server sent (it has an SQLSTATE), as opposed to a network or driver error. */
export function isServerError(err: unknown): err is QueryError & { sqlMessage?: string } {
  return typeof err === 'object' && err !== null && typeof (err as { sqlState?: unknown }).sqlState === 'string';
}

/** The server's own words for an error. */
export function serverMessage(err: QueryError & { sqlMessage?: string }): string {
  return err.sqlMessage ?? err.message;
}

/**
 * The SourceError for a failed connection (`cannot log in: …`, `database "x" does not exist`,
 * `cannot connect (…)`), named as `read` names it; `database` is the URL's. Also used by the SQL sink.
 */
export function mysqlConnectError(read: Pick<SqlRead, 'name' | 'secrets'>, database: string | undefined, err: unknown, elapsedMs: number): SourceError {
  const code = errorCode(err);
  if (code && LOGIN_ERRORS.has(code) && isServerError(err)) return sourceError(read, `cannot log in: ${serverMessage(err)}`);
  if (code === 'ER_BAD_DB_ERROR') return sourceError(read, `database "${database ?? ''}" does not exist`);
  if (code === 'ETIMEDOUT' && elapsedMs >= CONNECT_TIMEOUT_MS - 100) return sourceError(read, `cannot connect (timed out after ${CONNECT_TIMEOUT_MS / 1000} s)`);
  if (isServerError(err)) return sourceError(read, `cannot connect (${serverMessage(err)})`);
  return sourceError(read, cannotConnect(err));
}

function queryError(read: SqlRead, err: unknown): SourceError {
  if (isServerError(err)) {
    if (read.table !== undefined && err.code === 'ER_NO_SUCH_TABLE') return sourceError(read, `table "${read.table}" does not exist`);
    return sourceError(read, `SQL error: ${serverMessage(err)}`);
  }
  return sourceError(read, `connection lost (${messageOf(err)})`);
}

function connect(conn: mysql.Connection): Promise<void> {
  return new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
}

function run(conn: mysql.Connection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => conn.query(sql, (err) => (err ? reject(err) : resolve())));
}

function end(conn: mysql.Connection): Promise<void> {
  return new Promise((resolve) => conn.end(() => resolve()));
}

/**
 * Runs `read.sql` on the server at `uri` (expanded, with its password), chunk by chunk. `database` is
 * the URL's database, for messages.
 */
export async function* readMysql(uri: string, database: string | undefined, read: SqlRead): AsyncGenerator<RawChunk> {
  const conn = (load('mysql2') as typeof mysql).createConnection({
    uri,
    connectTimeout: CONNECT_TIMEOUT_MS,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    jsonStrings: true,
    dateStrings: false,
    timezone: 'Z',
  });
  // Fatal errors also reach the pending command; this keeps the event from being unhandled.
  conn.on('error', () => {});
  const started = Date.now();
  try {
    await connect(conn);
    // TIMESTAMP values are sent in the session's time zone; read them (and DATETIMEs, via `timezone`) as UTC.
    await run(conn, "SET time_zone = '+00:00'");
  } catch (err) {
    conn.destroy();
    throw mysqlConnectError(read, database, err, Date.now() - started);
  }

  let done = false;
  const stream = conn.query({ sql: read.sql, rowsAsArray: true }).stream({ highWaterMark: Math.min(read.chunkRows, 10_000) });
  let fields: FieldPacket[] = [];
  stream.on('fields', (f: FieldPacket[]) => {
    fields = f;
  });
  // A connection lost mid-query (the server restarted, KILL, a network cut) does not always reach the
  // row stream: it would wait forever (the process then ends with nothing said). End it with the error.
  const lost = (err?: unknown): void => {
    if (!done && !stream.destroyed) stream.destroy(err instanceof Error ? err : new Error('the server closed the connection'));
  };
  conn.on('error', lost);
  conn.on('end', () => lost());
  try {
    const rows = stream[Symbol.asyncIterator]();
    let columns: string[] | undefined;
    const columnsOf = (): string[] => {
      if (columns === undefined) {
        columns = uniqueColumns(fields.map((f) => f.name), read.name, read.warnings);
        fields.forEach((f, i) => {
          const t = mysqlDeclaredType(f);
          if (t) read.declared[columns![i]!] = t;
        });
      }
      return columns;
    };
    let chunk: RawValue[][] = [];
    let yielded = false;
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await rows.next();
      } catch (err) {
        throw queryError(read, err);
      }
      if (next.done) break;
      // A statement that returns no rows (an UPDATE) yields its OK packet; there is nothing to read.
      if (!Array.isArray(next.value)) continue;
      const raw = next.value as unknown[];
      const cols = columnsOf();
      chunk.push(raw.map((v, i) => mysqlValue(v, fields[i] ?? { name: cols[i] ?? '' })));
      if (chunk.length >= read.chunkRows) {
        yield { columns: cols, rows: chunk };
        yielded = true;
        chunk = [];
      }
    }
    // An empty result still yields one chunk, so the consumer learns the columns.
    if (chunk.length > 0 || !yielded) yield { columns: columnsOf(), rows: chunk };
    done = true;
  } finally {
    // Read to the end: say goodbye. Broken off early or failed: the server may still be sending rows,
    // so drop the connection.
    if (done) await withTimeout(end(conn), 2000);
    stream.destroy();
    conn.destroy();
  }
}
