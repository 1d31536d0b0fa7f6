/**
 * SQL sources against the real servers of this machine (PostgreSQL 127.0.0.1:5432 with trust auth,
 * MariaDB 127.0.0.1:3306 as root with no password, database `test` on both) and SQLite temp files.
 * Every test makes and drops its own uniquely named tables.
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { ConfigError, NotFoundError } from '../../errors.js';
import { SourceError } from './errors.js';
import { sqlSource } from './sql.js';
import { parsePgDate, parsePgTimestamp, sqliteDeclaredType } from './sql-types.js';
import type { RawChunk, RawValue, RecordSource } from './types.js';
import { freePort } from '../../../test-helpers/http.js';
import { uniqueTable } from '../../../test-helpers/sql.js';
import { rejection } from '../../../test-helpers/async.js';

const SECRET = 'hunter2secret';
const PG_URL = `postgres://postgres:${SECRET}@127.0.0.1:5432/test`;
const PG_NAME = 'postgres://postgres:***@127.0.0.1:5432/test';
const MY_URL = 'mysql://root@127.0.0.1:3306/test';
const NO_ENV: NodeJS.ProcessEnv = {};

async function readAll(source: RecordSource, chunkRows = 1000): Promise<{ columns: string[]; rows: RawValue[][]; chunks: RawChunk[] }> {
  const chunks: RawChunk[] = [];
  for await (const chunk of source.chunks(chunkRows)) chunks.push(chunk);
  return { columns: chunks.at(-1)?.columns ?? [], rows: chunks.flatMap((c) => c.rows), chunks };
}

/** The error `fn` rejects with (fails the test when it resolves). */
const failure = (fn: () => Promise<unknown>): Promise<Error> => rejection(Promise.resolve().then(fn));

