/**
 * SQL database sources: a query or a table read from PostgreSQL, MySQL/MariaDB or an SQLite file.
 *
 * The URL picks the driver:
 * - `postgres://user:pass@host:5432/db` or `postgresql://…`: pg with a server-side cursor (sql-postgres.ts);
 * - `mysql://user:pass@host:3306/db` or `mariadb://…`: mysql2, streamed (sql-mysql.ts);
 * - `sqlite:relative/file.db`, `sqlite:///abs/file.db`, or a plain path ending `.db`, `.sqlite`,
 *   `.sqlite3`: better-sqlite3, read-only (sql-sqlite.ts).
 *
 * `${NAME}` anywhere in the URL is read from the environment; in the `user:password@` part the value is
 * percent-encoded, so `PGPASSWORD` holds the password as it is. An unset variable is a ConfigError
 * naming it. Every value read from the environment and the URL's password are scrubbed from every
 * message, and the source's `name` is the URL as written, redacted, so a password never shows in a
 * message, in `name` or in `lineage()`.
 *
 * A `table` is read as `SELECT * FROM <table>`, quoted as an identifier in the dialect's quoting; a
 * dotted name (`schema.table`) is quoted part by part. Column types come from the database
 * (sql-types.ts has the mapping table).
 */
import { ConfigError } from '../../errors.js';
import type { ColumnType } from '../../values.js';
import { expandEnv, redactUrl, scrubSecrets } from './redact.js';
import { readMysql } from './sql-mysql.js';
import { readPostgres } from './sql-postgres.js';
import { readSqlite, type SqliteFileInfo } from './sql-sqlite.js';
import { oneLine, type SqlRead } from './sql-common.js';
import type { RawChunk, RecordSource, SourceLineage, SqlSourceSpec } from './types.js';
import { readOnce } from './once.js';
import { dict } from '../../records/dict.js';

/** The SQL dialects mlpipe reads and writes. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';

const DEFAULT_PORT: Record<'postgres' | 'mysql', number> = { postgres: 5432, mysql: 3306 };

const SUPPORTED = 'postgres://, postgresql://, mysql://, mariadb://, sqlite:<path>, or a path ending .db, .sqlite or .sqlite3';

/** The URL as written, redacted, with `${NAME}` references left readable. */
function displayName(written: string): string {
  return redactUrl(written).replace(/\$%7B([A-Za-z_][A-Za-z0-9_]*)%7D/g, '${$1}');
}

function dialectOf(url: string): SqlDialect | undefined {
  const lower = url.trim().toLowerCase();
  if (/^postgres(ql)?:\/\//.test(lower)) return 'postgres';
  if (/^(mysql|mariadb):\/\//.test(lower)) return 'mysql';
  if (lower.startsWith('sqlite:')) return 'sqlite';
  if (!/^[a-z][a-z0-9+.-]*:\/\//.test(lower) && /\.(db|sqlite|sqlite3)$/.test(lower)) return 'sqlite';
  return undefined;
}

/**
 * Expands `${NAME}` in a URL. Values inside `scheme://user:password@` are percent-encoded; the
 * secrets returned include both forms.
 */
function expandUrl(written: string, env: NodeJS.ProcessEnv): { value: string; secrets: string[]; missing: string[] } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*@)(.*)$/s.exec(written);
  if (!m) return expandEnv(written, env);
  const encoded: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) encoded[k] = encodeURIComponent(v);
  const user = expandEnv(m[2]!, encoded);
  const rest = expandEnv(m[3]!, env);
  const raw = expandEnv(m[2]!, env);
  return {
    value: m[1]! + user.value + rest.value,
    secrets: [...raw.secrets, ...user.secrets, ...rest.secrets],
    missing: [...new Set([...user.missing, ...rest.missing])],
  };
}

