/**
 * `mlpipe predict` into an SQL table (PostgreSQL, MySQL/MariaDB, SQLite), chunk by chunk.
 *
 * The URL is read as `mlpipe load` reads it (sql.ts: `${NAME}` from the environment, secrets scrubbed
 * from every message). The table's columns, in order: the id column (when given), `input_row` (the
 * 1-based input row), `prediction`, one `proba_<label>` per class, and `error` (with bad rows written).
 * A missing table is created; an existing one is appended to, once it is known to have every column
 * written. Everything is written in one transaction that `finish` commits: an error, `abort` or a killed
 * process leaves the table as it was (MySQL commits DDL at once, so there the sink creates the table
 * before the transaction and `abort` drops it again).
 *
 * Column types: `input_row` BIGINT; `proba_*` double; `prediction` double for regression, and for a
 * classifier boolean when every label is a boolean, double when every label is a number, else text;
 * `error` text. The id column's type is chosen from the first chunk's ids (all integers: BIGINT, all
 * numbers: double, all booleans: boolean, else text); a later id that does not fit is converted when
 * that is exact (the text `12` into BIGINT) and is otherwise a DataError naming its row.
 */
import { existsSync, rmSync } from 'node:fs';
import { ConfigError, DataError, quoteText } from '../errors.js';
import { oneLine, withTimeout } from '../data/sources/sql-common.js';
import { quoteTable, resolveSqlUrl, type ResolvedSqlUrl, type SqlDialect } from '../data/sources/sql.js';
import type { PredictionSink, ScoredChunk, SinkColumns } from './sink.js';
import { openSinkConnection, type SinkConnection, type SinkContext, type SqlParam } from './sql-sink-connections.js';
import { firstIdKind, fit, type Kind, predictionKindOf, textOf } from './column-kinds.js';

/** What the sink needs to write into a table. */
export interface SqlSinkOptions {
  /** The database URL as `mlpipe load` takes it (`postgres://…`, `mysql://…`, `sqlite:file.db`, `file.db`), `${NAME}` allowed. */
  url: string;
  /** The table to create or append to; `schema.table` is quoted part by part. */
  table: string;
  /** Where `${NAME}` in the URL is read from. */
  env: NodeJS.ProcessEnv;
  /** The columns to write. */
  columns: SinkColumns;
}

/** What differs between the databases, in one place. */
interface DialectFacts {
  quote: string;
  /** Longest identifier (PostgreSQL silently cuts longer names: the sink refuses them instead). */
  maxName?: { database: string; length: number; unit: 'bytes' | 'characters'; of: (name: string) => number };
  /** Column names are equal regardless of case. */
  foldCase: boolean;
  /** Most parameters one INSERT may carry. */
  maxParams: number;
  types: Record<Kind, string>;
  begin: string;
  /** DDL commits the open transaction: create the table before BEGIN, drop it in `abort`. */
  ddlCommits: boolean;
  /** Appended to CREATE TABLE. */
  tableOptions: string;
  placeholder: (n: number) => string;
}

