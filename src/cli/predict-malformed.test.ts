import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { buildScoringBundles } from '../test-helpers/scoring.js';

type Out = Record<string, unknown>;

/**
 * `mlpipe predict` on files with rows the READER refuses (issue 11, problem 2): a CSV row with too few
 * or too many fields, an NDJSON line that is not JSON or not an object, a JSON array element that is
 * not an object. Each is a bad row like a value of the wrong type: written in place with an `error`
 * (`null`), left out (`skip`), or exit 1 naming file and line (`fail`); the good rows get exactly the
 * predictions they get in a clean file. An unclosed quote swallows the rest of the file: exit 1 in
 * every mode. `mlpipe load` still refuses such rows.
 */
describe('mlpipe predict: rows the reader refuses are bad rows (real process)', function () {
  this.timeout(180_000);
  let dir: string;
  let artifacts: string;
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts } });

  const GOOD = [
    { date: '2024-03-11', area: 3.5, color: 'red', ok: true },
    { date: '2024-05-01', area: 8.25, color: 'green', ok: false },
    { date: '2023-12-24', area: 1, color: 'blue', ok: true },
  ];
  const csvLine = (r: (typeof GOOD)[number]) => `${r.date},${r.area},${r.color},${r.ok}`;
  /** Predictions of the good rows alone, as NDJSON objects, in order. */
  let clean: Out[];

  const ndjsonOut = (stdout: string) => stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Out);
  const predictNd = async (input: string, mode: string) => {
    const r = await cli(['predict', 'scoring', '--input', input, '--on-bad-row', mode]);
    return { ...r, out: r.code === 0 ? ndjsonOut(r.stdout) : [] };
  };

  before(async () => {
    dir = await tempDir();
    artifacts = await buildScoringBundles(dir, { strict: false });
    await writeFile(join(dir, 'clean.csv'), `date,area,color,ok\n${GOOD.map(csvLine).join('\n')}\n`);
    const r = await cli(['predict', 'scoring', '--input', 'clean.csv']);
    expect(r.code, r.stderr).to.equal(0);
    clean = ndjsonOut(r.stdout);
    expect(clean).to.have.length(3);
    // The rows differ, so that a shifted row would show.
    expect(new Set(clean.map((o) => JSON.stringify(o))).size).to.be.greaterThan(1);
  });
  after(cleanupTempDirs);

  /** Line 3 has 3 fields, line 5 has 5: the CSV of GOOD with a short and a long row between. */
  const BAD_CSV = `date,area,color,ok\n${csvLine(GOOD[0]!)}\n2024-03-11,3.5,red\n${csvLine(GOOD[1]!)}\n2024-05-01,8.25,green,false,x\n${csvLine(GOOD[2]!)}\n`;
  const SHORT = 'line 3: expected 4 fields like the header, found 3 (a value is missing, or a quote is not closed)';
  const LONG = 'line 5: expected 4 fields like the header, found 5 (a delimiter inside an unquoted value?)';

  it('CSV, --on-bad-row null: short and long rows written in place with an error naming the line; good rows as in a clean file; counted in --json', async () => {
    await writeFile(join(dir, 'fields.csv'), BAD_CSV);
    const r = await predictNd('fields.csv', 'null');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr.trimEnd()).to.equal(`2 rows could not be predicted (written with an error field); first: row 2 (line 3): ${SHORT.slice('line 3: '.length)}`);
    expect(r.out).to.deep.equal([clean[0], { prediction: null, probabilities: null, error: SHORT }, clean[1], { prediction: null, probabilities: null, error: LONG }, clean[2]]);

    const json = await cli(['predict', 'scoring', '--input', 'fields.csv', '--out', 'fields-out.csv', '--json']);
    expect(json.code, json.stderr).to.equal(0);
    const doc = JSON.parse(json.stdout) as Out;
    expect(doc).to.deep.include({ rows: 5, predicted: 3, badRows: 2, onBadRow: 'null' });
    expect(doc.firstBadRow).to.deep.equal({ row: 2, line: 3, column: 'ok', error: SHORT });
    const csv = parse(await readFile(join(dir, 'fields-out.csv'), 'utf8')) as string[][];
    expect(csv[0]).to.deep.equal(['prediction', 'proba_high', 'proba_low', 'error']);
    const probas = (o: Out | undefined) => o!.probabilities as Record<string, number>;
    expect([csv[1], csv[3], csv[5]]).to.deep.equal(clean.map((o) => [o.prediction, String(probas(o).high), String(probas(o).low), '']));
    expect(csv[2]).to.deep.equal(['', '', '', SHORT]);
    expect(csv[4]).to.deep.equal(['', '', '', LONG]);
  });

  it('CSV, --on-bad-row skip leaves them out; fail exits 1 naming file, row, line and column, writing nothing', async () => {
    await writeFile(join(dir, 'fields.csv'), BAD_CSV);
    const skip = await predictNd('fields.csv', 'skip');
    expect(skip.code, skip.stderr).to.equal(0);
    expect(skip.stderr).to.contain('2 rows could not be predicted (left out); first: row 2 (line 3): expected 4 fields like the header, found 3');
    expect(skip.out).to.deep.equal(clean);

    const fail = await cli(['predict', 'scoring', '--input', 'fields.csv', '--out', 'fail.csv', '--on-bad-row', 'fail']);
    expect(fail.code).to.equal(1);
    expect(fail.stderr.trimEnd()).to.equal(
      'mlpipe: fields.csv: row 2 (line 3), column "ok": expected 4 fields like the header, found 3 (a value is missing, or a quote is not closed); 1 more bad row (--on-bad-row null or skip predicts the other rows)',
    );
    await readFile(join(dir, 'fail.csv')).then(
      () => expect.fail('fail.csv was written'),
      (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
    );
  });

  it('NDJSON: a line that is not JSON, an array, a string: bad rows in place (null), left out (skip), exit 1 (fail); blank lines are no rows', async () => {
    const lines = [JSON.stringify(GOOD[0]), '{"date": "2024-01-01", area', JSON.stringify(GOOD[1]), '', '[1, 2]', '"just text"', JSON.stringify(GOOD[2])];
    await writeFile(join(dir, 'bad.ndjson'), `${lines.join('\n')}\n`);
    const nul = await predictNd('bad.ndjson', 'null');
    expect(nul.code, nul.stderr).to.equal(0);
    expect(nul.out).to.have.length(6);
    expect([nul.out[0], nul.out[2], nul.out[5]]).to.deep.equal(clean);
    expect(nul.out[1]).to.deep.include({ prediction: null, probabilities: null });
    expect(nul.out[1]!.error).to.match(/^line 2: invalid JSON at character \d+: /);
    expect(nul.out[3]).to.deep.equal({ prediction: null, probabilities: null, error: 'line 5: expected a record (a JSON object), found an array' });
    expect(nul.out[4]).to.deep.equal({ prediction: null, probabilities: null, error: 'line 6: expected a record (a JSON object), found "just text"' });
    expect(nul.stderr).to.contain('3 rows could not be predicted (written with an error field); first: row 2: invalid JSON at character');

    const skip = await predictNd('bad.ndjson', 'skip');
    expect(skip.code, skip.stderr).to.equal(0);
    expect(skip.out).to.deep.equal(clean);

    const fail = await predictNd('bad.ndjson', 'fail');
    expect(fail.code).to.equal(1);
    expect(fail.stderr.trimEnd().split('\n')).to.have.length(1);
    expect(fail.stderr).to.match(/^mlpipe: bad\.ndjson: row 2: invalid JSON at character \d+: .*; 2 more bad rows \(--on-bad-row null or skip predicts the other rows\)\n$/);
  });

  it('JSON array: an element that is not an object is a bad row (null, skip, fail)', async () => {
    await writeFile(join(dir, 'bad.json'), JSON.stringify([GOOD[0], 5, GOOD[1], null, GOOD[2]]));
    const nul = await predictNd('bad.json', 'null');
    expect(nul.code, nul.stderr).to.equal(0);
    expect(nul.out).to.deep.equal([
      clean[0],
      { prediction: null, probabilities: null, error: 'row 2: expected a record (a JSON object), found 5' },
      clean[1],
      { prediction: null, probabilities: null, error: 'row 4: expected a record (a JSON object), found null' },
      clean[2],
    ]);
    const skip = await predictNd('bad.json', 'skip');
    expect(skip.code, skip.stderr).to.equal(0);
    expect(skip.out).to.deep.equal(clean);
    const fail = await predictNd('bad.json', 'fail');
    expect(fail.code).to.equal(1);
    expect(fail.stderr.trimEnd()).to.equal('mlpipe: bad.json: row 2: expected a record (a JSON object), found 5; 1 more bad row (--on-bad-row null or skip predicts the other rows)');
  });

  it('an unclosed quote swallows the rest of the file: exit 1 in every mode, naming the line where it opens and why', async () => {
    await writeFile(join(dir, 'quote.csv'), `date,area,color,ok\n${csvLine(GOOD[0]!)}\n${csvLine(GOOD[1]!)}\n2024-03-11,"3.5,red,true\n${csvLine(GOOD[2]!)}\n`);
    for (const mode of ['null', 'skip', 'fail']) {
      const r = await predictNd('quote.csv', mode);
      expect(r.code, mode).to.equal(1);
      expect(r.stderr.trimEnd(), mode).to.equal(
        'mlpipe: quote.csv: row 3 (line 4): a quoted value is never closed (missing "): everything after it is inside the value, so the rest of the file cannot be split into rows; close the quote (or double a " inside a value: "")',
      );
    }
  });

  it('mlpipe load keeps refusing such rows, with either --on-bad-row', async () => {
    await writeFile(join(dir, 'fields.csv'), BAD_CSV);
    for (const mode of ['error', 'skip']) {
      const r = await cli(['load', 'fields.csv', '--out', `fields-${mode}.arrow`, '--on-bad-row', mode]);
      expect(r.code, mode).to.equal(1);
      expect(r.stderr.trimEnd(), mode).to.equal('mlpipe: fields.csv: row 2 (line 3), column "ok": expected 4 fields like the header, found 3 (a value is missing, or a quote is not closed)');
    }
  });
});
