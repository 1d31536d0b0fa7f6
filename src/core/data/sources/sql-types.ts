/**
 * How SQL databases' column types become mlpipe's, and how their values become {@link RawValue}s.
 *
 * `declaredTypes()` of an SQL source maps each result column's database type (PostgreSQL: the field's
 * type OID; MySQL/MariaDB: the field's column type and length; SQLite: the column's declared type in
 * `CREATE TABLE`, null for an expression) as follows. A column left "undeclared" is typed by inference
 * (category or text, by how many distinct values it has).
 *
 * | mlpipe     | PostgreSQL (OID)                                   | MySQL / MariaDB                                        | SQLite declared type (case-insensitive)      |
 * |------------|----------------------------------------------------|--------------------------------------------------------|----------------------------------------------|
 * | integer    | int2 (21), int4 (23), int8 (20)                    | TINYINT (not (1)), SMALLINT, MEDIUMINT, INT, BIGINT, YEAR, BIT(2..48) | contains `INT` (INTEGER, BIGINT, …)          |
 * | number     | float4 (700), float8 (701), numeric (1700)         | FLOAT, DOUBLE, DECIMAL/NUMERIC                         | contains `REAL`, `FLOA`, `DOUB`, `NUMERIC`, `DEC` |
 * | boolean    | bool (16)                                          | TINYINT(1) (= BOOL/BOOLEAN), BIT(1)                    | contains `BOOL`, or `TINYINT(1)`             |
 * | datetime   | date (1082), timestamp (1114), timestamptz (1184)  | DATE, DATETIME, TIMESTAMP                              | contains `DATE` or `TIMESTAMP`               |
 * | undeclared | text, varchar, char, name, json, jsonb, uuid, enum, time, interval, bytea, arrays, … | CHAR, VARCHAR, TEXT, ENUM, SET, JSON, TIME, BLOB, BINARY, GEOMETRY | TEXT, CHAR, CLOB, JSON, BLOB, none, …        |
 *
 * Values (checked in that order for SQLite: `BOOL` before `DATE`/`TIMESTAMP` before `INT` before the
 * number words):
 * - 64-bit integers (pg int8, MySQL BIGINT, every SQLite integer) are a `number` when they are safe
 *   integers, else their decimal text (never a lossy number).
 * - numeric/DECIMAL are `number` (double precision).
 * - Timestamps and dates are `Date`s. A value without a zone (pg `timestamp`, `date`; MySQL `DATETIME`,
 *   `DATE`; and `TIMESTAMP`, which the session reads in UTC) is read as UTC, as mlpipe reads a zoneless
 *   date in a CSV file. pg's `infinity`/`-infinity` stay text; MySQL's zero date `0000-00-00` is null.
 *   SQLite stores dates as text or numbers; they are passed through and parsed by the loader.
 * - Booleans are `boolean` (pg bool, MySQL TINYINT(1) and BIT(1), SQLite 0/1 in a BOOL column).
 * - json/jsonb/JSON are their JSON text; pg arrays become JSON text; binary values (bytea, BLOB,
 *   VARBINARY) become `\x`-prefixed hex text; other values (time, interval, uuid, enum…) their text.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import type { FieldPacket } from 'mysql2';
import type { ColumnType } from '../../values.js';
import type { RawValue } from './types.js';

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

/** PostgreSQL type OIDs mlpipe knows (pg_type.oid; stable across servers). */
const PG_OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  jsonb: 3802,
} as const;

const PG_DECLARED: ReadonlyMap<number, ColumnType> = new Map<number, ColumnType>([
  [PG_OID.int2, 'integer'],
  [PG_OID.int4, 'integer'],
  [PG_OID.int8, 'integer'],
  [PG_OID.float4, 'number'],
  [PG_OID.float8, 'number'],
  [PG_OID.numeric, 'number'],
  [PG_OID.bool, 'boolean'],
  [PG_OID.date, 'datetime'],
  [PG_OID.timestamp, 'datetime'],
  [PG_OID.timestamptz, 'datetime'],
]);

