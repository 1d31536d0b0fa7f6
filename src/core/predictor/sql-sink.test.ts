/**
 * The SQL sink against the real servers of this machine (PostgreSQL 127.0.0.1:5432 with trust auth,
 * MariaDB 127.0.0.1:3306 as root with no password, database `test` on both) and SQLite files in a
 * temporary folder. Every test writes its own uniquely named tables and drops them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { ConfigError, DataError } from '../errors.js';
import { SourceError } from '../data/sources/errors.js';
import type { PredictionSink, ScoredChunk, SinkColumns } from './sink.js';
import { sqlSink } from './sql-sink.js';
import { freePort } from '../../test-helpers/http.js';
import { uniqueTable } from '../../test-helpers/sql.js';
import { rejection } from '../../test-helpers/async.js';

const SECRET = 'hunter2secret';
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const MY_URL = 'mysql://root@127.0.0.1:3306/test';
const NO_ENV: NodeJS.ProcessEnv = {};
const HERE = dirname(fileURLToPath(import.meta.url));

/** The error `fn` rejects with (fails the test when it resolves). */
const failure = (fn: () => Promise<unknown>): Promise<Error> => rejection(Promise.resolve().then(fn));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return expect.fail('expected an error');
}

async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One row of a test chunk: a prediction (class index or value, probabilities), a bad row, or null (left out). */
type TestRow = { rec?: Record<string, unknown>; out: number; proba?: number[] } | { rec?: Record<string, unknown>; error: string } | null;

function scored(first: number, rows: TestRow[]): ScoredChunk {
  const good: number[] = [];
  const records: Record<string, unknown>[] = [];
  const values: number[] = [];
  const proba: number[] = [];
  const bad = new Map<number, { record: Record<string, unknown>; error: string }>();
  rows.forEach((r, i) => {
    if (r === null) return;
    if ('error' in r) {
      bad.set(i, { record: r.rec ?? {}, error: r.error });
    } else {
      good.push(i);
      records.push(r.rec ?? {});
      values.push(r.out);
      proba.push(...(r.proba ?? []));
    }
  });
  return { first, size: rows.length, good, records, outputs: { values: Float64Array.from(values), proba: Float64Array.from(proba) }, bad };
}

const PENGUINS: SinkColumns = { classes: ['Adelie', 'Gentoo'], labels: ['Adelie', 'Gentoo'], task: 'classification', id: 'penguin_id', withErrors: false };
const REGRESSION: SinkColumns = { classes: [], labels: [], task: 'regression', withErrors: false };

/** What the tests need of each database: read back a table (booleans as booleans), its column types, run SQL. */
interface TestDb {
  label: string;
  url: string;
  /** Column name → `bigint`, `double`, `boolean` or `text`, in the table's order. */
  types(table: string): Promise<[string, string][]>;
  rows(table: string, orderBy?: string): Promise<Record<string, unknown>[]>;
  exists(table: string): Promise<boolean>;
  exec(sql: string): Promise<void>;
  quote(name: string): string;
  close(): Promise<void>;
}

