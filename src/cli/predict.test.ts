import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { buildScoringBundles, scoringCsv } from '../test-helpers/scoring.js';

/**
 * `mlpipe predict` on files with missing and bad values (issue 11, problem 2): a value missing in a
 * column that was complete in training is imputed; a bad row is written with an error (default),
 * left out or fatal, per `--on-bad-row`; the count is printed and in `--json`.
 */
describe('mlpipe predict: missing values and bad rows (real process)', function () {
  this.timeout(180_000);
  let dir: string;
  let artifacts: string;
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts } });

  /** Rows 1 and 4 are good; 2 lacks its date (complete in training); 3 has an impossible date; 5 a number that is not one. */
  const SCORE = scoringCsv([
    ['2024-03-11', '3.5', 'red', 'true'],
    ['', '4.0', 'blue', 'false'],
    ['2024-02-30', '1', 'red', 'true'],
    ['2024-05-01', '8.25', 'green', 'false'],
    ['2024-05-02', 'big', 'green', ''],
  ]);

  before(async () => {
    dir = await tempDir();
    artifacts = await buildScoringBundles(dir);
    await writeFile(join(dir, 'score.csv'), SCORE);
  });
  after(cleanupTempDirs);

  const readCsv = async (file: string) => parse(await readFile(join(dir, file), 'utf8'), { columns: true }) as Record<string, string>[];

  it('a value missing in a column complete in training is imputed: exit 0, the row predicted, no error column', async () => {
    await writeFile(join(dir, 'gap.csv'), scoringCsv([['', '3.5', 'red', 'true'], ['2024-01-02', '', '', '']]));
    const r = await cli(['predict', 'scoring', '--input', 'gap.csv', '--out', 'gap-out.csv']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).not.to.contain('could not be predicted');
    const rows = await readCsv('gap-out.csv');
    expect(Object.keys(rows[0]!)).to.deep.equal(['prediction', 'proba_high', 'proba_low']);
    const model = await loadPredictor('scoring', artifacts);
    expect(rows.map((row) => row.prediction)).to.deep.equal([
      model.predictOne({ area: 3.5, color: 'red', ok: true }).prediction,
      model.predictOne({ date: '2024-01-02' }).prediction,
    ]);
  });

  it('--on-bad-row null (the default): bad rows written in place with an empty prediction and an error column; the count on stderr and in --json', async () => {
    const r = await cli(['predict', 'scoring', '--input', 'score.csv', '--out', 'out.csv', '--id', 'area', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr.trimEnd().split('\n')).to.deep.equal([
      '2 rows could not be predicted (written with an error column); first: row 3 (line 4): /date: expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "2024-02-30"',
    ]);
    const doc = JSON.parse(r.stdout) as { rows: number; predicted: number; badRows: number; firstBadRow: Record<string, unknown>; onBadRow: string };
    expect(doc).to.deep.include({ rows: 5, predicted: 3, badRows: 2, onBadRow: 'null' });
    expect(doc.firstBadRow).to.deep.equal({ row: 3, line: 4, column: 'date', error: '/date: expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "2024-02-30"' });
    const rows = await readCsv('out.csv');
    expect(Object.keys(rows[0]!)).to.deep.equal(['area', 'prediction', 'proba_high', 'proba_low', 'error']);
    expect(rows.map((row) => row.area)).to.deep.equal(['3.5', '4', '1', '8.25', 'big']);
    expect(rows.map((row) => row.prediction !== '')).to.deep.equal([true, true, false, true, false]);
    expect(rows[2]).to.include({ prediction: '', proba_high: '', proba_low: '' });
    expect(rows[4]!.error).to.equal('/area: expected a number, got "big"');
    expect(rows.filter((row) => row.error === '')).to.have.length(3);
  });

  it('--on-bad-row skip leaves bad rows out (good ones in input order); JSON and NDJSON carry an error field with --on-bad-row null', async () => {
    const r = await cli(['predict', 'scoring', '--input', 'score.csv', '--out', 'skip.csv', '--id', 'area', '--on-bad-row', 'skip']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('2 rows could not be predicted (left out); first: row 3 (line 4): /date:');
    expect(r.stderr).to.contain('predicted 3 rows with scoring@1.0.0 → skip.csv');
    const rows = await readCsv('skip.csv');
    expect(rows.map((row) => row.area)).to.deep.equal(['3.5', '4', '8.25']);
    expect(Object.keys(rows[0]!)).not.to.include('error');

    const json = await cli(['predict', 'scoring', '--input', 'score.csv', '--out', 'out.json']);
    expect(json.code, json.stderr).to.equal(0);
    expect(json.stderr).to.contain('2 rows could not be predicted (written with an error field)');
    const records = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as Record<string, unknown>[];
    expect(records).to.have.length(5);
    expect(records[2]).to.deep.equal({ prediction: null, probabilities: null, error: '/date: expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "2024-02-30"' });
    expect(records[0]).to.have.all.keys('prediction', 'probabilities');

    const nd = await cli(['predict', 'scoring', '--input', 'score.csv']);
    expect(nd.code, nd.stderr).to.equal(0);
    const lines = nd.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => 'error' in l)).to.deep.equal([false, false, true, false, true]);
  });

  it('--on-bad-row fail: exit 1 with one line naming the first bad row, nothing written', async () => {
    const r = await cli(['predict', 'scoring', '--input', 'score.csv', '--out', 'fail.csv', '--on-bad-row', 'fail']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
    expect(r.stderr).to.contain('score.csv: row 3 (line 4), column "date": expected a date like 2024-03-05');
    expect(r.stderr).to.contain('1 more bad row');
    await readFile(join(dir, 'fail.csv')).then(
      () => expect.fail('fail.csv was written'),
      (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
    );
  });

  it('a field the config marks required (features.required) missing is a bad row naming it; bad flags are usage errors', async () => {
    await writeFile(join(dir, 'strict.csv'), scoringCsv([['2024-03-11', '3.5', 'red', 'true'], ['2024-03-11', '', 'red', 'true']]));
    const r = await cli(['predict', 'scoring-strict', '--input', 'strict.csv', '--out', 'strict-out.csv']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('1 row could not be predicted (written with an error column); first: row 2 (line 3): /area: must not be null (this model needs a value here)');
    const rows = await readCsv('strict-out.csv');
    expect(rows.map((row) => row.error)).to.deep.equal(['', '/area: must not be null (this model needs a value here)']);
    const fail = await cli(['predict', 'scoring-strict', '--input', 'strict.csv', '--on-bad-row', 'fail']);
    expect(fail.code).to.equal(1);
    expect(fail.stderr).to.contain('strict.csv: row 2 (line 3), column "area": must not be null');

    const badChoice = await cli(['predict', 'scoring', '--input', 'score.csv', '--on-bad-row', 'error']);
    expect(badChoice.code).to.equal(2);
    expect(badChoice.stderr).to.contain('--on-bad-row').and.contain('expected one of null, skip, fail');
    const jsonToStdout = await cli(['predict', 'scoring', '--input', 'score.csv', '--json']);
    expect(jsonToStdout.code).to.equal(2);
    expect(jsonToStdout.stderr).to.contain('--json prints its document on stdout, where --out - writes the predictions');
  });
});
