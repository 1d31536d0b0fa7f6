import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import pg from 'pg';
import Database from 'better-sqlite3';
import { InterruptedError } from '../core/errors.js';
import { predictSource } from '../core/pipeline/predict.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import type { Predictor } from '../core/predictor/predictor.js';
import { BIN, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { mulberry32 } from '../test-helpers/random.js';
import { buildScoringBundles, scoringCsv, scoringRow } from '../test-helpers/scoring.js';

type Out = Record<string, unknown>;

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * `mlpipe predict` reads what `load` reads and writes CSV, NDJSON, JSON or Parquet as it goes (issue 15):
 * the same rows from a CSV file, a Parquet file, a spreadsheet, an .arrow dataset, a PostgreSQL table,
 * an SQLite file, a command's output and standard input get the same predictions; every output format
 * holds the same predictions; a bad row late in a CSV output still gets its error column; memory stays
 * at a few chunks; an interrupted run leaves nothing behind.
 */
describe('mlpipe predict: every source load reads, every output format, streaming', function () {
  this.timeout(300_000);
  let dir: string;
  let artifacts: string;
  let model: Predictor;
  const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts }, ...(input !== undefined ? { input } : {}) });
  const ndjson = (text: string) => text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Out);

  const N = 300;
  let rows: string[][];
  /** The predictions of score.csv, as NDJSON objects with the id column `key`. */
  let expected: Out[];

  before(async () => {
    dir = await tempDir();
    artifacts = await buildScoringBundles(dir, { strict: false });
    model = await loadPredictor('scoring', artifacts);
    const rand = mulberry32(5);
    rows = Array.from({ length: N }, () => scoringRow(rand));
    const keyed = rows.map((r, i) => [...r, `k${i + 1}`]);
    await writeFile(join(dir, 'score.csv'), scoringCsv(keyed).replace(/^date,area,color,ok/, 'date,area,color,ok,key'));
    const r = await cli(['predict', 'scoring', '--input', 'score.csv', '--id', 'key']);
    expect(r.code, r.stderr).to.equal(0);
    expected = ndjson(r.stdout);
    expect(expected).to.have.length(N);
    expect(new Set(expected.map((o) => o.prediction)).size).to.equal(2);
  });
  after(cleanupTempDirs);

  it('a Parquet file, a spreadsheet and an .arrow dataset give the predictions of the same rows in CSV', async () => {
    parquetWriteFile({
      filename: join(dir, 'score.parquet'),
      rowGroupSize: 64,
      columnData: [
        { name: 'date', type: 'TIMESTAMP', data: rows.map((r) => new Date(`${r[0]}T00:00:00Z`)) },
        { name: 'area', type: 'DOUBLE', data: rows.map((r) => Number(r[1])) },
        { name: 'color', type: 'STRING', data: rows.map((r) => r[2]!) },
        { name: 'ok', type: 'BOOLEAN', data: rows.map((r) => r[3] === 'true') },
        { name: 'key', type: 'STRING', data: rows.map((_, i) => `k${i + 1}`) },
      ],
    });
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('scores');
    sheet.addRow(['date', 'area', 'color', 'ok', 'key']);
    rows.forEach((r, i) => sheet.addRow([new Date(`${r[0]}T00:00:00Z`), Number(r[1]), r[2], r[3] === 'true', `k${i + 1}`]));
    await wb.xlsx.writeFile(join(dir, 'score.xlsx'));
    const load = await cli(['load', 'score.csv', '--out', 'score.arrow']);
    expect(load.code, load.stderr).to.equal(0);
    for (const input of ['score.parquet', 'score.xlsx', 'score.arrow']) {
      const r = await cli(['predict', 'scoring', '--input', input, '--id', 'key', '--chunk-rows', '70']);
      expect(r.code, `${input}: ${r.stderr}`).to.equal(0);
      expect(ndjson(r.stdout), input).to.deep.equal(expected);
    }
  });

  it('a PostgreSQL table and query, an SQLite file, a command and standard input give the same predictions', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const table = `predict_src_${process.pid}`;
    try {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.query(`CREATE TABLE ${table} (n integer, date date, area double precision, color text, ok boolean, key text)`);
      const values = rows.map((r, i) => `(${i + 1}, '${r[0]}', ${r[1]}, '${r[2]}', ${r[3]}, 'k${i + 1}')`).join(',');
      await client.query(`INSERT INTO ${table} VALUES ${values}`);
      const byTable = await cli(['predict', 'scoring', '--input', PG_URL, '--table', table, '--id', 'key', '--chunk-rows', '64']);
      expect(byTable.code, byTable.stderr).to.equal(0);
      expect(ndjson(byTable.stdout)).to.deep.equal(expected);
      const byQuery = await cli(['predict', 'scoring', '--input', PG_URL, '--query', `SELECT date, area, color, ok, key FROM ${table} ORDER BY n`, '--id', 'key']);
      expect(byQuery.code, byQuery.stderr).to.equal(0);
      expect(ndjson(byQuery.stdout)).to.deep.equal(expected);
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
    }

    const db = new Database(join(dir, 'score.db'));
    db.exec('CREATE TABLE t (date TEXT, area REAL, color TEXT, ok TEXT, key TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?)');
    rows.forEach((r, i) => insert.run(r[0], Number(r[1]), r[2], r[3], `k${i + 1}`));
    db.close();
    const sqlite = await cli(['predict', 'scoring', '--input', 'score.db', '--table', 't', '--id', 'key']);
    expect(sqlite.code, sqlite.stderr).to.equal(0);
    expect(ndjson(sqlite.stdout)).to.deep.equal(expected);

    const command = await cli(['predict', 'scoring', '--from-command', 'cat score.csv', '--format', 'csv', '--id', 'key']);
    expect(command.code, command.stderr).to.equal(0);
    expect(ndjson(command.stdout)).to.deep.equal(expected);

    const stdin = await cli(['predict', 'scoring', '--input', '-', '--id', 'key'], await readFile(join(dir, 'score.csv'), 'utf8'));
    expect(stdin.code, stdin.stderr).to.equal(0);
    expect(ndjson(stdin.stdout)).to.deep.equal(expected);
  });

  it('an HTTP JSON API, paged, gives the same predictions (JSON values taken as they are, as the server takes them)', async () => {
    const records = rows.map((r, i) => ({ date: r[0], area: Number(r[1]), color: r[2], ok: r[3] === 'true', key: `k${i + 1}` }));
    const server = createServer((req, res) => {
      const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '1');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: records.slice((page - 1) * 100, page * 100) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await cli(['predict', 'scoring', '--input', `http://127.0.0.1:${port}/rows`, '--records-path', 'data', '--paginate', 'page', '--id', 'key', '--chunk-rows', '64']);
      expect(r.code, r.stderr).to.equal(0);
      expect(ndjson(r.stdout)).to.deep.equal(expected);
    } finally {
      server.close();
    }
  });

  it('CSV, JSON and Parquet outputs hold the same predictions as NDJSON; JSON is the indented array it always was', async () => {
    for (const out of ['out.csv', 'out.json', 'out.parquet']) {
      const r = await cli(['predict', 'scoring', '--input', 'score.csv', '--id', 'key', '--out', out, '--chunk-rows', '50']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.contain(`predicted ${N} rows with scoring@`);
    }
    const json = await readFile(join(dir, 'out.json'), 'utf8');
    expect(json).to.equal(`${JSON.stringify(expected, null, 2)}\n`);
    const csv = parse(await readFile(join(dir, 'out.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(csv[0]!)).to.deep.equal(['key', 'prediction', 'proba_high', 'proba_low']);
    const probas = (o: Out) => o.probabilities as Record<string, number>;
    expect(csv.map((r) => [r.key, r.prediction, Number(r.proba_high), Number(r.proba_low)])).to.deep.equal(expected.map((o) => [o.key, o.prediction, probas(o).high, probas(o).low]));
    const bytes = await readFile(join(dir, 'out.parquet'));
    const table = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })) as Out[];
    expect(table.map((r) => [r.key, r.prediction, r.proba_high, r.proba_low])).to.deep.equal(expected.map((o) => [o.key, o.prediction, probas(o).high, probas(o).low]));
    expect(Object.keys(table[0]!)).to.deep.equal(['key', 'prediction', 'proba_high', 'proba_low', 'error']);
    expect(table.every((r) => r.error === null)).to.equal(true);
  });

  it('into an SQL table (PostgreSQL, SQLite): created, then appended to, rows in input order by input_row; a failing run leaves no table', async () => {
    const table = `predict_out_${process.pid}`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      const probas = (o: Out) => o.probabilities as Record<string, number>;
      const want = expected.map((o, i) => ({ key: o.key, input_row: String(i + 1), prediction: o.prediction, proba_high: probas(o).high, proba_low: probas(o).low, error: null }));
      const first = await cli(['predict', 'scoring', '--input', 'score.csv', '--id', 'key', '--out', PG_URL, '--out-table', table, '--chunk-rows', '64']);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stderr).to.contain(`predicted ${N} rows with scoring@1.0.0 → ${PG_URL} table ${table}`);
      const got = await client.query(`SELECT * FROM ${table} ORDER BY input_row`);
      expect(got.fields.map((f) => f.name)).to.deep.equal(['key', 'input_row', 'prediction', 'proba_high', 'proba_low', 'error']);
      expect(got.rows).to.deep.equal(want);
      const again = await cli(['predict', 'scoring', '--input', 'score.csv', '--id', 'key', '--out', PG_URL, '--out-table', table]);
      expect(again.code, again.stderr).to.equal(0);
      expect((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).to.equal(2 * N);

      // --on-bad-row fail with a bad row in the last chunk: the chunks written before are rolled back.
      await writeFile(join(dir, 'bad-end.csv'), `${await readFile(join(dir, 'score.csv'), 'utf8')}2024-02-30,1,red,true,kbad\n`);
      await client.query(`DROP TABLE ${table}`);
      const fail = await cli(['predict', 'scoring', '--input', 'bad-end.csv', '--id', 'key', '--out', PG_URL, '--out-table', table, '--on-bad-row', 'fail', '--chunk-rows', '64']);
      expect(fail.code).to.equal(1);
      expect(fail.stderr).to.contain(`bad-end.csv: row ${N + 1} (line ${N + 2}), column "date"`);
      expect((await client.query('SELECT to_regclass($1) AS t', [table])).rows[0].t).to.equal(null);
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
    }

    const sqlite = await cli(['predict', 'scoring', '--input', 'score.csv', '--out', 'scores.db', '--out-table', 'scores']);
    expect(sqlite.code, sqlite.stderr).to.equal(0);
    const db = new Database(join(dir, 'scores.db'), { readonly: true });
    const back = db.prepare('SELECT input_row, prediction FROM scores ORDER BY input_row').all() as { input_row: number; prediction: string }[];
    db.close();
    expect(back).to.deep.equal(expected.map((o, i) => ({ input_row: i + 1, prediction: o.prediction })));
  });

  it('CSV on standard output is the CSV file, byte for byte (multi-byte text across read pieces, a late bad row)', async () => {
    const rand = mulberry32(8);
    const many = Array.from({ length: 5000 }, (_, i) => [...scoringRow(rand), `clé-ünïcode-€-${i}`]);
    many[4200] = ['not a date', ...many[4200]!.slice(1)];
    await writeFile(join(dir, 'wide.csv'), scoringCsv(many).replace(/^date,area,color,ok/, 'date,area,color,ok,key'));
    const file = await cli(['predict', 'scoring', '--input', 'wide.csv', '--id', 'key', '--out', 'wide-out.csv', '--chunk-rows', '700']);
    expect(file.code, file.stderr).to.equal(0);
    const stdout = await cli(['predict', 'scoring', '--input', 'wide.csv', '--id', 'key', '--out-format', 'csv', '--chunk-rows', '700']);
    expect(stdout.code, stdout.stderr).to.equal(0);
    const text = await readFile(join(dir, 'wide-out.csv'), 'utf8');
    expect(Buffer.byteLength(text)).to.be.greaterThan(128 * 1024);
    expect(stdout.stdout).to.equal(text);
    expect(text.split('\n')[0]).to.equal('key,prediction,proba_high,proba_low,error');
  });

  it('a bad row after many chunks of good ones: the CSV output gets its error column, with an empty cell on every row before (quoted ids with commas and line breaks kept whole)', async () => {
    const lines = rows.map((r, i) => [...r, i === 3 ? 'has "quotes", a comma\nand a line' : `k${i + 1}`]);
    lines[250] = ['2024-02-30', ...lines[250]!.slice(1)];
    const text = scoringCsv(lines).replace(/^date,area,color,ok/, 'date,area,color,ok,key');
    await writeFile(join(dir, 'late.csv'), text);
    const r = await cli(['predict', 'scoring', '--input', 'late.csv', '--id', 'key', '--out', 'late-out.csv', '--chunk-rows', '40']);
    expect(r.code, r.stderr).to.equal(0);
    // Line 253: the id of row 4 spans two lines.
    expect(r.stderr).to.contain('1 row could not be predicted (written with an error column); first: row 251 (line 253)');
    const csv = parse(await readFile(join(dir, 'late-out.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(csv).to.have.length(N);
    expect(Object.keys(csv[0]!)).to.deep.equal(['key', 'prediction', 'proba_high', 'proba_low', 'error']);
    expect(csv[3]!.key).to.equal('has "quotes", a comma\nand a line');
    csv.forEach((row, i) => {
      if (i === 250) expect(row).to.deep.include({ prediction: '', proba_high: '', error: '/date: expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "2024-02-30"' });
      else {
        expect(row.error, `row ${i + 1}`).to.equal('');
        expect(row.prediction, `row ${i + 1}`).to.equal(i === 3 ? expected[3]!.prediction : expected[i]!.prediction);
      }
    });
    // The same answer as one chunk gives.
    const whole = await cli(['predict', 'scoring', '--input', 'late.csv', '--id', 'key', '--out', 'late-whole.csv']);
    expect(whole.code, whole.stderr).to.equal(0);
    expect(await readFile(join(dir, 'late-out.csv'), 'utf8')).to.equal(await readFile(join(dir, 'late-whole.csv'), 'utf8'));
  });

  it('memory stays at a few chunks: 600,000 rows streamed through, the heap grows far less than the input', async () => {
    const total = 600_000;
    const rand = mulberry32(9);
    let made = 0;
    const input = new Readable({
      read() {
        if (made === 0) this.push('date,area,color,ok\n');
        let text = '';
        for (let i = 0; i < 5000 && made < total; i++, made++) text += `${scoringRow(rand).join(',')}\n`;
        this.push(text === '' ? null : text);
      },
    });
    let bytesOut = 0;
    const output = new Writable({
      write(chunk: Buffer, _enc, done) {
        bytesOut += chunk.length;
        done();
      },
    });
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 20);
    try {
      const result = await predictSource({ ref: 'scoring', artifacts, model, source: { kind: 'stdin', format: 'csv' }, stdin: input, stdout: output, out: '-', chunkRows: 5000, jobs: 1 });
      expect(result.predicted).to.equal(total);
    } finally {
      clearInterval(timer);
    }
    const grew = (peak - before) / 2 ** 20;
    // The input is ~17 MB of text and the output ~35 MB; holding either (or 600k records) would be hundreds of MB.
    expect(bytesOut).to.be.greaterThan(30 * 2 ** 20);
    expect(grew, `heap grew ${grew.toFixed(1)} MB`).to.be.lessThan(80);
  });

  it('an interrupted run leaves no output file and no temporary file', async () => {
    const controller = new AbortController();
    let made = 0;
    const rand = mulberry32(1);
    const input = new Readable({
      read() {
        if (made === 0) this.push('date,area,color,ok\n');
        let text = '';
        for (let i = 0; i < 1000; i++, made++) text += `${scoringRow(rand).join(',')}\n`;
        if (made >= 20_000) controller.abort();
        this.push(text);
      },
    });
    for (const out of ['stopped.csv', 'stopped.parquet', 'stopped.json']) {
      made = 0;
      const stopped = predictSource({ ref: 'scoring', artifacts, model, source: { kind: 'stdin', format: 'csv' }, stdin: input, out: join(dir, 'interrupted', out), chunkRows: 1000, signal: controller.signal });
      const err = await stopped.then(
        () => expect.fail('not interrupted'),
        (e: unknown) => e,
      );
      expect(err, out).to.be.instanceOf(InterruptedError);
    }
    expect(await readdir(join(dir, 'interrupted')).catch(() => [])).to.deep.equal([]);
  });

  it('SIGTERM mid-run (real process, input still arriving on stdin): exit 130, no output file, no temporary file, no SQL table', async () => {
    const table = `predict_sigterm_${process.pid}`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      for (const out of [['--out', 'sigterm/out.csv'], ['--out', PG_URL, '--out-table', table]]) {
        await mkdir(join(dir, 'sigterm'), { recursive: true });
        const child = spawn(process.execPath, [BIN, 'predict', 'scoring', '--input', '-', ...out, '--chunk-rows', '500'], {
          cwd: dir,
          env: { ...process.env, MLPIPE_ARTIFACTS: artifacts },
          stdio: ['pipe', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        const rand = mulberry32(3);
        child.stdin.on('error', () => {});
        child.stdin.write('date,area,color,ok\n');
        // Rows enough for several chunks to be written, and the input left open: the run is mid-way.
        for (let i = 0; i < 20; i++) child.stdin.write(`${Array.from({ length: 500 }, () => scoringRow(rand).join(',')).join('\n')}\n`);
        const written = async () =>
          out[1] === PG_URL
            ? (await client.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction' AND query LIKE $1", [`%INSERT INTO "${table}"%`])).rows[0].n > 0
            : (await readdir(join(dir, 'sigterm'))).some((e) => e.includes('.tmp-'));
        const deadline = Date.now() + 60_000;
        while (!(await written())) {
          if (Date.now() > deadline) expect.fail(`nothing written after 60 s: ${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        child.kill('SIGTERM');
        const code = await exit;
        expect(code, `${out.join(' ')}: ${stderr}`).to.equal(130);
        expect(await readdir(join(dir, 'sigterm')), out.join(' ')).to.deep.equal([]);
      }
      expect((await client.query('SELECT to_regclass($1) AS t', [table])).rows[0].t).to.equal(null);
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
    }
  });

  it('flags that do not fit are usage errors naming them', async () => {
    const cases: [string[], string][] = [
      [['--input', 'score.csv', '--out', 'x.csv', '--out-table', 't'], '--out-table: only with --out naming a database'],
      [['--input', 'score.csv', '--out', PG_URL], '--out-table: postgres://postgres@127.0.0.1:5432/test is a database: name the table the predictions go to'],
      [['--input', 'score.csv', '--out-format', 'parquet'], '--out-format parquet: a Parquet file cannot go to standard output'],
      [['--input', 'score.csv', '--out', 'x.xml'], 'x.xml: predictions are written as .csv, .json, .ndjson or .parquet'],
      [['--out', 'x.csv'], '--input: give what to predict'],
      [['--input', 'score.csv', '--table', 't'], '--table: only for an SQL source'],
      [['--input', 'score.csv', '--id', 'nope'], '--id: no column "nope" in score.csv'],
      [['--input', 'score.csv', '--out', 'bad.db', '--out-table', 'a"b'], 'table name "a\\"b" contains the quote character'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['predict', 'scoring', ...args]);
      expect(r.code, args.join(' ')).to.be.oneOf([1, 2]);
      expect(r.stderr, args.join(' ')).to.contain(message);
    }
  });
});