/** mlpipe's type for a PostgreSQL result column's type OID, or undefined (inference decides). */
export function pgDeclaredType(dataTypeID: number): ColumnType | undefined {
  return PG_DECLARED.get(dataTypeID);
}

const INFINITY_RE = /^-?infinity$/;
const PG_DATE_RE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;
const PG_TIMESTAMP_RE = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?( BC)?$/;

/** A UTC Date from its parts; `bc` years count back from 1 BC = year 0. */
function utcDate(year: number, bc: boolean, month: number, day: number, h = 0, m = 0, s = 0, ms = 0): Date {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years 0..99 as written.
  d.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
  d.setUTCHours(h, m, s, ms);
  return d;
}

/** A pg `date` (`2024-03-05`, `0044-03-15 BC`) as UTC midnight; `infinity` stays text. */
export function parsePgDate(text: string): Date | string {
  const m = PG_DATE_RE.exec(text);
  if (!m) return text;
  return utcDate(Number(m[1]), m[4] !== undefined, Number(m[2]), Number(m[3]));
}

/** A pg `timestamp` (without time zone) read as UTC; `infinity` stays text. */
export function parsePgTimestamp(text: string): Date | string {
  const m = PG_TIMESTAMP_RE.exec(text);
  if (!m) return text;
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return utcDate(Number(m[1]), m[8] !== undefined, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

/** A 64-bit integer's text: a number when it is a safe integer, else the text itself. */
function parseInt64(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

type TextParser = (text: string) => unknown;

const identity: TextParser = (text) => text;

/** `pg`, loaded when first needed (it takes a while to load; most loads read no database). */
const load = createRequire(import.meta.url);

function pgDefaultParser(oid: number): TextParser {
  return (load('pg') as typeof pg).types.getTypeParser(oid, 'text') as TextParser;
}

/** A value from one of pg's default parsers as a RawValue: arrays as JSON text, other objects as the text. */
function fromDefault(parse: TextParser): TextParser {
  return (text) => {
    const v = parse(text);
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? text : v;
    if (Array.isArray(v)) return JSON.stringify(v);
    return text;
  };
}

let timestamptz: TextParser | undefined;

const PG_PARSERS: ReadonlyMap<number, TextParser> = new Map<number, TextParser>([
  [PG_OID.int8, parseInt64],
  [PG_OID.numeric, (text) => Number(text)],
  [PG_OID.date, parsePgDate],
  [PG_OID.timestamp, parsePgTimestamp],
  [PG_OID.timestamptz, (text) => (INFINITY_RE.test(text) ? text : fromDefault((timestamptz ??= pgDefaultParser(PG_OID.timestamptz)))(text))],
  [PG_OID.json, identity],
  [PG_OID.jsonb, identity],
  [PG_OID.bytea, identity],
]);

/**
 * The type parsers an mlpipe pg client uses (set on the client, never globally): the table above,
 * then pg's defaults for the scalars (int2/int4, float, bool) with arrays turned into JSON text, and
 * every other type's text as the server sent it.
 */
export function pgGetTypeParser(oid: number, format?: string): TextParser {
  if (format === 'binary') return pgDefaultParser(oid);
  const own = PG_PARSERS.get(oid);
  if (own) return own;
  return fromDefault(pgDefaultParser(oid));
}

// ---------------------------------------------------------------------------------------------------
// MySQL / MariaDB

/** MySQL protocol column types (include/mysql_com.h `enum_field_types`). */
const MYSQL_TYPE = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  NEWDECIMAL: 246,
} as const;

/** The parts of mysql2's field metadata the mapping reads. */
export type MysqlField = Pick<FieldPacket, 'name' | 'columnType' | 'columnLength' | 'type' | 'length'>;

function mysqlColumnType(f: MysqlField): number | undefined {
  return f.columnType ?? f.type;
}

function mysqlColumnLength(f: MysqlField): number | undefined {
  return f.columnLength ?? f.length;
}

/** True for TINYINT(1) (MySQL's BOOL/BOOLEAN) and BIT(1). */
function mysqlIsBoolean(f: MysqlField): boolean {
  const t = mysqlColumnType(f);
  return (t === MYSQL_TYPE.TINY || t === MYSQL_TYPE.BIT) && mysqlColumnLength(f) === 1;
}

/** mlpipe's type for a MySQL/MariaDB result column, or undefined (inference decides). */
export function mysqlDeclaredType(f: MysqlField): ColumnType | undefined {
  if (mysqlIsBoolean(f)) return 'boolean';
  switch (mysqlColumnType(f)) {
    case MYSQL_TYPE.TINY:
    case MYSQL_TYPE.SHORT:
    case MYSQL_TYPE.LONG:
    case MYSQL_TYPE.INT24:
    case MYSQL_TYPE.LONGLONG:
    case MYSQL_TYPE.YEAR:
      return 'integer';
    case MYSQL_TYPE.BIT:
      return (mysqlColumnLength(f) ?? 64) <= 48 ? 'integer' : undefined;
    case MYSQL_TYPE.FLOAT:
    case MYSQL_TYPE.DOUBLE:
    case MYSQL_TYPE.DECIMAL:
    case MYSQL_TYPE.NEWDECIMAL:
      return 'number';
    case MYSQL_TYPE.DATE:
    case MYSQL_TYPE.NEWDATE:
    case MYSQL_TYPE.DATETIME:
    case MYSQL_TYPE.DATETIME2:
    case MYSQL_TYPE.TIMESTAMP:
    case MYSQL_TYPE.TIMESTAMP2:
      return 'datetime';
    default:
      return undefined;
  }
}

/** Binary bytes as `\x`-prefixed hex text (PostgreSQL's bytea text form). */
function hexText(bytes: Uint8Array): string {
  return `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

/**
 * Converts one value as mysql2 returns it (with `supportBigNumbers`, `decimalNumbers`, `jsonStrings`,
 * UTC dates) to a RawValue for a column of the given field.
 */
export function mysqlValue(v: unknown, f: MysqlField): RawValue {
  if (v === null || v === undefined) return null;
  const t = mysqlColumnType(f);
  if (t === MYSQL_TYPE.BIT && Buffer.isBuffer(v)) {
    if (mysqlColumnLength(f) === 1) return v.length > 0 && v[v.length - 1] !== 0;
    return v.length <= 6 ? (v.length === 0 ? 0 : v.readUIntBE(0, v.length)) : hexText(v);
  }
  if (t === MYSQL_TYPE.TINY && mysqlColumnLength(f) === 1 && typeof v === 'number') return v !== 0;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (Buffer.isBuffer(v)) return hexText(v);
  if (typeof v === 'bigint') return parseInt64(v.toString());
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------------
// SQLite

/** mlpipe's type for an SQLite column's declared type (null for an expression), or undefined. */
export function sqliteDeclaredType(declared: string | null): ColumnType | undefined {
  if (!declared) return undefined;
  const d = declared.toUpperCase().replace(/\s+/g, '');
  if (d.includes('BOOL') || d === 'TINYINT(1)') return 'boolean';
  if (d.includes('DATE') || d.includes('TIMESTAMP')) return 'datetime';
  if (d.includes('INT')) return 'integer';
  if (['REAL', 'FLOA', 'DOUB', 'NUMERIC', 'DEC'].some((w) => d.includes(w))) return 'number';
  return undefined;
}

/**
 * Converts one value as better-sqlite3 returns it (with safe integers on: every integer a bigint) to a
 * RawValue for a column declared as `declared` (booleans stored as 0/1 become booleans).
 */
export function sqliteValue(v: unknown, declared: ColumnType | undefined): RawValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') {
    if (declared === 'boolean') return v !== 0n;
    return parseInt64(v.toString());
  }
  if (typeof v === 'number') return declared === 'boolean' ? v !== 0 : v;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return hexText(v);
  return String(v);
}