/** Checks a source error: SourceError, exactly `message`, one line, no secret. */
function expectSourceError(err: Error, message: string, secrets: string[] = [SECRET]): void {
  expect(err, err.stack).to.be.instanceOf(SourceError);
  expect(err.message).to.equal(message);
  expect(err.message).not.to.include('\n');
  for (const s of secrets) expect(err.message).not.to.include(s);
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `fn` with the process in another time zone, so zoneless values read as local time would show. */
async function inTimeZone<T>(tz: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

describe('sqlSource: configuration', () => {
  it('needs exactly one of query and table', () => {
    expect(() => sqlSource({ kind: 'sql', url: PG_URL }, NO_ENV)).to.throw(ConfigError, `${PG_NAME}: give a query or a table to read`);
    expect(() => sqlSource({ kind: 'sql', url: PG_URL, query: 'SELECT 1', table: 't' }, NO_ENV)).to.throw(
      ConfigError,
      `${PG_NAME}: give either a query or a table, not both`,
    );
  });

  it('rejects a URL that names no database it knows, without its password', () => {
    const err = (() => {
      try {
        sqlSource({ kind: 'sql', url: `mongodb://me:${SECRET}@127.0.0.1/db`, table: 't' }, NO_ENV);
      } catch (e) {
        return e as Error;
      }
      return expect.fail('expected an error');
    })();
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal(
      'mongodb://me:***@127.0.0.1/db: not a database URL mlpipe knows; use postgres://, postgresql://, mysql://, mariadb://, sqlite:<path>, or a path ending .db, .sqlite or .sqlite3',
    );
  });

  it('rejects table names containing the dialect quote character or NUL', () => {
    expect(() => sqlSource({ kind: 'sql', url: PG_URL, table: 'a"b' }, NO_ENV)).to.throw(
      ConfigError,
      `${PG_NAME}: table name "a\\"b" contains the quote character "; read it with a query instead`,
    );
    expect(() => sqlSource({ kind: 'sql', url: MY_URL, table: 'a`b' }, NO_ENV)).to.throw(
      ConfigError,
      'mysql://root@127.0.0.1:3306/test: table name "a`b" contains the quote character `; read it with a query instead',
    );
    expect(() => sqlSource({ kind: 'sql', url: 'sqlite:x.db', table: 'a\0b' }, NO_ENV)).to.throw(
      ConfigError,
      'sqlite:x.db: table name "a\\u0000b" contains a NUL character; read it with a query instead',
    );
    // A backtick is an ordinary character in a PostgreSQL name, a double quote in a MySQL one.
    expect(() => sqlSource({ kind: 'sql', url: PG_URL, table: 'a`b' }, NO_ENV)).not.to.throw();
    expect(() => sqlSource({ kind: 'sql', url: MY_URL, table: 'a"b' }, NO_ENV)).not.to.throw();
  });

  it('names an unset environment variable in a ConfigError', () => {
    const url = 'postgres://app:${MLPIPE_TEST_UNSET_PW}@127.0.0.1:5432/${MLPIPE_TEST_UNSET_DB}';
    expect(() => sqlSource({ kind: 'sql', url, table: 't' }, { MLPIPE_TEST_UNSET_DB: 'test' })).to.throw(
      ConfigError,
      'postgres://app:***@127.0.0.1:5432/${MLPIPE_TEST_UNSET_DB}: environment variable MLPIPE_TEST_UNSET_PW is not set (it is used in the database URL)',
    );
    expect(() => sqlSource({ kind: 'sql', url, table: 't' }, {})).to.throw(
      ConfigError,
      'environment variables MLPIPE_TEST_UNSET_PW, MLPIPE_TEST_UNSET_DB are not set',
    );
  });

  it('names the source by its URL as written, password redacted, in name and lineage', () => {
    const src = sqlSource({ kind: 'sql', url: `mariadb://bob:${SECRET}@db.example:3307/shop?ssl=true`, query: 'SELECT 1' }, NO_ENV);
    expect(src.name).to.equal('mariadb://bob:***@db.example:3307/shop?ssl=true');
    expect(src.lineage()).to.deep.equal({ kind: 'mysql', host: 'db.example:3307', database: 'shop', query: 'SELECT 1', rows: 0 });
    const viaEnv = sqlSource({ kind: 'sql', url: 'postgresql://bob:${PW}@db.example/shop', table: 'public.orders' }, { PW: SECRET });
    expect(viaEnv.name).to.equal('postgresql://bob:***@db.example/shop');
    expect(viaEnv.lineage()).to.deep.equal({ kind: 'postgres', host: 'db.example:5432', database: 'shop', table: 'public.orders', rows: 0 });
    expect(JSON.stringify(viaEnv.lineage())).not.to.include(SECRET);
  });

  it('reads zoneless PostgreSQL dates and timestamps as UTC, BC years included', () => {
    expect((parsePgDate('2024-03-05') as Date).toISOString()).to.equal('2024-03-05T00:00:00.000Z');
    expect((parsePgDate('0044-03-15 BC') as Date).getUTCFullYear()).to.equal(-43);
    expect((parsePgTimestamp('2024-03-05 14:30:00.123456') as Date).toISOString()).to.equal('2024-03-05T14:30:00.123Z');
    expect((parsePgTimestamp('0099-01-01 00:00:00') as Date).getUTCFullYear()).to.equal(99);
    expect(parsePgTimestamp('infinity')).to.equal('infinity');
  });

  it('maps SQLite declared types by the affinity words', () => {
    expect(['INTEGER', 'BIGINT', 'unsigned big int', 'REAL', 'DOUBLE PRECISION', 'DECIMAL(10,2)', 'NUMERIC', 'BOOLEAN', 'TINYINT(1)', 'DATE', 'DATETIME', 'TIMESTAMP', 'TEXT', 'VARCHAR(5)', 'JSON', 'BLOB', null].map(sqliteDeclaredType)).to.deep.equal([
      'integer', 'integer', 'integer', 'number', 'number', 'number', 'number', 'boolean', 'boolean', 'datetime', 'datetime', 'datetime', undefined, undefined, undefined, undefined, undefined,
    ]);
  });
});

describe('sqlSource: SQLite', () => {
  let dir: string;
  let file: string;
  const table = uniqueTable('sqlite');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlpipe-sql-'));
    file = join(dir, 'train.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE ${table} (
      id INTEGER, big BIGINT, r REAL, d DOUBLE, num NUMERIC, dec DECIMAL(10,2), flag BOOLEAN,
      day DATE, at DATETIME, ts TIMESTAMP, name TEXT, code VARCHAR(5), doc JSON, raw BLOB)`);
    const insert = db.prepare(`INSERT INTO ${table} VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
    insert.run(1, 9007199254740993n, 1.5, 2.25, 3, 4.5, 1, '2024-03-05', '2024-03-05 14:30:00', '2024-03-05T14:30:00Z', 'alpha', 'A1', '{"a":[1,2]}', Buffer.from([0xca, 0xfe]));
    insert.run(2, null, null, null, null, null, 0, null, null, null, null, null, null, null);
    insert.run(3, -7, 0.25, -1, 2.5, 0, null, '2024-12-31', null, null, 'beta', 'B2', '[]', null);
    db.exec('CREATE TABLE many (n INTEGER)');
    db.prepare('INSERT INTO many SELECT value FROM json_each(?)').run(JSON.stringify(Array.from({ length: 10_000 }, (_, i) => i + 1)));
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a table with declared types, values and nulls', async () => {
    const src = sqlSource({ kind: 'sql', url: `sqlite:${file}`, table }, NO_ENV);
    const { columns, rows } = await readAll(src);
    expect(columns).to.deep.equal(['id', 'big', 'r', 'd', 'num', 'dec', 'flag', 'day', 'at', 'ts', 'name', 'code', 'doc', 'raw']);
    expect(src.declaredTypes()).to.deep.equal({
      id: 'integer', big: 'integer', r: 'number', d: 'number', num: 'number', dec: 'number', flag: 'boolean',
      day: 'datetime', at: 'datetime', ts: 'datetime',
    });
    expect(rows).to.deep.equal([
      [1, '9007199254740993', 1.5, 2.25, 3, 4.5, true, '2024-03-05', '2024-03-05 14:30:00', '2024-03-05T14:30:00Z', 'alpha', 'A1', '{"a":[1,2]}', '\\xcafe'],
      [2, null, null, null, null, null, false, null, null, null, null, null, null, null],
      [3, -7, 0.25, -1, 2.5, 0, null, '2024-12-31', null, null, 'beta', 'B2', '[]', null],
    ]);
    expect(src.lineage()).to.deep.include({ kind: 'sqlite', path: file, table, rows: 3 });
    expect(src.lineage().bytes).to.be.greaterThan(0);
  });

  it('runs a query (sqlite:///abs and a plain .db path), expression columns undeclared, duplicates renamed', async () => {
    const src = sqlSource({ kind: 'sql', url: `sqlite://${file}`, query: `SELECT id, name, id * 2 AS id FROM ${table} WHERE id > 1 ORDER BY id` }, NO_ENV);
    const { columns, rows } = await readAll(src);
    expect(columns).to.deep.equal(['id', 'name', 'id_2']);
    expect(rows).to.deep.equal([[2, null, 4], [3, 'beta', 6]]);
    expect(src.declaredTypes()).to.deep.equal({ id: 'integer' });
    expect(src.warnings).to.deep.equal([`sqlite://${file}: column name "id" appears more than once; column 3 is renamed "id_2"`]);
    const plain = await readAll(sqlSource({ kind: 'sql', url: file, query: 'SELECT count(*) AS n FROM many' }, NO_ENV));
    expect(plain.rows).to.deep.equal([[10_000]]);
  });

  it('expands ${VAR} in the path', async () => {
    const src = sqlSource({ kind: 'sql', url: 'sqlite:${MLPIPE_TEST_DB_DIR}/train.db', query: 'SELECT 1 AS one' }, { MLPIPE_TEST_DB_DIR: dir });
    expect(src.name).to.equal('sqlite:${MLPIPE_TEST_DB_DIR}/train.db');
    expect((await readAll(src)).rows).to.deep.equal([[1]]);
  });

  it('yields chunks of chunkRows rows, and one empty chunk with the columns for an empty result', async () => {
    const { chunks, rows } = await readAll(sqlSource({ kind: 'sql', url: file, table: 'many' }, NO_ENV), 1000);
    expect(chunks.map((c) => c.rows.length)).to.deep.equal(Array(10).fill(1000));
    expect(rows.at(-1)).to.deep.equal([10_000]);
    const empty = await readAll(sqlSource({ kind: 'sql', url: file, query: 'SELECT n FROM many WHERE n < 0' }, NO_ENV));
    expect(empty.chunks).to.deep.equal([{ columns: ['n'], rows: [] }]);
  });

  it('closes the file when the consumer breaks out early', async () => {
    const openFds = (): number => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    }).length;
    const baseline = openFds();
    const src = sqlSource({ kind: 'sql', url: file, table: 'many' }, NO_ENV);
    let during = 0;
    for await (const chunk of src.chunks(100)) {
      expect(chunk.rows).to.have.length(100);
      during = openFds();
      break;
    }
    expect(during).to.equal(baseline + 1);
    expect(openFds()).to.equal(baseline);
  });

  it('a missing file is a NotFoundError; a non-database file, bad SQL and an unknown table are SourceErrors', async () => {
    const missing = join(dir, 'missing.db');
    const notFound = await failure(() => readAll(sqlSource({ kind: 'sql', url: `sqlite:${missing}`, table: 't' }, NO_ENV)));
    expect(notFound).to.be.instanceOf(NotFoundError);
    expect(notFound.message).to.equal(`sqlite:${missing}: file not found`);

    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database, just some text that is long enough to have a header page'.repeat(20));
    expectSourceError(await failure(() => readAll(sqlSource({ kind: 'sql', url: junk, table: 't' }, NO_ENV))), `${junk}: cannot open database (file is not a database)`);
    expectSourceError(await failure(() => readAll(sqlSource({ kind: 'sql', url: file, query: 'SELEC 1' }, NO_ENV))), `${file}: SQL error: near "SELEC": syntax error`);
    expectSourceError(await failure(() => readAll(sqlSource({ kind: 'sql', url: file, table: 'nope' }, NO_ENV))), `${file}: table "nope" does not exist`);
    expectSourceError(await failure(() => readAll(sqlSource({ kind: 'sql', url: file, query: 'SELECT * FROM nope' }, NO_ENV))), `${file}: SQL error: no such table: nope`);
  });
});