function pgDb(): TestDb {
  const client = new pg.Client({
    connectionString: PG_URL,
    types: { getTypeParser: ((oid: number, format: 'text') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as never },
  });
  const connected = client.connect();
  const KINDS: Record<string, string> = { bigint: 'bigint', 'double precision': 'double', boolean: 'boolean', text: 'text' };
  return {
    label: 'PostgreSQL',
    url: PG_URL,
    async types(table) {
      await connected;
      const r = await client.query<{ column_name: string; data_type: string }>(
        'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
        [table],
      );
      return r.rows.map((c) => [c.column_name, KINDS[c.data_type] ?? c.data_type]);
    },
    async rows(table, orderBy = 'input_row') {
      await connected;
      return (await client.query(`SELECT * FROM "${table}" ORDER BY "${orderBy}"`)).rows;
    },
    async exists(table) {
      await connected;
      return (await client.query('SELECT to_regclass($1) AS t', [`"${table}"`])).rows[0].t !== null;
    },
    async exec(sql) {
      await connected;
      await client.query(sql);
    },
    quote: (name) => `"${name}"`,
    async close() {
      await client.end();
    },
  };
}

function myDb(): TestDb {
  const conn = mysql.createConnection({ uri: MY_URL, supportBigNumbers: true });
  const KINDS: Record<string, string> = { bigint: 'bigint', double: 'double', tinyint: 'boolean', text: 'text' };
  const db: TestDb = {
    label: 'MariaDB',
    url: MY_URL,
    async types(table) {
      const [rows] = await (
        await conn
      ).query(
        'SELECT COLUMN_NAME AS c, DATA_TYPE AS t FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ORDINAL_POSITION',
        [table],
      );
      return (rows as { c: string; t: string }[]).map((r) => [r.c, KINDS[r.t] ?? r.t]);
    },
    async rows(table, orderBy = 'input_row') {
      const types = await db.types(table);
      const [rows] = await (await conn).query(`SELECT * FROM \`${table}\` ORDER BY \`${orderBy}\``);
      return (rows as Record<string, unknown>[]).map((r) => withBooleans(r, types));
    },
    async exists(table) {
      const [rows] = await (
        await conn
      ).query('SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [table]);
      return Number((rows as { n: number }[])[0]!.n) > 0;
    },
    async exec(sql) {
      await (await conn).query(sql);
    },
    quote: (name) => `\`${name}\``,
    async close() {
      await (await conn).end();
    },
  };
  return db;
}

function sqliteDb(dir: string): TestDb {
  const path = join(dir, 'predictions.db');
  const open = (): Database.Database => new Database(path);
  const KINDS: Record<string, string> = { BIGINT: 'bigint', DOUBLE: 'double', BOOLEAN: 'boolean', TEXT: 'text' };
  const db: TestDb = {
    label: 'SQLite',
    url: `sqlite:${path}`,
    async types(table) {
      const d = open();
      try {
        return (d.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; type: string }[]).map((c) => [c.name, KINDS[c.type] ?? c.type]);
      } finally {
        d.close();
      }
    },
    async rows(table, orderBy = 'input_row') {
      const types = await db.types(table);
      const d = open();
      try {
        return (d.prepare(`SELECT * FROM "${table}" ORDER BY "${orderBy}"`).all() as Record<string, unknown>[]).map((r) => withBooleans(r, types));
      } finally {
        d.close();
      }
    },
    async exists(table) {
      if (!existsSync(path)) return false;
      const d = open();
      try {
        return d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
      } finally {
        d.close();
      }
    },
    async exec(sql) {
      const d = open();
      try {
        d.exec(sql);
      } finally {
        d.close();
      }
    },
    quote: (name) => `"${name}"`,
    async close() {},
  };
  return db;
}

/** A row with its boolean columns (stored as 0/1 by MySQL and SQLite) read as booleans. */
function withBooleans(row: Record<string, unknown>, types: [string, string][]): Record<string, unknown> {
  const out = { ...row };
  for (const [name, kind] of types) if (kind === 'boolean' && typeof out[name] === 'number') out[name] = out[name] !== 0;
  return out;
}

/** Writes the chunks and finishes, as mlpipe predict does: aborts on an error. */
async function writeAll(sink: PredictionSink, chunks: ScoredChunk[]): Promise<void> {
  try {
    for (const c of chunks) await sink.write(c);
    await sink.finish();
  } catch (err) {
    await sink.abort();
    throw err;
  }
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'mlpipe-sql-sink-'));
after(() => rmSync(sqliteDir, { recursive: true, force: true }));

