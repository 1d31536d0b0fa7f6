/**
 * `mlpipe load` and `mlpipe run` with every kind of source, as real processes: PostgreSQL at
 * 127.0.0.1:5432 (trust auth, database `test`; each test makes and drops its own table), SQLite files,
 * an HTTP API served by the test on 127.0.0.1:0, commands, and combined sources. Secrets given through
 * the environment must never reach a file, stdout or stderr; a failing source must leave no dataset
 * behind and an existing one untouched.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import Database from 'better-sqlite3';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BIN, type CliRun, EXAMPLES, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { expectOneLineError } from '../test-helpers/expect-cli.js';

const PASSWORD = 's3cr3t-pa55';
const TOKEN = 'tok-9f8e7d6c5b4a';
const PG_URL = 'postgres://postgres:${MLPIPE_TEST_PW}@127.0.0.1:5432/test';
const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/test';

/** Every file under a folder, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Asserts that `secret` is in no file under `dir` (bytes, as UTF-8) and in no output of the runs. */
async function expectNoSecret(secret: string, dir: string, runs: CliRun[]): Promise<number> {
  const files = await filesUnder(dir);
  for (const file of files) {
    const bytes = await readFile(file);
    expect(bytes.includes(Buffer.from(secret)), `${file} holds the secret`).to.equal(false);
    expect(bytes.includes(Buffer.from(secret, 'utf16le')), `${file} holds the secret (UTF-16)`).to.equal(false);
  }
  for (const r of runs) {
    expect(r.stdout, 'stdout').not.to.contain(secret);
    expect(r.stderr, 'stderr').not.to.contain(secret);
  }
  return files.length;
}


/** A usage error: exit 2, one line naming the flag. */
function expectUsageError(run: CliRun, flag: string): void {
  expect(run.code, run.stderr).to.equal(2);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).to.have.length(1);
  expect(lines[0]).to.contain(flag);
}

/** 90 rows of a small classification problem: label is a when x > 0.5, else b (with a category and an id). */
function exampleRows(): { id: number; x: number; n: number; color: string; label: string }[] {
  return Array.from({ length: 90 }, (_, i) => {
    const x = ((i * 37) % 100) / 100;
    return { id: i + 1, x, n: (i * 7) % 11, color: ['red', 'green', 'blue'][i % 3]!, label: x > 0.5 ? 'a' : 'b' };
  });
}