describe('sqlSource: PostgreSQL', function () {
  this.timeout(30_000);
  let admin: pg.Client;
  const dropTables: string[] = [];
  const dropTypes: string[] = [];

  async function pidAlive(pid: number): Promise<boolean> {
    const r = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1', [pid]);
    return Number(r.rows[0]!.n) > 0;
  }

  before(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });
  after(async () => {
    for (const t of dropTables) await admin.query(`DROP TABLE IF EXISTS ${t}`);
    for (const t of dropTypes) await admin.query(`DROP TYPE IF EXISTS ${t}`);
    await admin.end();
  });

  it('maps every column type, with nulls, and reads zoneless values as UTC', async () => {
    const table = uniqueTable('pg_types');
    const mood = uniqueTable('mood');
    dropTables.push(table);
    dropTypes.push(mood);
    await admin.query(`CREATE TYPE ${mood} AS ENUM ('sad', 'happy')`);
    await admin.query(`CREATE TABLE ${table} (
      i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, num numeric(10,3), b boolean,
      d date, ts timestamp(3), tstz timestamptz, t text, vc varchar(20), ch char(3), j json, jb jsonb,
      e ${mood}, arr integer[], u uuid)`);
    await admin.query(`INSERT INTO ${table} VALUES
      (1, 2, 3, 1.5, 2.25, 12.345, true, '2024-03-05', '2024-03-05 14:30:00.123', '2024-03-05 14:30:00+02',
       'hello', 'world', 'abc', '{"a": [1, 2]}', '{"a": [1, 2]}', 'happy', '{1,2,3}', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (-1, -2, 9007199254740993, -0.5, 1e300, -0.001, false, '1999-12-31', '1999-12-31 23:59:59', '1999-12-31 23:59:59-05',
       '', 'x', 'z', 'null', '[]', 'sad', '{}', NULL)`);
    // The session time zone (Tokyo) and the process's (New York) must not change any instant.
    const src = sqlSource({ kind: 'sql', url: `${PG_URL}?options=-c%20TimeZone%3DAsia%2FTokyo`, query: `SELECT * FROM ${table} ORDER BY i2 NULLS LAST` }, NO_ENV);
    const { columns, rows } = await inTimeZone('America/New_York', () => readAll(src));
    expect(columns).to.deep.equal(['i2', 'i4', 'i8', 'f4', 'f8', 'num', 'b', 'd', 'ts', 'tstz', 't', 'vc', 'ch', 'j', 'jb', 'e', 'arr', 'u']);
    expect(src.declaredTypes()).to.deep.equal({
      i2: 'integer', i4: 'integer', i8: 'integer', f4: 'number', f8: 'number', num: 'number', b: 'boolean',
      d: 'datetime', ts: 'datetime', tstz: 'datetime',
    });
    expect(rows).to.deep.equal([
      [-1, -2, '9007199254740993', -0.5, 1e300, -0.001, false, new Date('1999-12-31T00:00:00Z'), new Date('1999-12-31T23:59:59Z'),
        new Date('2000-01-01T04:59:59Z'), '', 'x', 'z  ', 'null', '[]', 'sad', '[]', null],
      [1, 2, 3, 1.5, 2.25, 12.345, true, new Date('2024-03-05T00:00:00Z'), new Date('2024-03-05T14:30:00.123Z'),
        new Date('2024-03-05T12:30:00Z'), 'hello', 'world', 'abc', '{"a": [1, 2]}', '{"a": [1, 2]}', 'happy', '[1,2,3]', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'],
      Array(18).fill(null),
    ]);
  });

  it('reads a table (schema-qualified, quoted) and a query, with lineage and no password', async () => {
    const table = uniqueTable('pg_Table');
    dropTables.push(`"${table}"`);
    await admin.query(`CREATE TABLE "${table}" (id integer, "Species" text, mass numeric)`);
    await admin.query(`INSERT INTO "${table}" VALUES (1, 'Adelie', 3750.5), (2, 'Gentoo', NULL), (3, 'Adelie', 4100)`);
    const whole = sqlSource({ kind: 'sql', url: PG_URL, table: `public.${table}` }, NO_ENV);
    expect((await readAll(whole)).rows).to.deep.equal([[1, 'Adelie', 3750.5], [2, 'Gentoo', null], [3, 'Adelie', 4100]]);
    expect(whole.lineage()).to.deep.equal({ kind: 'postgres', host: '127.0.0.1:5432', database: 'test', table: `public.${table}`, rows: 3 });

    const query = `SELECT "Species", count(*) AS n FROM "${table}" GROUP BY 1 ORDER BY 1`;
    const some = sqlSource({ kind: 'sql', url: PG_URL, query }, NO_ENV);
    const read = await readAll(some);
    expect(read.columns).to.deep.equal(['Species', 'n']);
    expect(read.rows).to.deep.equal([['Adelie', 2], ['Gentoo', 1]]);
    expect(some.declaredTypes()).to.deep.equal({ n: 'integer' });
    expect(some.lineage()).to.deep.equal({ kind: 'postgres', host: '127.0.0.1:5432', database: 'test', query, rows: 2 });
    expect(JSON.stringify([some.name, some.lineage(), whole.name, whole.lineage()])).not.to.include(SECRET);
  });

  it('yields 10 chunks for 10k rows with chunkRows 1000', async () => {
    const table = uniqueTable('pg_many');
    dropTables.push(table);
    await admin.query(`CREATE TABLE ${table} AS SELECT g AS n FROM generate_series(1, 10000) g`);
    const { chunks, rows } = await readAll(sqlSource({ kind: 'sql', url: PG_URL, table }, NO_ENV), 1000);
    expect(chunks.map((c) => c.rows.length)).to.deep.equal(Array(10).fill(1000));
    expect(rows[9999]).to.deep.equal([10000]);
    const empty = await readAll(sqlSource({ kind: 'sql', url: PG_URL, query: `SELECT n, n::text AS s FROM ${table} WHERE n < 0` }, NO_ENV));
    expect(empty.chunks).to.deep.equal([{ columns: ['n', 's'], rows: [] }]);
  });

  it('closes the connection when the consumer breaks out early, and on an error mid-stream', async () => {
    const src = sqlSource({ kind: 'sql', url: PG_URL, query: 'SELECT pg_backend_pid() AS pid, g FROM generate_series(1, 1000000) g' }, NO_ENV);
    let pid = 0;
    for await (const chunk of src.chunks(100)) {
      pid = chunk.rows[0]![0] as number;
      expect(await pidAlive(pid)).to.equal(true);
      break;
    }
    expect(await eventually(async () => !(await pidAlive(pid)))).to.equal(true);

    const failing = sqlSource({ kind: 'sql', url: PG_URL, query: 'SELECT pg_backend_pid() AS pid, 1 / (g - 5000) AS x FROM generate_series(1, 10000) g' }, NO_ENV);
    let seen = 0;
    const err = await failure(async () => {
      for await (const chunk of failing.chunks(1000)) {
        pid = chunk.rows[0]![0] as number;
        seen += chunk.rows.length;
      }
    });
    expectSourceError(err, `${PG_NAME}: SQL error: division by zero`);
    expect(seen).to.equal(4000);
    expect(await eventually(async () => !(await pidAlive(pid)))).to.equal(true);
  });

  it('fails with one line naming the source: refused connection, unknown role, unknown database, bad SQL, unknown table', async () => {
    const port = await freePort();
    const read = (url: string, spec: { query?: string; table?: string }, env: NodeJS.ProcessEnv = NO_ENV) =>
      failure(() => readAll(sqlSource({ kind: 'sql', url, ...spec }, env)));
    expectSourceError(
      await read(`postgres://postgres:${SECRET}@127.0.0.1:${port}/test`, { table: 't' }),
      `postgres://postgres:***@127.0.0.1:${port}/test: cannot connect (ECONNREFUSED)`,
    );
    expectSourceError(
      await read(`postgres://mlpipe_nobody:${SECRET}@127.0.0.1:5432/test`, { table: 't' }),
      'postgres://mlpipe_nobody:***@127.0.0.1:5432/test: cannot log in: role "mlpipe_nobody" does not exist',
    );
    expectSourceError(
      await read(`postgres://postgres:${SECRET}@127.0.0.1:5432/mlpipe_no_such_db`, { table: 't' }),
      'postgres://postgres:***@127.0.0.1:5432/mlpipe_no_such_db: database "mlpipe_no_such_db" does not exist',
    );
    expectSourceError(await read(PG_URL, { query: 'SELEC 1' }), `${PG_NAME}: SQL error: syntax error at or near "SELEC" (line 1, column 1)`);
    expectSourceError(
      await read(PG_URL, { query: 'SELECT id,\n       name\n  FROM WHERE x' }),
      `${PG_NAME}: SQL error: syntax error at or near "WHERE" (line 3, column 8)`,
    );
    expectSourceError(await read(PG_URL, { table: 'mlpipe_no_such_table' }), `${PG_NAME}: table "mlpipe_no_such_table" does not exist`);
    expectSourceError(
      await read(PG_URL, { query: 'SELECT * FROM mlpipe_no_such_table' }),
      `${PG_NAME}: SQL error: relation "mlpipe_no_such_table" does not exist (line 1, column 15)`,
    );
    // A secret from the environment is scrubbed even where the server quotes it.
    expectSourceError(
      await read('postgres://postgres:${MLPIPE_TEST_PGPW}@127.0.0.1:5432/${MLPIPE_TEST_PGDB}', { table: 't' }, { MLPIPE_TEST_PGPW: SECRET, MLPIPE_TEST_PGDB: 'secret_db_name' }),
      'postgres://postgres:***@127.0.0.1:5432/${MLPIPE_TEST_PGDB}: database "***" does not exist',
      [SECRET, 'secret_db_name'],
    );
  });

  it('expands ${VAR} in the URL, percent-encoding a password with URL characters', async () => {
    const password = 'p@ss/w:rd#1 %41';
    const src = sqlSource({ kind: 'sql', url: 'postgres://postgres:${MLPIPE_TEST_PGPW}@127.0.0.1:5432/test', query: 'SELECT current_user AS u, current_database() AS db' }, {
      MLPIPE_TEST_PGPW: password,
    });
    expect((await readAll(src)).rows).to.deep.equal([['postgres', 'test']]);
    expect(src.name).to.equal('postgres://postgres:***@127.0.0.1:5432/test');
    expect(JSON.stringify(src.lineage())).not.to.include('p@ss');
  });

  it('streams 1M generated rows with RSS growth under 150 MB', async function () {
    this.timeout(30_000);
    const BOUND_MB = 150;
    const src = sqlSource({ kind: 'sql', url: PG_URL, query: "SELECT g, g * 0.5, 'cat' || (g % 10) FROM generate_series(1, 1000000) g" }, NO_ENV);
    const before = process.memoryUsage().rss;
    let peak = before;
    let count = 0;
    let sum = 0;
    for await (const chunk of src.chunks(10_000)) {
      count += chunk.rows.length;
      sum += chunk.rows[0]![1] as number;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const growthMb = (peak - before) / 1024 / 1024;
    console.log(`      1M rows: RSS growth ${growthMb.toFixed(1)} MB (bound ${BOUND_MB} MB)`);
    expect(count).to.equal(1_000_000);
    expect(sum).to.be.greaterThan(0);
    expect(src.lineage().rows).to.equal(1_000_000);
    expect(src.warnings).to.deep.equal(['postgres://postgres:***@127.0.0.1:5432/test: column name "?column?" appears more than once; column 3 is renamed "?column?_2"']);
    expect(growthMb).to.be.lessThan(BOUND_MB);
  });
});

describe('sqlSource: MySQL / MariaDB', function () {
  this.timeout(30_000);
  let admin: mysql.Connection;
  const dropTables: string[] = [];
  const user = uniqueTable('u').slice(0, 32);
  const userPassword = 'p@ss:w/rd#1 ok';

  async function connectionAlive(id: number): Promise<boolean> {
    const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
    return Number(rows[0]!.n) > 0;
  }

  before(async () => {
    admin = await mysql.createConnection({ uri: MY_URL });
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${userPassword}'`);
    await admin.query(`GRANT SELECT ON test.* TO '${user}'@'%'`);
  });
  after(async () => {
    for (const t of dropTables) await admin.query(`DROP TABLE IF EXISTS ${t}`);
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.end();
  });

  it('maps every column type, with nulls, and reads DATETIME and TIMESTAMP as UTC', async () => {
    const table = uniqueTable('my_types');
    dropTables.push(table);
    await admin.query(`CREATE TABLE ${table} (
      ti TINYINT, bo BOOLEAN, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT, bu BIGINT UNSIGNED, yr YEAR,
      fl FLOAT, db DOUBLE, de DECIMAL(10,3), d DATE, dt DATETIME(3), ts TIMESTAMP(3) NULL, tm TIME,
      vc VARCHAR(20), tx TEXT, en ENUM('a','b'), js JSON, bl BLOB, bt BIT(1), b8 BIT(8))`);
    // Insert the TIMESTAMP in another session time zone: the instant is what must come back.
    await admin.query("SET time_zone = '+02:00'");
    await admin.query(`INSERT INTO ${table} VALUES
      (5, TRUE, 300, 70000, -2, 3, 18446744073709551615, 2024, 1.5, 2.25, 12.345, '2024-03-05', '2024-03-05 14:30:00.123',
       '2024-03-05 16:30:00.123', '12:34:56', 'hello', 'world', 'b', '{"a": [1, 2]}', x'cafe', b'1', b'101'),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (-5, FALSE, -300, -70000, 2, 9007199254740993, 0, 1999, -0.5, 1e300, -0.001, '1999-12-31', '1999-12-31 23:59:59',
       '2000-01-01 01:59:59', '-01:00:00', '', 'x', 'a', '[]', x'', b'0', b'0')`);
    await admin.query("SET time_zone = '+00:00'");
    const src = sqlSource({ kind: 'sql', url: MY_URL, query: `SELECT * FROM ${table} ORDER BY ti IS NULL, ti DESC` }, NO_ENV);
    const { columns, rows } = await inTimeZone('America/New_York', () => readAll(src));
    expect(columns).to.deep.equal(['ti', 'bo', 'si', 'mi', 'i', 'bi', 'bu', 'yr', 'fl', 'db', 'de', 'd', 'dt', 'ts', 'tm', 'vc', 'tx', 'en', 'js', 'bl', 'bt', 'b8']);
    expect(src.declaredTypes()).to.deep.equal({
      ti: 'integer', bo: 'boolean', si: 'integer', mi: 'integer', i: 'integer', bi: 'integer', bu: 'integer', yr: 'integer',
      fl: 'number', db: 'number', de: 'number', d: 'datetime', dt: 'datetime', ts: 'datetime', bt: 'boolean', b8: 'integer',
    });
    expect(rows).to.deep.equal([
      [5, true, 300, 70000, -2, 3, '18446744073709551615', 2024, 1.5, 2.25, 12.345, new Date('2024-03-05T00:00:00Z'),
        new Date('2024-03-05T14:30:00.123Z'), new Date('2024-03-05T14:30:00.123Z'), '12:34:56', 'hello', 'world', 'b', '{"a": [1, 2]}', '\\xcafe', true, 5],
      [-5, false, -300, -70000, 2, '9007199254740993', 0, 1999, -0.5, 1e300, -0.001, new Date('1999-12-31T00:00:00Z'),
        new Date('1999-12-31T23:59:59Z'), new Date('1999-12-31T23:59:59Z'), '-01:00:00', '', 'x', 'a', '[]', '\\x', false, 0],
      Array(22).fill(null),
    ]);
  });

  it('reads a table (db-qualified, quoted) and a query, with lineage', async () => {
    const table = uniqueTable('my_Table');
    dropTables.push(`\`${table}\``);
    await admin.query(`CREATE TABLE \`${table}\` (id INT, \`Species\` VARCHAR(20), mass DECIMAL(6,1))`);
    await admin.query(`INSERT INTO \`${table}\` VALUES (1, 'Adelie', 3750.5), (2, 'Gentoo', NULL), (3, 'Adelie', 4100)`);
    const whole = sqlSource({ kind: 'sql', url: 'mariadb://root@127.0.0.1/test', table: `test.${table}` }, NO_ENV);
    expect((await readAll(whole)).rows).to.deep.equal([[1, 'Adelie', 3750.5], [2, 'Gentoo', null], [3, 'Adelie', 4100]]);
    expect(whole.lineage()).to.deep.equal({ kind: 'mysql', host: '127.0.0.1:3306', database: 'test', table: `test.${table}`, rows: 3 });

    const query = `SELECT Species, COUNT(*) AS n, SUM(mass) AS total FROM \`${table}\` GROUP BY Species ORDER BY Species`;
    const some = sqlSource({ kind: 'sql', url: MY_URL, query }, NO_ENV);
    const read = await readAll(some);
    expect(read.columns).to.deep.equal(['Species', 'n', 'total']);
    expect(read.rows).to.deep.equal([['Adelie', 2, 7850.5], ['Gentoo', 1, null]]);
    expect(some.declaredTypes()).to.deep.equal({ n: 'integer', total: 'number' });
    expect(some.lineage()).to.deep.equal({ kind: 'mysql', host: '127.0.0.1:3306', database: 'test', query, rows: 2 });
  });

  it('yields 10 chunks for 10k rows with chunkRows 1000', async () => {
    const table = uniqueTable('my_many');
    dropTables.push(table);
    await admin.query(`CREATE TABLE ${table} AS SELECT seq AS n FROM seq_1_to_10000`);
    const { chunks, rows } = await readAll(sqlSource({ kind: 'sql', url: MY_URL, query: `SELECT n FROM ${table} ORDER BY n` }, NO_ENV), 1000);
    expect(chunks.map((c) => c.rows.length)).to.deep.equal(Array(10).fill(1000));
    expect(rows[9999]).to.deep.equal([10000]);
    const empty = await readAll(sqlSource({ kind: 'sql', url: MY_URL, query: `SELECT n, CAST(n AS CHAR) AS s FROM ${table} WHERE n < 0` }, NO_ENV));
    expect(empty.chunks).to.deep.equal([{ columns: ['n', 's'], rows: [] }]);
  });

  it('closes the connection when the consumer breaks out early (SHOW PROCESSLIST), and on an error mid-stream', async () => {
    const src = sqlSource({ kind: 'sql', url: MY_URL, query: 'SELECT CONNECTION_ID() AS id, seq FROM seq_1_to_1000000' }, NO_ENV);
    let id = 0;
    for await (const chunk of src.chunks(100)) {
      id = chunk.rows[0]![0] as number;
      const [list] = await admin.query<mysql.RowDataPacket[]>('SHOW PROCESSLIST');
      expect(list.map((r) => r.Id as number)).to.include(id);
      break;
    }
    expect(await eventually(async () => !(await connectionAlive(id)))).to.equal(true);

    // An error after some rows have come: the rows before it are yielded, then the error; closed too.
    const failing = sqlSource({ kind: 'sql', url: MY_URL, query: 'SELECT CONNECTION_ID() AS id, seq FROM seq_1_to_10000 WHERE IF(seq = 5000, (SELECT 1 UNION SELECT 2), 1)' }, NO_ENV);
    let seen = 0;
    const err = await failure(async () => {
      for await (const chunk of failing.chunks(1000)) {
        id = chunk.rows[0]![0] as number;
        seen += chunk.rows.length;
      }
    });
    expectSourceError(err, 'mysql://root@127.0.0.1:3306/test: SQL error: Subquery returns more than 1 row');
    expect(seen).to.equal(4000);
    expect(await eventually(async () => !(await connectionAlive(id)))).to.equal(true);
  });

  it('streams 1M generated rows with RSS growth under 150 MB', async function () {
    this.timeout(30_000);
    const BOUND_MB = 150;
    const src = sqlSource({ kind: 'sql', url: MY_URL, query: "SELECT seq, seq * 0.5, CONCAT('cat', seq % 10) FROM seq_1_to_1000000" }, NO_ENV);
    const before = process.memoryUsage().rss;
    let peak = before;
    let count = 0;
    for await (const chunk of src.chunks(10_000)) {
      count += chunk.rows.length;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const growthMb = (peak - before) / 1024 / 1024;
    console.log(`      1M rows: RSS growth ${growthMb.toFixed(1)} MB (bound ${BOUND_MB} MB)`);
    expect(count).to.equal(1_000_000);
    expect(src.declaredTypes()).to.deep.equal({ seq: 'integer', 'seq * 0.5': 'number' });
    expect(growthMb).to.be.lessThan(BOUND_MB);
  });

  it('fails with one line naming the source: refused connection, bad password, unknown database, bad SQL, unknown table', async () => {
    const port = await freePort();
    const read = (url: string, spec: { query?: string; table?: string }, env: NodeJS.ProcessEnv = NO_ENV) =>
      failure(() => readAll(sqlSource({ kind: 'sql', url, ...spec }, env)));
    expectSourceError(await read(`mysql://root:${SECRET}@127.0.0.1:${port}/test`, { table: 't' }), `mysql://root:***@127.0.0.1:${port}/test: cannot connect (ECONNREFUSED)`);
    expectSourceError(
      await read(`mysql://root:${SECRET}@127.0.0.1:3306/test`, { table: 't' }),
      "mysql://root:***@127.0.0.1:3306/test: cannot log in: Access denied for user 'root'@'127.0.0.1' (using password: YES)",
    );
    expectSourceError(
      await read(`mysql://${user}:\${MLPIPE_TEST_MYPW}@127.0.0.1:3306/test`, { table: 't' }, { MLPIPE_TEST_MYPW: `${SECRET}-wrong` }),
      `mysql://${user}:***@127.0.0.1:3306/test: cannot log in: Access denied for user '${user}'@'127.0.0.1' (using password: YES)`,
      [SECRET],
    );
    expectSourceError(await read('mysql://root@127.0.0.1:3306/mlpipe_no_such_db', { table: 't' }), 'mysql://root@127.0.0.1:3306/mlpipe_no_such_db: database "mlpipe_no_such_db" does not exist');
    expectSourceError(
      await read(MY_URL, { query: 'SELEC 1' }),
      "mysql://root@127.0.0.1:3306/test: SQL error: You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'SELEC 1' at line 1",
    );
    expectSourceError(await read(MY_URL, { table: 'mlpipe_no_such_table' }), 'mysql://root@127.0.0.1:3306/test: table "mlpipe_no_such_table" does not exist');
    expectSourceError(
      await read(MY_URL, { query: 'SELECT * FROM mlpipe_no_such_table' }),
      "mysql://root@127.0.0.1:3306/test: SQL error: Table 'test.mlpipe_no_such_table' doesn't exist",
    );
  });

  it('logs in with a ${VAR} password holding URL characters, and never shows it', async () => {
    const src = sqlSource({ kind: 'sql', url: `mysql://${user}:\${MLPIPE_TEST_MYPW}@127.0.0.1:3306/test`, query: 'SELECT CURRENT_USER() AS u' }, {
      MLPIPE_TEST_MYPW: userPassword,
    });
    expect((await readAll(src)).rows).to.deep.equal([[`${user}@%`]]);
    expect(src.name).to.equal(`mysql://${user}:***@127.0.0.1:3306/test`);
    expect(JSON.stringify(src.lineage())).not.to.include('p@ss');
  });
});
