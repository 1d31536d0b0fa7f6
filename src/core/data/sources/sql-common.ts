/**
 * What the three SQL drivers (sql-postgres.ts, sql-mysql.ts, sql-sqlite.ts) share: the read context
 * sql.ts hands them and the one-line, secret-free error messages they build.
 */
import { messageOf } from '../../errors.js';
import type { ColumnType } from '../../values.js';
import { SourceError } from './errors.js';
import { scrubSecrets } from './redact.js';
import { cleanHeader } from '../files.js';

/** Connection timeout of the network drivers. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** One read of an SQL source, as sql.ts prepares it for a driver. */
export interface SqlRead {
  /** The source's name in messages (the URL as written, redacted). */
  readonly name: string;
  /** Values to scrub from every message (expanded environment values, the URL's password). */
  readonly secrets: readonly string[];
  /** The SQL to run: the query as given, or `SELECT * FROM <quoted table>`. */
  readonly sql: string;
  /** The table as given, when the source reads a table (for the "does not exist" message). */
  readonly table?: string;
  /** Rows per yielded chunk. */
  readonly chunkRows: number;
  /** Filled by the driver with the declared column types, before its first chunk. */
  readonly declared: Record<string, ColumnType>;
  /** Warnings (renamed duplicate columns). */
  readonly warnings: string[];
}

/** Makes a text one line: line breaks and the blanks around them become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The SourceError for a problem with this read: one line, naming the source, secrets scrubbed. */
export function sourceError(read: Pick<SqlRead, 'name' | 'secrets'>, problem: string): SourceError {
  return new SourceError(read.name, scrubSecrets(oneLine(problem), read.secrets));
}

/** The system error code of a failed connection (`ECONNREFUSED`), looking inside an AggregateError. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const e of inner) {
      const c = errorCode(e);
      if (c) return c;
    }
  }
  return undefined;
}

/** `cannot connect (ECONNREFUSED)`, or with the library's words when there is no system code. */
export function cannotConnect(err: unknown): string {
  const code = errorCode(err);
  return code && /^E[A-Z0-9_]+$/.test(code) ? `cannot connect (${code})` : `cannot connect (${messageOf(err)})`;
}

/** `line 2, column 7` for a 1-based character position in a query. */
export function positionText(sql: string, position: number): string {
  const before = [...sql].slice(0, Math.max(0, position - 1)).join('');
  const lines = before.split('\n');
  return `line ${lines.length}, column ${[...(lines[lines.length - 1] ?? '')].length + 1}`;
}

/**
 * Column names safe to use as dataset columns: a blank name becomes `unnamed_<n>` and a repeated name
 * (`SELECT a.id, b.id`, pg's `?column?`) gets a `_2`, `_3` suffix, each with a warning, as for a CSV
 * header.
 */
export function uniqueColumns(names: readonly string[], source: string, warnings: string[]): string[] {
  return cleanHeader([...names], source, warnings);
}

/** Resolves with `promise`, or with undefined after `ms` (a clean-up step that must not hang). */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