for (const make of [pgDb, myDb, () => sqliteDb(sqliteDir)]) {
  const probe = make();
  const label = probe.label;
  void probe.close();

  describe(`sqlSink: ${label}`, () => {
    let db: TestDb;
    const tables: string[] = [];
    const table = (prefix: string): string => {
      const t = uniqueTable(`sink_${prefix}`);
      tables.push(t);
      return t;
    };

    before(() => {
      db = make();
    });
    after(async () => {
      for (const t of tables) await db.exec(`DROP TABLE IF EXISTS ${db.quote(t)}`);
      await db.close();
    });

    it('creates the table and writes three chunks of a classifier with string labels, read back in input order with their types', async () => {
      const t = table('labels');
      const sink = sqlSink({ url: db.url, table: t, env: NO_ENV, columns: PENGUINS });
      await writeAll(sink, [
        scored(1, [
          { rec: { penguin_id: 10 }, out: 0, proba: [0.75, 0.25] },
          { rec: { penguin_id: 11 }, out: 1, proba: [0.125, 0.875] },
        ]),
        scored(3, [{ rec: { penguin_id: 12 }, out: 1, proba: [0, 1] }]),
        scored(4, [
          { rec: { penguin_id: 13 }, out: 0, proba: [0.5, 0.5] },
          { rec: { penguin_id: 14 }, out: 0, proba: [0.6, 0.4] },
        ]),
      ]);
      expect(await db.types(t)).to.deep.equal([
        ['penguin_id', 'bigint'],
        ['input_row', 'bigint'],
        ['prediction', 'text'],
        ['proba_Adelie', 'double'],
        ['proba_Gentoo', 'double'],
      ]);
      expect(await db.rows(t)).to.deep.equal([
        { penguin_id: 10, input_row: 1, prediction: 'Adelie', proba_Adelie: 0.75, proba_Gentoo: 0.25 },
        { penguin_id: 11, input_row: 2, prediction: 'Gentoo', proba_Adelie: 0.125, proba_Gentoo: 0.875 },
        { penguin_id: 12, input_row: 3, prediction: 'Gentoo', proba_Adelie: 0, proba_Gentoo: 1 },
        { penguin_id: 13, input_row: 4, prediction: 'Adelie', proba_Adelie: 0.5, proba_Gentoo: 0.5 },
        { penguin_id: 14, input_row: 5, prediction: 'Adelie', proba_Adelie: 0.6, proba_Gentoo: 0.4 },
      ]);
    });

    it('writes boolean labels as a boolean column, number labels as a double column', async () => {
      const bools = table('bool');
      await writeAll(
        sqlSink({
          url: db.url,
          table: bools,
          env: NO_ENV,
          columns: { classes: ['false', 'true'], labels: [false, true], task: 'classification', withErrors: false },
        }),
        [scored(1, [{ out: 1, proba: [0.25, 0.75] }]), scored(2, [{ out: 0, proba: [1, 0] }]), scored(3, [{ out: 1, proba: [0.5, 0.5] }])],
      );
      expect(await db.types(bools)).to.deep.equal([
        ['input_row', 'bigint'],
        ['prediction', 'boolean'],
        ['proba_false', 'double'],
        ['proba_true', 'double'],
      ]);
      expect((await db.rows(bools)).map((r) => [r.input_row, r.prediction])).to.deep.equal([
        [1, true],
        [2, false],
        [3, true],
      ]);

      const numbers = table('numlabels');
      await writeAll(
        sqlSink({ url: db.url, table: numbers, env: NO_ENV, columns: { classes: ['1', '2.5'], labels: [1, 2.5], task: 'classification', withErrors: false } }),
        [
          scored(1, [
            { out: 1, proba: [0.25, 0.75] },
            { out: 0, proba: [0.875, 0.125] },
          ]),
        ],
      );
      expect((await db.types(numbers))[1]).to.deep.equal(['prediction', 'double']);
      expect((await db.rows(numbers)).map((r) => r.prediction)).to.deep.equal([2.5, 1]);
    });

    it('writes a regression model: a double prediction, no probability columns', async () => {
      const t = table('regression');
      await writeAll(sqlSink({ url: db.url, table: t, env: NO_ENV, columns: REGRESSION }), [
        scored(1, [{ out: 1.5 }, { out: -2.25 }]),
        scored(3, [{ out: 1234567.890625 }]),
        scored(4, [{ out: 0.1 }]),
      ]);
      expect(await db.types(t)).to.deep.equal([
        ['input_row', 'bigint'],
        ['prediction', 'double'],
      ]);
      expect(await db.rows(t)).to.deep.equal([
        { input_row: 1, prediction: 1.5 },
        { input_row: 2, prediction: -2.25 },
        { input_row: 3, prediction: 1234567.890625 },
        { input_row: 4, prediction: 0.1 },
      ]);
    });

    it("picks the id column's type from the first chunk's ids, good rows and bad", async () => {
      const cases: { ids: unknown[]; later: unknown[]; kind: string; back: unknown[] }[] = [
        { ids: [1, 2n ** 40n, null], later: [-7, '12'], kind: 'bigint', back: [1, 2 ** 40, null, -7, 12] },
        { ids: [1.5, 2], later: [3n, '0.25'], kind: 'double', back: [1.5, 2, 3, 0.25] },
        { ids: [true, undefined], later: [false, 'true'], kind: 'boolean', back: [true, null, false, true] },
        { ids: ['a7', 3], later: [4.5, true], kind: 'text', back: ['a7', '3', '4.5', 'true'] },
        { ids: [null, undefined], later: [5], kind: 'text', back: [null, null, '5'] },
      ];
      for (const c of cases) {
        const t = table(`id_${c.kind}`);
        const columns: SinkColumns = { classes: [], labels: [], task: 'regression', id: 'key', withErrors: true };
        // The first chunk's last id is on a bad row: it takes part in the choice.
        const first = c.ids.map((id, i): TestRow => (i === c.ids.length - 1 ? { rec: { key: id }, error: 'bad' } : { rec: { key: id }, out: i }));
        const later = c.later.map((id): TestRow => ({ rec: { key: id }, out: 0 }));
        await writeAll(sqlSink({ url: db.url, table: t, env: NO_ENV, columns }), [scored(1, first), scored(first.length + 1, later)]);
        expect((await db.types(t))[0], c.kind).to.deep.equal(['key', c.kind]);
        expect(
          (await db.rows(t)).map((r) => r.key),
          c.kind,
        ).to.deep.equal(c.back);
      }
    });

    it('refuses a later id that does not fit the chosen type, naming the row, column and value, and leaves nothing', async () => {
      const t = table('id_misfit');
      const sink = sqlSink({ url: db.url, table: t, env: NO_ENV, columns: PENGUINS });
      await sink.write(scored(1, [{ rec: { penguin_id: 1 }, out: 0, proba: [1, 0] }]));
      const err = await failure(() =>
        sink.write(
          scored(2, [
            { rec: { penguin_id: 2 }, out: 0, proba: [1, 0] },
            { rec: { penguin_id: 'P-003' }, out: 0, proba: [1, 0] },
          ]),
        ),
      );
      await sink.abort();
      expect(err).to.be.instanceOf(DataError);
      expect(err.message).to.match(/, table "mlpipe_sink_id_misfit_[^"]+": row 3, column "penguin_id": the id "P-003" does not fit the column's type BIGINT/);
      expect(err.message).to.include('CAST(penguin_id AS TEXT)');
      expect(await db.exists(t)).to.equal(false);
    });

    it('writes bad rows with NULL prediction and probabilities and their error; rows left out are not written', async () => {
      const t = table('bad');
      const columns: SinkColumns = { ...PENGUINS, withErrors: true };
      await writeAll(sqlSink({ url: db.url, table: t, env: NO_ENV, columns }), [
        scored(1, [
          { rec: { penguin_id: 1 }, out: 1, proba: [0.25, 0.75] },
          { rec: { penguin_id: 2 }, error: '/bill_length: must be a number' },
          null,
          { rec: { penguin_id: 4 }, out: 0, proba: [1, 0] },
        ]),
      ]);
      expect((await db.types(t)).at(-1)).to.deep.equal(['error', 'text']);
      expect(await db.rows(t)).to.deep.equal([
        { penguin_id: 1, input_row: 1, prediction: 'Gentoo', proba_Adelie: 0.25, proba_Gentoo: 0.75, error: null },
        { penguin_id: 2, input_row: 2, prediction: null, proba_Adelie: null, proba_Gentoo: null, error: '/bill_length: must be a number' },
        { penguin_id: 4, input_row: 4, prediction: 'Adelie', proba_Adelie: 1, proba_Gentoo: 0, error: null },
      ]);
    });

    it('appends to an existing table that has every column (more columns allowed), in several INSERTs', async () => {
      const t = table('append');
      await db.exec(
        `CREATE TABLE ${db.quote(t)} (note TEXT, input_row BIGINT, prediction DOUBLE PRECISION, run_at TEXT)`.replace(
          'DOUBLE PRECISION',
          db.label === 'MariaDB' ? 'DOUBLE' : 'DOUBLE PRECISION',
        ),
      );
      await db.exec(`INSERT INTO ${db.quote(t)} (note, input_row, prediction) VALUES ('before', 0, 42)`);
      // 2500 rows: three INSERTs of at most 1000 rows.
      const many = Array.from({ length: 2500 }, (_, i): TestRow => ({ out: i / 4 }));
      await writeAll(sqlSink({ url: db.url, table: t, env: NO_ENV, columns: REGRESSION }), [scored(1, many.slice(0, 1200)), scored(1201, many.slice(1200))]);
      const rows = await db.rows(t);
      expect(rows).to.have.length(2501);
      expect(rows[0]).to.deep.equal({ note: 'before', input_row: 0, prediction: 42, run_at: null });
      expect(rows.slice(1).every((r, i) => r.input_row === i + 1 && r.prediction === i / 4 && r.note === null)).to.equal(true);
      // A second run appends again.
      await writeAll(sqlSink({ url: db.url, table: t, env: NO_ENV, columns: REGRESSION }), [scored(1, [{ out: 7 }])]);
      expect(await db.rows(t)).to.have.length(2502);
    });

    it('refuses to append to a table lacking a column, naming the table, the missing columns and those it has', async () => {
      const t = table('lacking');
      await db.exec(`CREATE TABLE ${db.quote(t)} (input_row BIGINT, prediction TEXT)`);
      const sink = sqlSink({ url: db.url, table: t, env: NO_ENV, columns: { ...PENGUINS, withErrors: true } });
      const err = await failure(() => sink.write(scored(1, [{ rec: { penguin_id: 1 }, out: 0, proba: [1, 0] }])));
      await sink.abort();
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include(
        `: the table "${t}" exists without the columns "penguin_id", "proba_Adelie", "proba_Gentoo", "error" (it has "input_row", "prediction"); write to a new table, or add the missing columns`,
      );
      expect(await db.exists(t)).to.equal(true);
      expect(await db.rows(t)).to.deep.equal([]);
    });

    it('abort leaves nothing: a created table is gone, an existing table keeps only its old rows', async () => {
      const created = table('abort_new');
      const sink = sqlSink({ url: db.url, table: created, env: NO_ENV, columns: PENGUINS });
      await sink.write(scored(1, [{ rec: { penguin_id: 1 }, out: 0, proba: [1, 0] }]));
      await sink.write(scored(2, [{ rec: { penguin_id: 2 }, out: 1, proba: [0, 1] }]));
      // MySQL cannot create a table inside a transaction: it exists (empty) until abort drops it.
      if (db.label === 'MariaDB') expect(await db.rows(created)).to.deep.equal([]);
      await sink.abort();
      await sink.abort();
      expect(await db.exists(created)).to.equal(false);

      const existing = table('abort_old');
      await writeAll(sqlSink({ url: db.url, table: existing, env: NO_ENV, columns: REGRESSION }), [scored(1, [{ out: 1 }])]);
      const again = sqlSink({ url: db.url, table: existing, env: NO_ENV, columns: REGRESSION });
      await again.write(scored(1, [{ out: 2 }, { out: 3 }]));
      await again.abort();
      expect(await db.rows(existing)).to.deep.equal([{ input_row: 1, prediction: 1 }]);
    });

    it("keeps each INSERT under the dialect's parameter limit: 100 classes, 1500 rows in one chunk", async () => {
      const t = table('wide');
      const classes = Array.from({ length: 100 }, (_, i) => `c${i}`);
      const rows = Array.from({ length: 1500 }, (_, r): TestRow => ({ out: r % 100, proba: classes.map((_, c) => (c === r % 100 ? 1 : 0)) }));
      // 1000 rows × 102 columns would be 102,000 parameters: over PostgreSQL's 65,535 and SQLite's 32,766.
      await writeAll(sqlSink({ url: db.url, table: t, env: NO_ENV, columns: { classes, labels: classes, task: 'classification', withErrors: false } }), [
        scored(1, rows),
      ]);
      const back = await db.rows(t);
      expect(back).to.have.length(1500);
      expect(
        back.every((r, i) => r.input_row === i + 1 && r.prediction === `c${i % 100}` && r[`proba_c${i % 100}`] === 1 && r.proba_c0 === (i % 100 === 0 ? 1 : 0)),
      ).to.equal(true);
    });

    it('creates the table, empty, when no chunk comes', async () => {
      const t = table('empty');
      await sqlSink({ url: db.url, table: t, env: NO_ENV, columns: { ...PENGUINS, withErrors: true } }).finish();
      expect(await db.types(t)).to.deep.equal([
        ['penguin_id', 'text'],
        ['input_row', 'bigint'],
        ['prediction', 'text'],
        ['proba_Adelie', 'double'],
        ['proba_Gentoo', 'double'],
        ['error', 'text'],
      ]);
      expect(await db.rows(t)).to.deep.equal([]);
    });
  });
}