describe('CLI load and run with every source kind (real process)', function () {
  this.timeout(180_000);
  let dir: string;
  let admin: pg.Client;
  const table = `mlpipe_cli_${process.pid}_${Date.now().toString(36)}`;
  let server: Server;
  let base: string;
  const requests: { url: string; auth: string | undefined }[] = [];
  const env = { MLPIPE_TEST_PW: PASSWORD, API_TOKEN: TOKEN };
  const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env: { ...env, MLPIPE_ARTIFACTS: join(dir, 'artifacts') }, input });

  before(async () => {
    dir = await tempDir();
    admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, x double precision, n bigint, color text, label text, seen timestamptz)`);
    for (const r of exampleRows()) {
      await admin.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5, $6)`, [r.id, r.x, r.n, r.color, r.label, new Date(Date.UTC(2024, 0, 1 + (r.id % 28)))]);
    }
    const db = new Database(join(dir, 'shop.db'));
    db.exec('CREATE TABLE customers (id INTEGER, name TEXT, vip INTEGER)');
    const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?)');
    for (const r of exampleRows()) insert.run(r.id, `c${r.id}`, r.id % 4 === 0 ? 1 : 0);
    db.close();
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push({ url: req.url ?? '', auth: req.headers.authorization });
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      if (url.pathname !== '/items') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const page = Number(url.searchParams.get('page') ?? '1');
      const size = Number(url.searchParams.get('per_page') ?? '30');
      const rows = exampleRows().slice((page - 1) * size, page * size);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: rows, page }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${table}`);
    await admin?.end();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await cleanupTempDirs();
  });

  describe('PostgreSQL, password from the environment', () => {
    it('load writes a typed dataset with the database\'s own types and a redacted lineage', async () => {
      const r = await cli(['load', PG_URL, '--table', table, '--out', 'pg.arrow', '--profile', 'pg-profile.json', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const doc = JSON.parse(r.stdout) as { rows: number; schema: { name: string; type: string }[]; lineage: { source: Record<string, unknown> } };
      expect(doc.rows).to.equal(90);
      expect(doc.schema).to.deep.equal([
        { name: 'id', type: 'integer' },
        { name: 'x', type: 'number' },
        { name: 'n', type: 'integer' },
        { name: 'color', type: 'category' },
        { name: 'label', type: 'category' },
        { name: 'seen', type: 'datetime' },
      ]);
      expect(doc.lineage.source).to.include({ kind: 'postgres', host: '127.0.0.1:5432', database: 'test', table, rows: 90 });
      const text = await cli(['load', PG_URL, '--query', `SELECT id, label FROM ${table} WHERE id <= 10`, '--out', 'pg10.arrow']);
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout.trim()).to.equal('wrote pg10.arrow: 10 rows × 2 columns (id: integer, label: category)');
      expect(text.stderr).to.equal('');
    });

    it('run pipeline.yaml goes from the database to a bundle; the password is in no file and no output', async () => {
      await writeFile(
        join(dir, 'pg-pipeline.yaml'),
        [
          'name: from-postgres',
          'source:',
          `  sql: "${PG_URL}"`,
          `  query: SELECT id, x, n, color, label FROM ${table} ORDER BY id`,
          'target: label',
          'seed: 1',
          'model: {trees: 5}',
          'package: {artifacts: artifacts}',
          '',
        ].join('\n'),
      );
      const r = await cli(['run', 'pg-pipeline.yaml', '--work-dir', 'pg-work']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trimEnd().split('\n').pop()).to.equal('from-postgres@1.0.0');
      const manifest = JSON.parse(await readFile(join(dir, 'artifacts', 'from-postgres', '1.0.0', 'manifest.json'), 'utf8')) as {
        lineage: { dataset: { rows: number; fingerprint: string; source: Record<string, unknown> } };
      };
      expect(manifest.lineage.dataset.rows).to.equal(90);
      expect(manifest.lineage.dataset.source).to.deep.include({ kind: 'postgres', host: '127.0.0.1:5432', database: 'test', rows: 90 });
      expect(manifest.lineage.dataset.fingerprint).to.match(/^sha256:[0-9a-f]{64}$/);
      const show = await cli(['bundles', 'show', 'from-postgres']);
      expect(show.stdout).to.contain('data: postgres://127.0.0.1:5432/test (query) (90 rows, sha256:');
      // dataset and profile (load), features, model, bundle and manifest (run): no password anywhere
      const runs = [r, show];
      const count = await expectNoSecret(PASSWORD, dir, runs);
      expect(count).to.be.greaterThan(10);
      for (const f of ['pg-work/features/dataset.arrow', 'pg-work/features/features.json', 'pg-work/model/training.json']) {
        expect((await stat(join(dir, f))).size, f).to.be.greaterThan(0);
      }
    });

    it('bad SQL and an unreachable server: exit 1, one line naming the source, no dataset, an existing one untouched', async () => {
      await writeFile(join(dir, 'keep.arrow'), 'the existing dataset');
      const before = (await readdir(dir)).sort();
      const badSql = await cli(['load', PG_URL, '--query', 'SELECT nope FROM nowhere_at_all', '--out', 'keep.arrow']);
      expectOneLineError(badSql, 'postgres://postgres:***@127.0.0.1:5432/test: SQL error: relation "nowhere_at_all" does not exist');
      const refused = await cli(['load', 'postgres://postgres:${MLPIPE_TEST_PW}@127.0.0.1:1/test', '--table', 't', '--out', 'keep.arrow']);
      expectOneLineError(refused, 'postgres://postgres:***@127.0.0.1:1/test: cannot connect');
      const fresh = await cli(['load', PG_URL, '--query', 'SELECT 1/0 AS x', '--out', 'new.arrow']);
      expectOneLineError(fresh, 'postgres://postgres:***@127.0.0.1:5432/test: SQL error: division by zero');
      expect(await readFile(join(dir, 'keep.arrow'), 'utf8')).to.equal('the existing dataset');
      expect((await readdir(dir)).sort()).to.deep.equal(before);
      await expectNoSecret(PASSWORD, dir, [badSql, refused, fresh]);
    });
  });

  describe('HTTP API, bearer token from the environment', () => {
    it('load follows pages with the token from --bearer-env; the token is in no file and no output', async () => {
      requests.length = 0;
      const r = await cli(['load', `${base}/items`, '--bearer-env', 'API_TOKEN', '--paginate', 'page', '--page-size', '40', '--records-path', 'data', '--out', 'http.arrow', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const doc = JSON.parse(r.stdout) as { rows: number; schema: { name: string; type: string }[]; lineage: { source: Record<string, unknown> } };
      expect(doc.rows).to.equal(90);
      expect(doc.schema.map((c) => `${c.name}: ${c.type}`)).to.deep.equal(['id: integer', 'x: number', 'n: integer', 'color: category', 'label: category']);
      expect(doc.lineage.source).to.include({ kind: 'http', url: `${base}/items`, method: 'GET', pages: 3, rows: 90 });
      expect(requests.map((q) => q.url)).to.deep.equal(['/items?page=1&per_page=40', '/items?page=2&per_page=40', '/items?page=3&per_page=40']);
      expect(requests.every((q) => q.auth === `Bearer ${TOKEN}`)).to.equal(true);
      await expectNoSecret(TOKEN, dir, [r]);
    });

    it('run pipeline.yaml from the API to a bundle; the token is in no file and no output', async () => {
      await writeFile(
        join(dir, 'http-pipeline.yaml'),
        [
          'name: from-http',
          'source:',
          `  http: ${base}/items`,
          '  bearerToken: ${API_TOKEN}',
          '  recordsPath: data',
          '  pagination: {type: page, size: 25}',
          'target: label',
          'features: {drop: [id]}',
          'model: {trees: 5}',
          'package: {artifacts: artifacts}',
          '',
        ].join('\n'),
      );
      const r = await cli(['run', 'http-pipeline.yaml', '--work-dir', 'http-work', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { bundle: string; rows: number }).bundle).to.equal('from-http@1.0.0');
      const manifest = JSON.parse(await readFile(join(dir, 'artifacts', 'from-http', '1.0.0', 'manifest.json'), 'utf8')) as { lineage: { dataset: { source: Record<string, unknown> } } };
      expect(manifest.lineage.dataset.source).to.include({ kind: 'http', url: `${base}/items`, pages: 4, rows: 90 });
      await expectNoSecret(TOKEN, dir, [r]);
    });

    it('HTTP 404 and 401: exit 1, one line naming the source, no dataset, an existing one untouched', async () => {
      await writeFile(join(dir, 'keep2.arrow'), 'another existing dataset');
      const before = (await readdir(dir)).sort();
      const missing = await cli(['load', `${base}/nothing-here`, '--bearer-env', 'API_TOKEN', '--out', 'keep2.arrow']);
      expectOneLineError(missing, `${base}/nothing-here`, '404');
      const denied = await cli(['load', `${base}/items`, '--out', 'new.arrow']);
      expectOneLineError(denied, `${base}/items`, '401');
      const closed = await cli(['load', 'http://127.0.0.1:1/items', '--retries', '0', '--out', 'new.arrow']);
      expectOneLineError(closed, 'http://127.0.0.1:1/items');
      expect(await readFile(join(dir, 'keep2.arrow'), 'utf8')).to.equal('another existing dataset');
      expect((await readdir(dir)).sort()).to.deep.equal(before);
      await expectNoSecret(TOKEN, dir, [missing, denied, closed]);
    });
  });

  describe('files, commands, SQLite and combined sources', () => {
    it('--on-bad-row skip: the summary says how many rows were skipped and which; --types and --infer-rows', async () => {
      await writeFile(join(dir, 'prices.csv'), 'id,price,zip\n1,9.5,02134\n2,free,10001\n3,7,02139\n4,n/a,94105\n5,?,60601\n6,cheap,30301\n');
      const r = await cli(['load', 'prices.csv', '--out', 'prices.arrow', '--types', 'price=number,zip=category', '--on-bad-row', 'skip']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.equal('wrote prices.arrow: 4 rows × 3 columns (id: integer, price: number, zip: category), skipped 2 bad rows (rows 2, 6)');
      expect(r.stderr.trimEnd().split('\n')).to.deep.equal([
        'skipped row 2 (line 3), column "price": expected a number, got "free" (column type number)',
        'skipped row 6 (line 7), column "price": expected a number, got "cheap" (column type number)',
      ]);
      const json = JSON.parse((await cli(['load', 'prices.csv', '--out', 'prices.arrow', '--types', 'price=number', '--on-bad-row', 'skip', '--json'])).stdout) as {
        skipped: { count: number; first: { row: number; line: number; column: string }[] };
        lineage: { skippedRows: number; types: Record<string, string> };
      };
      expect(json.skipped.count).to.equal(2);
      expect(json.skipped.first.map((s) => s.row)).to.deep.equal([2, 6]);
      expect(json.lineage).to.deep.include({ skippedRows: 2, types: { price: 'number' } });
      const stop = await cli(['load', 'prices.csv', '--out', 'stop.arrow', '--types', 'price=number']);
      expectOneLineError(stop, 'prices.csv: row 2 (line 3), column "price": expected a number, got "free" (column type number)');
      const inferred = await cli(['load', 'prices.csv', '--out', 'inferred.arrow', '--infer-rows', '1', '--on-bad-row', 'skip']);
      expect(inferred.stdout).to.contain('(id: integer, price: number, zip: integer), skipped 2 bad rows (rows 2, 6)');
      expect(await readdir(dir)).not.to.include('stop.arrow');
    });

    it('--from-command, a SQLite file, and --chunk-rows', async () => {
      const cmd = await cli(['load', '--from-command', `node -e "for (let i = 0; i < 25; i++) console.log(JSON.stringify({i, even: i % 2 === 0}))"`, '--out', 'cmd.arrow', '--chunk-rows', '7']);
      expect(cmd.code, cmd.stderr).to.equal(0);
      expect(cmd.stdout.trim()).to.equal('wrote cmd.arrow: 25 rows × 2 columns (i: integer, even: boolean)');
      const sqlite = await cli(['load', 'shop.db', '--table', 'customers', '--out', 'customers.arrow']);
      expect(sqlite.code, sqlite.stderr).to.equal(0);
      expect(sqlite.stdout).to.contain('wrote customers.arrow: 90 rows × 3 columns (id: integer, name: category, vip: integer)');
      const again = await cli(['load', 'customers.arrow', '--out', 'customers2.arrow', '--json']);
      expect((JSON.parse(again.stdout) as { lineage: { source: { kind: string; parent: { source: { kind: string } } } } }).lineage.source.parent.source.kind).to.equal('sqlite');
    });

    it('run pipeline.yaml with a CSV left-joined to a SQLite table (relative sqlite: path) and concatenated sources', async () => {
      const rows = exampleRows();
      await writeFile(join(dir, 'orders.csv'), `id,x,color,label\n${rows.map((r) => `${r.id},${r.x},${r.color},${r.label}`).join('\n')}\n`);
      await writeFile(
        join(dir, 'join.yaml'),
        ['name: joined', 'source:', '  - orders.csv', '  - {sql: "sqlite:shop.db", table: customers}', 'combine: {how: left, on: [id]}', 'target: label', 'model: {trees: 3}', 'package: {artifacts: artifacts}', ''].join('\n'),
      );
      const r = await cli(['run', 'join.yaml', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const manifest = JSON.parse(await readFile(join(dir, 'artifacts', 'joined', '1.0.0', 'manifest.json'), 'utf8')) as { lineage: { dataset: { columns: number; source: { kind: string; how: string; on: string[]; sources: { kind: string }[] } } } };
      expect(manifest.lineage.dataset.columns).to.equal(6);
      expect(manifest.lineage.dataset.source).to.deep.include({ kind: 'join', how: 'left', on: ['id'] });
      expect(manifest.lineage.dataset.source.sources.map((s) => s.kind)).to.deep.equal(['file', 'sqlite']);
      await writeFile(join(dir, 'more.csv'), 'id,x,color,label\n1000,0.9,red,a\n1001,0.1,blue,b\n');
      await writeFile(join(dir, 'concat.yaml'), ['name: stacked', 'source: [orders.csv, more.csv]', 'combine: {how: concat}', 'target: label', 'model: {trees: 3}', 'package: {artifacts: artifacts}', ''].join('\n'));
      const c = await cli(['run', 'concat.yaml', '--json']);
      expect(c.code, c.stderr).to.equal(0);
      expect((JSON.parse(c.stdout) as { rows: number }).rows).to.equal(92);
      await writeFile(join(dir, 'nokey.yaml'), ['source:', '  - orders.csv', '  - {sql: "sqlite:shop.db", query: "SELECT name FROM customers"}', 'combine: {how: inner, on: [id]}', 'target: label', 'name: x', ''].join('\n'));
      expectOneLineError(await cli(['run', 'nokey.yaml']), 'nokey.yaml: source[1].on: key column "id" is not in sqlite:', '(columns: name) (line 3)');
    });

    it('run <source> reads every source kind with the same flags as load; source flags beside a pipeline.yaml are usage errors', async () => {
      const db = await cli(['run', 'shop.db', '--query', 'SELECT id % 7 AS k, id % 3 AS m, vip FROM customers', '--target', 'vip', '--name', 'fromdb', '--trees', '3', '--artifacts', 'artifacts', '--json']);
      expect(db.code, db.stderr).to.equal(0);
      const dbOut = JSON.parse(db.stdout) as { bundle: string; rows: number };
      expect(dbOut).to.include({ bundle: 'fromdb@1.0.0', rows: 90 });
      const manifest = JSON.parse(await readFile(join(dir, 'artifacts', 'fromdb', '1.0.0', 'manifest.json'), 'utf8')) as { lineage: { dataset: { source: { kind: string; query: string } } } };
      expect(manifest.lineage.dataset.source).to.deep.include({ kind: 'sqlite', query: 'SELECT id % 7 AS k, id % 3 AS m, vip FROM customers' });
      const cmd = await cli([
        'run', '--from-command', `node -e "for (let i = 0; i < 40; i++) console.log(JSON.stringify({x: i % 9, y: i % 4, even: i % 2 === 0}))"`,
        '--target', 'even', '--name', 'fromcmd', '--trees', '3', '--artifacts', 'artifacts', '--types', 'y=category', '--json',
      ]);
      expect(cmd.code, cmd.stderr).to.equal(0);
      expect(JSON.parse(cmd.stdout) as { bundle: string; rows: number }).to.include({ bundle: 'fromcmd@1.0.0', rows: 40 });
      await writeFile(join(dir, 'plain.yaml'), ['name: plain', 'source: orders.csv', 'target: label', ''].join('\n'));
      expectUsageError(await cli(['run', 'plain.yaml', '--query', 'SELECT 1']), '--query');
      expectUsageError(await cli(['run', 'plain.yaml', '--no-header']), '--header');
      expectUsageError(await cli(['run', 'shop.db', '--target', 'vip', '--name', 'x']), '--query');
    });

    it('featurize and run keep working on files', async () => {
      const penguins = join(EXAMPLES, 'penguins', 'penguins.csv');
      const f = await cli(['featurize', penguins, '--target', 'Species', '--out', 'pf']);
      expect(f.code, f.stderr).to.equal(0);
      expect(f.stdout).to.contain('344 rows → 16 features');
      const r = await cli(['run', penguins, '--target', 'Species', '--name', 'pq', '--trees', '3', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { rows: number }).rows).to.equal(344);
    });

    it('Ctrl-C stops a load: exit 130, the command is stopped, no temporary files, the existing dataset untouched', async () => {
      const folder = join(dir, 'interrupt');
      await (await import('node:fs/promises')).mkdir(folder);
      await writeFile(join(folder, 'data.arrow'), 'the existing dataset');
      // an endless source: a command printing a record every few milliseconds
      const command = 'node -e "let i = 0; setInterval(() => console.log(JSON.stringify({i: i++})), 2)"';
      const child = spawn(process.execPath, [BIN, 'load', '--from-command', command, '--out', 'data.arrow'], { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      await new Promise((resolve) => setTimeout(resolve, 2500));
      child.kill('SIGINT');
      const [code] = (await once(child, 'close')) as [number | null];
      expect(code, stderr).to.equal(130);
      expect(stderr.trim()).to.equal('mlpipe: interrupted');
      expect(await readdir(folder)).to.deep.equal(['data.arrow']);
      expect(await readFile(join(folder, 'data.arrow'), 'utf8')).to.equal('the existing dataset');
    });

    it('bad flag values and flags that do not fit the source are usage errors (exit 2) naming the flag', async () => {
      const cases: [string[], string][] = [
        [['load', 'prices.csv', '--out', 'x.arrow', '--chunk-rows', '0'], '--chunk-rows'],
        [['load', 'prices.csv', '--out', 'x.arrow', '--infer-rows', 'many'], '--infer-rows'],
        [['load', 'prices.csv', '--out', 'x.arrow', '--on-bad-row', 'ignore'], '--on-bad-row'],
        [['load', 'prices.csv', '--out', 'x.arrow', '--types', 'zip=string'], '--types'],
        [['load', 'prices.csv', '--out', 'x.arrow', '--types', 'zip'], '--types'],
        [['load', 'prices.csv', '--out', 'x.arrow', '--query', 'select 1'], '--query'],
        [['load', 'shop.db', '--out', 'x.arrow'], '--query'],
        [['load', '--out', 'x.arrow'], '<source>'],
        [['load', 'prices.csv', '--from-command', 'ls', '--out', 'x.arrow'], '--from-command'],
        [['load', `${base}/items`, '--out', 'x.arrow', '--paginate', 'scroll'], '--paginate'],
        [['load', `${base}/items`, '--out', 'x.arrow', '--paginate', 'cursor', '--page-param', 'c'], '--cursor-path'],
        [['load', `${base}/items`, '--out', 'x.arrow', '--method', 'DELETE'], '--method'],
        [['load', `${base}/items`, '--out', 'x.arrow', '--data', '{oops'], '--data'],
        [['load', `${base}/items`, '--out', 'x.arrow', '-H', 'no colon here'], '--http-header'],
        [['load', `${base}/items`, '--out', 'x.arrow', '--bearer-env', 'MLPIPE_TEST_NOT_SET_ANYWHERE'], '--bearer-env'],
        [['load', `${base}/items`, '--out', 'x.arrow', '--timeout', '-5'], '--timeout'],
        [['load', `${base}/items`, '--out', 'x.arrow', '--retries', 'x'], '--retries'],
        [['load', 'prices.csv', '--out', 'x.arrow', '--delimiter', ';;'], '--delimiter'],
        [['load', 'prices.csv', '--out', 'x.arrow', '--format', 'xls'], '--format'],
      ];
      for (const [args, flag] of cases) expectUsageError(await cli(args), flag);
      expect(await readdir(dir)).not.to.include('x.arrow');
    });
  });
});