/** `sqlite:rel.db` → `rel.db`, `sqlite:///abs.db` → `/abs.db`, a plain path → itself. */
function sqlitePath(url: string): string {
  if (!url.toLowerCase().startsWith('sqlite:')) return url;
  const rest = url.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

/**
 * A table name quoted as an identifier in the dialect's quoting (`schema.table` part by part), or the
 * problem that keeps it from being quoted (a quote character, NUL, an empty part).
 */
export function quoteTable(table: string, dialect: SqlDialect): { sql?: string; problem?: string } {
  const quote = dialect === 'mysql' ? '`' : '"';
  if (table.includes('\0')) return { problem: 'contains a NUL character' };
  if (table.includes(quote)) return { problem: `contains the quote character ${quote}` };
  const parts = table.split('.');
  if (parts.some((p) => p.trim() === '')) return { problem: 'has an empty part' };
  return { sql: parts.map((p) => `${quote}${p}${quote}`).join('.') };
}

/** A database URL as written, resolved: what the drivers connect to and what messages may show. */
export interface ResolvedSqlUrl {
  dialect: SqlDialect;
  /** The URL with `${NAME}` expanded (holds the password: never show it). */
  url: string;
  /** The URL as written, redacted, with `${NAME}` references left readable: the name in messages. */
  name: string;
  /** Values to scrub from every message: the expanded environment values and the URL's password, raw and decoded. */
  secrets: string[];
  /** `host:port` of a server (the dialect's default port when the URL has none). */
  host?: string;
  /** The URL's database, decoded, when it names one. */
  database?: string;
  /** The SQLite file. */
  path?: string;
}

/**
 * Resolves a database URL as `mlpipe load` takes it (see the module comment): expands `${NAME}` from
 * `env`, picks the dialect, and finds the host, database or SQLite file. Throws a ConfigError (at
 * config path `url`, its message naming the redacted URL, no secret in it) for an unset variable, a
 * URL of no dialect mlpipe knows, an SQLite URL without a file, or a server URL that does not parse.
 */
export function resolveSqlUrl(written: string, env: NodeJS.ProcessEnv): ResolvedSqlUrl {
  const name = displayName(written);
  const expanded = expandUrl(written, env);
  if (expanded.missing.length > 0) {
    const vars = expanded.missing.join(', ');
    const problem = expanded.missing.length === 1 ? `environment variable ${vars} is not set` : `environment variables ${vars} are not set`;
    throw new ConfigError(`${name}: ${problem} (it is used in the database URL)`, [{ path: 'url', message: problem }]);
  }
  const url = expanded.value.trim();
  const secrets = [...expanded.secrets];
  const dialect = dialectOf(url);
  if (!dialect) {
    const problem = `not a database URL mlpipe knows; use ${SUPPORTED}`;
    throw new ConfigError(scrubSecrets(`${name}: ${problem}`, secrets), [{ path: 'url', message: problem }]);
  }

  if (dialect === 'sqlite') {
    const path = sqlitePath(url);
    if (path === '') throw new ConfigError(`${name}: the SQLite URL names no file`, [{ path: 'url', message: 'no file' }]);
    return { dialect, url, name, secrets, path };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${name}: not a valid URL`, [{ path: 'url', message: 'not a valid URL' }]);
  }
  if (parsed.password) {
    secrets.push(parsed.password);
    try {
      secrets.push(decodeURIComponent(parsed.password));
    } catch {
      // A malformed escape: the raw form is scrubbed already.
    }
  }
  const host = `${parsed.hostname || 'localhost'}:${parsed.port || DEFAULT_PORT[dialect]}`;
  let database: string | undefined;
  try {
    database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined;
  } catch {
    database = parsed.pathname.replace(/^\//, '') || undefined;
  }
  return { dialect, url, name, secrets, host, ...(database !== undefined ? { database } : {}) };
}

/** Reads a query or a table from an SQL database; see the module comment. */
export function sqlSource(spec: SqlSourceSpec, env: NodeJS.ProcessEnv): RecordSource {
  const name = displayName(spec.url);
  const hasQuery = typeof spec.query === 'string' && spec.query.trim() !== '';
  const hasTable = typeof spec.table === 'string' && spec.table !== '';
  if (hasQuery === hasTable) {
    const problem = hasQuery ? 'give either a query or a table, not both' : 'give a query or a table to read';
    throw new ConfigError(`${name}: ${problem}`, [{ path: hasQuery ? 'table' : 'query', message: problem }]);
  }
  const { dialect, url, secrets, host, database, path } = resolveSqlUrl(spec.url, env);

  let sql: string;
  if (hasTable) {
    const quoted = quoteTable(spec.table!, dialect);
    if (quoted.sql === undefined) {
      const problem = `table name ${JSON.stringify(spec.table)} ${quoted.problem}; read it with a query instead`;
      throw new ConfigError(`${name}: ${oneLine(problem)}`, [{ path: 'table', message: problem }]);
    }
    sql = `SELECT * FROM ${quoted.sql}`;
  } else {
    sql = spec.query!;
  }

  const warnings: string[] = [];
  const declared = dict<ColumnType>();
  const file: SqliteFileInfo = {};
  let rows = 0;

  const chunks = readOnce(name, async function* (chunkRows: number): AsyncGenerator<RawChunk> {
    const read: SqlRead = {
      name,
      secrets,
      sql,
      ...(hasTable ? { table: spec.table! } : {}),
      chunkRows,
      declared,
      warnings,
    };
    const source =
      dialect === 'postgres' ? readPostgres(url, read) : dialect === 'mysql' ? readMysql(url, database, read) : readSqlite(path!, read, file);
    for await (const chunk of source) {
      rows += chunk.rows.length;
      yield chunk;
    }
  }, 1000);

  return {
    name,
    warnings,
    declaredTypes: () => dict(Object.entries(declared)),
    chunks,
    lineage(): SourceLineage {
      const what = hasTable ? { table: spec.table! } : { query: sql };
      if (dialect === 'sqlite') return { kind: 'sqlite', path: path!, ...(file.bytes !== undefined ? { bytes: file.bytes } : {}), ...what, rows };
      return { kind: dialect, host: host!, ...(database !== undefined ? { database } : {}), ...what, rows };
    },
  };
}