const DIALECTS: Record<SqlDialect, DialectFacts> = {
  postgres: {
    quote: '"',
    maxName: { database: 'PostgreSQL', length: 63, unit: 'bytes', of: (name) => Buffer.byteLength(name, 'utf8') },
    foldCase: false,
    maxParams: 65_535,
    types: { bigint: 'BIGINT', double: 'DOUBLE PRECISION', boolean: 'BOOLEAN', text: 'TEXT' },
    begin: 'BEGIN',
    ddlCommits: false,
    tableOptions: '',
    placeholder: (n) => `$${n}`,
  },
  mysql: {
    quote: '`',
    maxName: { database: 'MySQL', length: 64, unit: 'characters', of: (name) => [...name].length },
    foldCase: true,
    maxParams: 65_535,
    types: { bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', text: 'TEXT' },
    begin: 'START TRANSACTION',
    ddlCommits: true,
    // Transactions need InnoDB; utf8mb4 so that any label or id text fits.
    tableOptions: ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    placeholder: () => '?',
  },
  sqlite: {
    quote: '"',
    foldCase: true,
    maxParams: 32_766,
    types: { bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', text: 'TEXT' },
    // Takes the write lock now rather than at the first INSERT.
    begin: 'BEGIN IMMEDIATE',
    ddlCommits: false,
    tableOptions: '',
    placeholder: () => '?',
  },
};

/** Rows per INSERT at most (fewer when the columns times the rows would pass the dialect's parameter limit). */
const BATCH_ROWS = 1000;

/** Writes predictions into an SQL table; see the module comment and {@link sqlSink}. */
class SqlSink implements PredictionSink {
  readonly name: string;
  private readonly target: ResolvedSqlUrl;
  private readonly facts: DialectFacts;
  private readonly ctx: SinkContext;
  private readonly quotedTable: string;
  /** The columns written, in order, with their types (`id`: chosen at the first chunk). */
  private readonly plan: { name: string; kind: Kind | 'id'; notNull?: boolean }[];
  private readonly names: string[];
  private readonly predictionKind: Kind;
  /** Rows per INSERT. */
  private readonly batchRows: number;
  private readonly insertSql = new Map<number, string>();
  private idKind: Kind | undefined;

  private conn: SinkConnection | undefined;
  private opening: Promise<void> | undefined;
  private inTransaction = false;
  /** This sink created the table (MySQL: before the transaction, so `abort` drops it). */
  private createdTable = false;
  /** This sink created the SQLite file (`abort` removes it). */
  private createdFile = false;
  private state: 'writing' | 'committed' | 'aborted' = 'writing';

  constructor(private readonly options: SqlSinkOptions) {
    this.target = resolveSqlUrl(options.url, options.env);
    this.facts = DIALECTS[this.target.dialect];
    const { table, columns } = options;
    const where = this.target.name;
    if (table.trim() === '') throw new ConfigError(`${where}: give the table to write the predictions into`, [{ path: 'table', message: 'no table' }]);
    this.name = `${where}, table ${quoteText(table)}`;
    this.ctx = { name: this.name, secrets: this.target.secrets };

    const quoted = quoteTable(table, this.target.dialect);
    if (quoted.sql === undefined) {
      const problem = `table name ${quoteText(table)} ${quoted.problem}; choose another name`;
      throw new ConfigError(`${where}: ${oneLine(problem)}`, [{ path: 'table', message: problem }]);
    }
    this.quotedTable = quoted.sql;
    for (const part of table.split('.')) this.checkLength(part, 'table name', 'table');

    this.predictionKind = predictionKindOf(columns);
    this.plan = [
      ...(columns.id !== undefined ? [{ name: columns.id, kind: 'id' as const }] : []),
      { name: 'input_row', kind: 'bigint', notNull: true },
      { name: 'prediction', kind: this.predictionKind },
      ...columns.classes.map((c) => ({ name: `proba_${c}`, kind: 'double' as const })),
      ...(columns.withErrors ? [{ name: 'error', kind: 'text' as const }] : []),
    ];
    this.names = this.plan.map((c) => c.name);
    const seen = new Map<string, string>();
    for (const name of this.names) {
      if (name.includes('\0'))
        throw new ConfigError(`${this.name}: column name ${quoteText(name)} contains a NUL character`, [{ path: 'columns', message: 'NUL' }]);
      this.checkLength(name, 'column name', 'columns');
      const key = this.fold(name);
      const other = seen.get(key);
      if (other !== undefined) {
        const same = other === name ? 'twice' : `and ${quoteText(other)}, which the database takes for the same name`;
        const problem = `the column ${quoteText(name)} would be written ${same}${columns.id !== undefined ? '; rename the id column' : ''}`;
        throw new ConfigError(`${this.name}: ${problem}`, [{ path: 'columns', message: problem }]);
      }
      seen.set(key, name);
    }

    this.batchRows = Math.max(1, Math.min(BATCH_ROWS, Math.floor(this.facts.maxParams / this.names.length)));
  }

  /** A ConfigError when `name` is longer than the dialect allows (never cut silently, as PostgreSQL would). */
  private checkLength(name: string, what: string, path: string): void {
    const max = this.facts.maxName;
    if (max === undefined || max.of(name) <= max.length) return;
    const problem = `${what} ${quoteText(name)} is ${max.of(name)} ${max.unit} long; ${max.database} allows at most ${max.length}`;
    throw new ConfigError(`${this.name}: ${problem}`, [{ path, message: problem }]);
  }

  private fold(name: string): string {
    return this.facts.foldCase ? name.toLowerCase() : name;
  }

  private quote(name: string): string {
    const q = this.facts.quote;
    return `${q}${name.split(q).join(q + q)}${q}`;
  }

  async write(chunk: ScoredChunk): Promise<void> {
    if (this.state !== 'writing') throw new Error(`${this.name}: write after the sink was ${this.state}`);
    this.idKind ??= this.firstIdKind(chunk);
    // Rows first: an id that does not fit fails before anything is written.
    const rows = this.rowsOf(chunk);
    this.opening ??= this.open();
    await this.opening;
    for (let start = 0; start < rows.length; start += this.batchRows) {
      const batch = rows.slice(start, start + this.batchRows);
      await this.conn!.run(this.insert(batch.length), batch.flat());
    }
  }

  async finish(): Promise<void> {
    if (this.state !== 'writing') throw new Error(`${this.name}: finish after the sink was ${this.state}`);
    // No chunk at all (an empty input): the table is still created, empty.
    this.idKind ??= 'text';
    this.opening ??= this.open();
    await this.opening;
    await this.conn!.run('COMMIT');
    this.state = 'committed';
    await this.conn!.close();
  }

  async abort(): Promise<void> {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    try {
      await this.opening?.catch(() => {});
      const conn = this.conn;
      if (conn === undefined) return;
      if (this.inTransaction)
        await withTimeout(
          conn.run('ROLLBACK').catch(() => {}),
          5000,
        );
      if (this.createdTable && this.facts.ddlCommits)
        await withTimeout(
          conn.run(`DROP TABLE ${this.quotedTable}`).catch(() => {}),
          5000,
        );
      await conn.close();
      if (this.createdFile) {
        for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${this.target.path!}${suffix}`, { force: true });
      }
    } catch {
      // abort never throws: it runs while another error is reported.
    }
  }

  /** The first chunk's ids, good rows and bad, decide the id column's type. */
  private firstIdKind(chunk: ScoredChunk): Kind {
    return firstIdKind(this.options.columns, chunk);
  }

  /** Connects, creates the table or checks the existing one, and begins the transaction. */
  private async open(): Promise<void> {
    const fresh = this.target.dialect === 'sqlite' && !existsSync(this.target.path!);
    const conn = await openSinkConnection(this.target, this.ctx);
    this.conn = conn;
    this.createdFile = fresh;
    const existing = await conn.columnsOf(this.quotedTable);
    if (existing !== undefined) this.checkColumns(existing);
    const create = `CREATE TABLE ${this.quotedTable} (${this.definitions()})${this.facts.tableOptions}`;
    if (existing === undefined && this.facts.ddlCommits) {
      await conn.run(create);
      this.createdTable = true;
    }
    await conn.run(this.facts.begin);
    this.inTransaction = true;
    if (existing === undefined && !this.facts.ddlCommits) {
      await conn.run(create);
      this.createdTable = true;
    }
  }

  private definitions(): string {
    return this.plan
      .map(({ name, kind, notNull }) => `${this.quote(name)} ${this.facts.types[kind === 'id' ? this.idKind! : kind]}${notNull ? ' NOT NULL' : ''}`)
      .join(', ');
  }

  /** A ConfigError unless the existing table has every column the sink writes. */
  private checkColumns(existing: readonly string[]): void {
    const has = new Set(existing.map((c) => this.fold(c)));
    const missing = this.names.filter((n) => !has.has(this.fold(n)));
    if (missing.length === 0) return;
    const list = (names: readonly string[]): string => {
      const shown = names.slice(0, 20).map((n) => quoteText(n));
      return names.length > 20 ? `${shown.join(', ')} and ${names.length - 20} more` : shown.join(', ');
    };
    const problem =
      `the table ${quoteText(this.options.table)} exists without the column${missing.length === 1 ? '' : 's'} ${list(missing)} ` +
      `(it has ${existing.length === 0 ? 'no columns' : list(existing)}); write to a new table, or add the missing columns`;
    throw new ConfigError(`${this.target.name}: ${problem}`, [{ path: 'table', message: problem }]);
  }

  /** `INSERT INTO t (…) VALUES (…), …` for `rows` rows. */
  private insert(rows: number): string {
    let sql = this.insertSql.get(rows);
    if (sql === undefined) {
      const width = this.names.length;
      const values: string[] = [];
      for (let r = 0; r < rows; r++) {
        const cells: string[] = [];
        for (let c = 1; c <= width; c++) cells.push(this.facts.placeholder(r * width + c));
        values.push(`(${cells.join(', ')})`);
      }
      sql = `INSERT INTO ${this.quotedTable} (${this.names.map((n) => this.quote(n)).join(', ')}) VALUES ${values.join(', ')}`;
      if (this.insertSql.size >= 4) this.insertSql.clear();
      this.insertSql.set(rows, sql);
    }
    return sql;
  }

  /** The chunk's rows as parameters, in input order: good rows with their prediction, bad rows with their error. */
  private rowsOf(chunk: ScoredChunk): SqlParam[][] {
    const { id, classes, labels, task, withErrors } = this.options.columns;
    const k = classes.length;
    const { values, proba } = chunk.outputs;
    const rows: SqlParam[][] = [];
    let g = 0;
    for (let i = 0; i < chunk.size; i++) {
      const inputRow = chunk.first + i;
      const good = chunk.good[g] === i;
      const bad = good ? undefined : chunk.bad.get(i);
      // A row in neither list was left out (`--on-bad-row skip`).
      if (!good && bad === undefined) continue;
      const record = good ? chunk.records[g] : bad!.record;
      const row: SqlParam[] = [];
      if (id !== undefined) row.push(this.idParam(record?.[id], inputRow, id));
      row.push(inputRow);
      if (good) {
        const value = values[g]!;
        row.push(task === 'regression' ? value : this.labelParam(labels[value]));
        for (let c = 0; c < k; c++) row.push(proba[g * k + c]!);
        if (withErrors) row.push(null);
        g++;
      } else {
        row.push(null);
        for (let c = 0; c < k; c++) row.push(null);
        if (withErrors) row.push(bad!.error);
      }
      rows.push(row);
    }
    return rows;
  }

  private labelParam(label: string | number | boolean | undefined): SqlParam {
    if (label === undefined) return null;
    return this.predictionKind === 'text' ? String(label) : label;
  }

  private idParam(value: unknown, row: number, id: string): SqlParam {
    const kind = this.idKind!;
    const param = fit(kind, value);
    if (param !== undefined) return param;
    const type = this.facts.types[kind];
    throw new DataError(
      { source: this.name, row, column: id },
      `the id ${quoteText(textOf(value))} does not fit the column's type ${type} (chosen from the first rows' ids); ` +
        `write every id as text, e.g. cast it in the query that reads the input (CAST(${id} AS TEXT))`,
    );
  }
}

/**
 * A {@link PredictionSink} writing into the SQL table `table` of the database at `url`; see the module
 * comment for the columns, their types and the transaction. Nothing is connected until the first
 * write (or `finish`, which creates the table even when no chunk came).
 *
 * @throws ConfigError at once for a URL mlpipe cannot use (an unset `${NAME}`, an unknown scheme), a
 *   table name it cannot quote, a column name longer than the database allows (PostgreSQL 63 bytes,
 *   MySQL 64 characters) or two columns the database would take for one. `write` throws a ConfigError
 *   when the existing table lacks a column, a DataError for an id that does not fit its column's type,
 *   and a one-line SourceError (the redacted URL and the table, no secret) when the database cannot be
 *   reached or refuses a statement.
 */
export function sqlSink(options: SqlSinkOptions): PredictionSink {
  return new SqlSink(options);
}
