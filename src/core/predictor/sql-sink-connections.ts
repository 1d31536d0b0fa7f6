/**
 * The SQL sink's connections: one small interface over pg, mysql2 and better-sqlite3 (statements with
 * parameters, the columns of a table, close), with the source drivers' error wording (sql-postgres.ts,
 * sql-mysql.ts, sql-sqlite.ts). Drivers are loaded when a sink first writes, as the sources load them.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { messageOf } from '../errors.js';
import type { SourceError } from '../data/sources/errors.js';
import { CONNECT_TIMEOUT_MS, sourceError, withTimeout } from '../data/sources/sql-common.js';
import { isServerError, mysqlConnectError, serverMessage } from '../data/sources/sql-mysql.js';
import { postgresConnectError } from '../data/sources/sql-postgres.js';
import { sqliteOpenProblem } from '../data/sources/sql-sqlite.js';
import type { ResolvedSqlUrl } from '../data/sources/sql.js';

const load = createRequire(import.meta.url);

/** A parameter value: what the sink writes (booleans become 0/1 where the database has no boolean). */
export type SqlParam = string | number | bigint | boolean | null;

/** An open connection of the sink. Every failure is a one-line SourceError without secrets. */
export interface SinkConnection {
  /** The column names of the table `quoted` (an identifier as quoted for the dialect), or undefined when it does not exist. */
  columnsOf(quoted: string): Promise<string[] | undefined>;
  /** Runs one statement; `?` (MySQL, SQLite) or `$n` (PostgreSQL) placeholders take `params`. */
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /** Closes the connection; never throws. */
  close(): Promise<void>;
}

/** How messages name the sink, and what they must not show. */
export interface SinkContext {
  readonly name: string;
  readonly secrets: readonly string[];
}

/** Opens a connection to the database of `target`; see {@link SinkConnection}. */
export async function openSinkConnection(target: ResolvedSqlUrl, ctx: SinkContext): Promise<SinkConnection> {
  if (target.dialect === 'postgres') return openPostgres(target.url, ctx);
  if (target.dialect === 'mysql') return openMysql(target.url, target.database, ctx);
  return openSqlite(target.path!, ctx);
}

/** SQLSTATE of `SELECT … FROM` a table that does not exist. */
const PG_UNDEFINED_TABLE = '42P01';

async function openPostgres(connectionString: string, ctx: SinkContext): Promise<SinkConnection> {
  const lib = load('pg') as typeof pg;
  const client = new lib.Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'mlpipe' });
  // A connection lost later surfaces through the next query; this keeps the event from being unhandled.
  client.on('error', () => {});
  const started = Date.now();
  try {
    await client.connect();
  } catch (err) {
    await withTimeout(
      client.end().catch(() => {}),
      2000,
    );
    throw postgresConnectError(ctx, err, Date.now() - started);
  }
  const failure = (err: unknown): SourceError =>
    err instanceof lib.DatabaseError ? sourceError(ctx, `SQL error: ${err.message}`) : sourceError(ctx, `connection lost (${messageOf(err)})`);
  return {
    async columnsOf(quoted) {
      try {
        const result = await client.query({ text: `SELECT * FROM ${quoted} WHERE 1 = 0`, rowMode: 'array' });
        return result.fields.map((f) => f.name);
      } catch (err) {
        if (err instanceof lib.DatabaseError && err.code === PG_UNDEFINED_TABLE) return undefined;
        throw failure(err);
      }
    },
    async run(sql, params = []) {
      try {
        await client.query(sql, params as unknown[]);
      } catch (err) {
        throw failure(err);
      }
    },
    async close() {
      await withTimeout(
        client.end().catch(() => {}),
        2000,
      );
    },
  };
}

async function openMysql(uri: string, database: string | undefined, ctx: SinkContext): Promise<SinkConnection> {
  const lib = load('mysql2/promise') as typeof mysql;
  const started = Date.now();
  let conn: mysql.Connection;
  try {
    conn = await lib.createConnection({ uri, connectTimeout: CONNECT_TIMEOUT_MS, supportBigNumbers: true, bigNumberStrings: true });
  } catch (err) {
    throw mysqlConnectError(ctx, database, err, Date.now() - started);
  }
  // Fatal errors also reach the pending command; this keeps the event from being unhandled.
  conn.on('error', () => {});
  const failure = (err: unknown): SourceError =>
    isServerError(err) ? sourceError(ctx, `SQL error: ${serverMessage(err)}`) : sourceError(ctx, `connection lost (${messageOf(err)})`);
  return {
    async columnsOf(quoted) {
      try {
        const [, fields] = await conn.query({ sql: `SELECT * FROM ${quoted} WHERE 1 = 0`, rowsAsArray: true });
        return (fields ?? []).map((f) => f.name);
      } catch (err) {
        if (isServerError(err) && err.code === 'ER_NO_SUCH_TABLE') return undefined;
        throw failure(err);
      }
    },
    async run(sql, params = []) {
      try {
        // Values are escaped by the driver (client-side placeholders: no per-statement parameter limit).
        await conn.query(sql, params as unknown[]);
      } catch (err) {
        throw failure(err);
      }
    },
    async close() {
      await withTimeout(
        conn.end().catch(() => {}),
        2000,
      );
      conn.destroy();
    },
  };
}

function openSqlite(path: string, ctx: SinkContext): SinkConnection {
  const failure = (err: unknown): SourceError => sourceError(ctx, sqliteOpenProblem(err) ?? `SQL error: ${messageOf(err)}`);
  let db: Database.Database;
  try {
    const Sqlite = load('better-sqlite3') as typeof Database;
    // Read-write, the file created when missing.
    db = new Sqlite(path);
  } catch (err) {
    // A missing folder, no permission: better-sqlite3 says why, not always with a code.
    const what = existsSync(path) ? 'cannot open database' : 'cannot create the database file';
    throw sourceError(ctx, `${what} (${messageOf(err)})`);
  }
  const statements = new Map<string, Database.Statement>();
  return {
    async columnsOf(quoted) {
      try {
        return db
          .prepare(`SELECT * FROM ${quoted} WHERE 1 = 0`)
          .columns()
          .map((c) => c.name);
      } catch (err) {
        if (/^no such table\b/.test(messageOf(err))) return undefined;
        throw failure(err);
      }
    },
    async run(sql, params = []) {
      try {
        let stmt = statements.get(sql);
        if (stmt === undefined) {
          // The same INSERT runs for every full batch: prepare it once.
          if (statements.size >= 8) statements.clear();
          stmt = db.prepare(sql);
          statements.set(sql, stmt);
        }
        // SQLite has no boolean type: true and false are stored as 1 and 0.
        stmt.run(params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)));
      } catch (err) {
        throw failure(err);
      }
    },
    async close() {
      try {
        db.close();
      } catch {
        // Closing is best effort.
      }
    },
  };
}