describe('sqlSink: names and configuration', () => {
  const columns = (classes: string[], id?: string): SinkColumns => ({
    classes,
    labels: classes,
    task: 'classification',
    withErrors: false,
    ...(id ? { id } : {}),
  });

  it("refuses a column name longer than PostgreSQL's 63 bytes or MySQL's 64 characters, never cutting it", () => {
    const long = 'x'.repeat(58); // proba_ + 58 = 64
    let err = thrown(() => sqlSink({ url: PG_URL, table: 't', env: NO_ENV, columns: columns([long]) }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal(
      `postgres://postgres@127.0.0.1:5432/test, table "t": column name "proba_${long}" is 64 bytes long; PostgreSQL allows at most 63`,
    );
    // 63 bytes: fine. Multi-byte letters count as bytes in PostgreSQL, as characters in MySQL.
    expect(() => sqlSink({ url: PG_URL, table: 't', env: NO_ENV, columns: columns(['x'.repeat(57)]) })).not.to.throw();
    const accents = 'é'.repeat(29); // proba_ + 58 bytes = 64 bytes, 35 characters
    expect(thrown(() => sqlSink({ url: PG_URL, table: 't', env: NO_ENV, columns: columns([accents]) })).message).to.include(
      'is 64 bytes long; PostgreSQL allows at most 63',
    );
    expect(() => sqlSink({ url: MY_URL, table: 't', env: NO_ENV, columns: columns([accents]) })).not.to.throw();
    err = thrown(() => sqlSink({ url: MY_URL, table: 't', env: NO_ENV, columns: columns(['c'], 'i'.repeat(65)) }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal(`mysql://root@127.0.0.1:3306/test, table "t": column name "${'i'.repeat(65)}" is 65 characters long; MySQL allows at most 64`);
    err = thrown(() => sqlSink({ url: PG_URL, table: `s.${'t'.repeat(64)}`, env: NO_ENV, columns: columns(['a']) }));
    expect(err.message).to.include(`table name "${'t'.repeat(64)}" is 64 bytes long; PostgreSQL allows at most 63`);
  });

  it('refuses columns that collide, as the database compares names', () => {
    let err = thrown(() => sqlSink({ url: PG_URL, table: 't', env: NO_ENV, columns: columns(['a'], 'prediction') }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal('postgres://postgres@127.0.0.1:5432/test, table "t": the column "prediction" would be written twice; rename the id column');
    err = thrown(() => sqlSink({ url: MY_URL, table: 't', env: NO_ENV, columns: columns(['a'], 'Input_Row') }));
    expect(err.message).to.equal(
      'mysql://root@127.0.0.1:3306/test, table "t": the column "input_row" would be written and "Input_Row", which the database takes for the same name; rename the id column',
    );
    expect(thrown(() => sqlSink({ url: 'x.db', table: 't', env: NO_ENV, columns: columns(['Yes', 'yes']) })).message).to.equal(
      'x.db, table "t": the column "proba_yes" would be written and "proba_Yes", which the database takes for the same name',
    );
    // PostgreSQL's quoted names are case-sensitive.
    expect(() => sqlSink({ url: PG_URL, table: 't', env: NO_ENV, columns: columns(['Yes', 'yes'], 'Prediction') })).not.to.throw();
  });

  it('refuses URLs and table names it cannot use, without secrets', () => {
    expect(thrown(() => sqlSink({ url: `mongodb://me:${SECRET}@h/db`, table: 't', env: NO_ENV, columns: columns(['a']) })).message).to.match(
      /^mongodb:\/\/me:\*\*\*@h\/db: not a database URL mlpipe knows/,
    );
    expect(thrown(() => sqlSink({ url: 'postgres://u:${PW}@h/db', table: 't', env: NO_ENV, columns: columns(['a']) })).message).to.equal(
      'postgres://u:***@h/db: environment variable PW is not set (it is used in the database URL)',
    );
    const err = thrown(() => sqlSink({ url: PG_URL, table: 'a"b', env: NO_ENV, columns: columns(['a']) }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal('postgres://postgres@127.0.0.1:5432/test: table name "a\\"b" contains the quote character "; choose another name');
  });

  it('quotes odd column names (quote characters, blanks, case) in every dialect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpipe-sql-sink-names-'));
    try {
      const labels = ['a"b', 'x y', 'A`c'];
      const path = join(dir, 'odd.sqlite');
      await writeAll(
        sqlSink({ url: path, table: 'main.odd', env: NO_ENV, columns: { classes: labels, labels, task: 'classification', id: 'Id', withErrors: false } }),
        [scored(1, [{ rec: { Id: 'r1' }, out: 2, proba: [0.25, 0.25, 0.5] }])],
      );
      const d = new Database(path, { readonly: true });
      try {
        expect(d.prepare('SELECT * FROM odd').all()).to.deep.equal([
          { Id: 'r1', input_row: 1, prediction: 'A`c', 'proba_a"b': 0.25, 'proba_x y': 0.25, 'proba_A`c': 0.5 },
        ]);
      } finally {
        d.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlSink: connection and SQL errors', () => {
  const columns = PENGUINS;

  /** Checks a sink error: SourceError, exactly `message`, one line, no secret. */
  function expectSourceError(err: Error, message: string): void {
    expect(err, err.stack).to.be.instanceOf(SourceError);
    expect(err.message).to.equal(message);
    expect(err.message).not.to.include('\n');
    expect(err.message).not.to.include(SECRET);
  }

  async function firstWrite(url: string, env: NodeJS.ProcessEnv = NO_ENV, table = 'mlpipe_sink_never'): Promise<Error> {
    const sink = sqlSink({ url, table, env, columns });
    const err = await failure(() => sink.write(scored(1, [{ rec: { penguin_id: 1 }, out: 0, proba: [1, 0] }])));
    await sink.abort();
    return err;
  }

  it('PostgreSQL: refused connection, unknown login, unknown database, with the password in the URL or an environment variable', async () => {
    const port = await freePort();
    expectSourceError(
      await firstWrite(`postgres://postgres:${SECRET}@127.0.0.1:${port}/test`),
      `postgres://postgres:***@127.0.0.1:${port}/test, table "mlpipe_sink_never": cannot connect (ECONNREFUSED)`,
    );
    expectSourceError(
      await firstWrite('postgres://mlpipe_nobody:${MLPIPE_TEST_PW}@127.0.0.1:5432/test', { MLPIPE_TEST_PW: SECRET }),
      'postgres://mlpipe_nobody:***@127.0.0.1:5432/test, table "mlpipe_sink_never": cannot log in: role "mlpipe_nobody" does not exist',
    );
    expectSourceError(
      await firstWrite(`postgres://postgres:${SECRET}@127.0.0.1:5432/mlpipe_no_such_db`),
      'postgres://postgres:***@127.0.0.1:5432/mlpipe_no_such_db, table "mlpipe_sink_never": database "mlpipe_no_such_db" does not exist',
    );
    // The environment's value is scrubbed even where the server quotes it back.
    expectSourceError(
      await firstWrite('postgres://postgres@127.0.0.1:5432/${MLPIPE_TEST_DB}', { MLPIPE_TEST_DB: SECRET }),
      'postgres://postgres@127.0.0.1:5432/${MLPIPE_TEST_DB}, table "mlpipe_sink_never": database "***" does not exist',
    );
  });

  it('MariaDB: refused connection, bad password, unknown database', async () => {
    const port = await freePort();
    expectSourceError(
      await firstWrite(`mysql://root:${SECRET}@127.0.0.1:${port}/test`),
      `mysql://root:***@127.0.0.1:${port}/test, table "mlpipe_sink_never": cannot connect (ECONNREFUSED)`,
    );
    const denied = await firstWrite('mysql://root:${MLPIPE_TEST_PW}@127.0.0.1:3306/test', { MLPIPE_TEST_PW: SECRET });
    expect(denied).to.be.instanceOf(SourceError);
    expect(denied.message).to.match(
      /^mysql:\/\/root:\*\*\*@127\.0\.0\.1:3306\/test, table "mlpipe_sink_never": cannot log in: Access denied for user 'root'@'[^']+' \(using password: YES\)$/,
    );
    expect(denied.message).not.to.include(SECRET);
    expectSourceError(
      await firstWrite('mysql://root@127.0.0.1:3306/mlpipe_no_such_db'),
      'mysql://root@127.0.0.1:3306/mlpipe_no_such_db, table "mlpipe_sink_never": database "mlpipe_no_such_db" does not exist',
    );
  });

  it('SQLite: a folder that does not exist; a file that is not a database; the file it created removed on abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpipe-sql-sink-files-'));
    try {
      const missing = join(dir, 'no', 'such', 'dir.db');
      const err = await firstWrite(missing);
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.match(
        new RegExp(
          `^${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, table "mlpipe_sink_never": cannot create the database file \\(Cannot open database because the directory does not exist\\)$`,
        ),
      );
      const text = join(dir, 'text.db');
      (await import('node:fs')).writeFileSync(text, 'not a database, just text that is long enough to have a header'.repeat(10));
      expectSourceError(await firstWrite(text), `${text}, table "mlpipe_sink_never": cannot open database (file is not a database)`);

      const fresh = join(dir, 'fresh.db');
      const sink = sqlSink({ url: `sqlite:${fresh}`, table: 'p', env: NO_ENV, columns });
      await sink.write(scored(1, [{ rec: { penguin_id: 1 }, out: 0, proba: [1, 0] }]));
      expect(existsSync(fresh)).to.equal(true);
      await sink.abort();
      expect(existsSync(fresh)).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an SQL error while writing is one line naming the URL and the table, rolled back (PostgreSQL and MariaDB)', async () => {
    const t = uniqueTable('sink_sqlerr');
    for (const db of [pgDb(), myDb()]) {
      const q = db.quote;
      const double = db.label === 'MariaDB' ? 'DOUBLE' : 'DOUBLE PRECISION';
      try {
        // The user's table holds integer ids; these ids are text.
        await db.exec(
          `CREATE TABLE ${q(t)} (${q('penguin_id')} BIGINT, input_row BIGINT, prediction TEXT, ${q('proba_Adelie')} ${double}, ${q('proba_Gentoo')} ${double})`,
        );
        // Trust auth (PostgreSQL) ignores the password; MariaDB's root has none, so it stays out of that URL.
        const url = db.label === 'MariaDB' ? db.url : `postgres://postgres:${SECRET}@127.0.0.1:5432/test`;
        const sink = sqlSink({ url, table: t, env: NO_ENV, columns });
        const err = await failure(() => sink.write(scored(1, [{ rec: { penguin_id: 'P2' }, out: 0, proba: [1, 0] }])));
        await sink.abort();
        if (db.label === 'MariaDB') {
          expectSourceError(
            err,
            `mysql://root@127.0.0.1:3306/test, table "${t}": SQL error: Incorrect integer value: 'P2' for column \`test\`.\`${t}\`.\`penguin_id\` at row 1`,
          );
        } else {
          expectSourceError(err, `postgres://postgres:***@127.0.0.1:5432/test, table "${t}": SQL error: invalid input syntax for type bigint: "P2"`);
        }
        expect(await db.rows(t)).to.deep.equal([]);
      } finally {
        await db.exec(`DROP TABLE IF EXISTS ${q(t)}`);
        await db.close();
      }
    }
  });
});

describe('sqlSink: a process killed mid-run (PostgreSQL)', () => {
  const child = join(HERE, '..', '..', 'test-helpers', 'sql-sink-child.ts');
  let admin: pg.Client;
  const tables: string[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });
  after(async () => {
    for (const t of tables) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
    await admin.end();
  });

  /** Starts the child in its own process group (npx and tsx start processes of their own) and resolves on its first line. */
  function start(table: string, mode: 'finish' | 'hang'): { proc: ChildProcess; line: Promise<string> } {
    const proc = spawn('npx', ['tsx', child, PG_URL, table, mode], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const line = new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      proc.on('exit', (code) => reject(new Error(`child exited (${code}) before writing: ${stderr}`)));
    });
    return { proc, line };
  }

  const tableExists = async (t: string): Promise<boolean> => (await admin.query('SELECT to_regclass($1) AS t', [`"${t}"`])).rows[0].t !== null;

  it('the same script run to its end commits its rows (the control)', async () => {
    const t = uniqueTable('sink_child_ok');
    tables.push(t);
    const { line } = start(t, 'finish');
    expect(await line).to.equal('finished');
    expect((await admin.query(`SELECT input_row::int AS r, prediction FROM "${t}" ORDER BY input_row`)).rows).to.deep.equal([
      { r: 1, prediction: 'no' },
      { r: 2, prediction: 'yes' },
      { r: 3, prediction: 'yes' },
    ]);
  });

  it('killed with SIGKILL after its first chunk, it leaves no table: the server rolls the transaction back', async () => {
    const t = uniqueTable('sink_child_killed');
    tables.push(t);
    const { proc, line } = start(t, 'hang');
    try {
      expect(await line).to.equal('wrote');
      // The child's session is inside its transaction, its INSERT sent; the table is not visible to others.
      const session = await admin.query<{ pid: number; state: string }>(
        "SELECT pid, state FROM pg_stat_activity WHERE query LIKE 'INSERT INTO %' AND query LIKE $1",
        [`%${t}%`],
      );
      expect(session.rows).to.have.length(1);
      expect(session.rows[0]!.state).to.equal('idle in transaction');
      expect(await tableExists(t)).to.equal(false);
      process.kill(-proc.pid!, 'SIGKILL');
      const backend = session.rows[0]!.pid;
      expect(await eventually(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backend])).rows.length === 0)).to.equal(true);
      expect(await tableExists(t)).to.equal(false);
    } finally {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
});
