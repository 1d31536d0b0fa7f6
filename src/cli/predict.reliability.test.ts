import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { predictFile } from '../core/pipeline/predict.js';
import { cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { mulberry32, pick } from '../test-helpers/random.js';
import { byScale, countReliability } from '../test-helpers/reliability.js';
import { buildScoringBundles, scoringCsv, scoringRow } from '../test-helpers/scoring.js';

/** What a hostile row does to a good one, and whether the model can still read it. */
const DAMAGE: { name: string; bad: boolean; apply: (row: string[]) => void }[] = [
  { name: 'a date missing (complete in training)', bad: false, apply: (r) => (r[0] = '') },
  { name: 'a number missing', bad: false, apply: (r) => (r[1] = '') },
  { name: 'every field missing', bad: false, apply: (r) => r.fill('') },
  { name: 'a category never seen, with quotes and emoji', bad: false, apply: (r) => (r[2] = 'gr"een 🙂, or not') },
  { name: 'a huge number', bad: false, apply: (r) => (r[1] = '1e308') },
  { name: 'an impossible date', bad: true, apply: (r) => (r[0] = '2024-02-30') },
  { name: 'a date that is no date', bad: true, apply: (r) => (r[0] = 'yesterday') },
  { name: 'a number that is text', bad: true, apply: (r) => (r[1] = 'x1') },
  { name: 'a boolean that is neither', bad: true, apply: (r) => (r[3] = 'maybe') },
];

/**
 * A hostile scoring file end to end (issue 11, problem 2): thousands of rows (a full run: 200,000,
 * predicted on worker threads), a third of them damaged in one of the ways above. `mlpipe predict`
 * exits 0; every readable row (damaged or not) gets exactly the prediction it gets in a file without
 * the bad rows; every bad row is written with an error (`null`) or left out (`skip`), in input order,
 * and counted.
 */
describe('mlpipe predict on a hostile file (reliability)', function () {
  this.timeout(byScale(180_000, 900_000));
  const rows = byScale(400, 200_000);
  const trees = byScale(10, 40);
  let dir: string;
  let artifacts: string;
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts }, timeoutMs: byScale(120_000, 800_000) });

  before(async () => {
    dir = await tempDir();
    artifacts = await buildScoringBundles(dir, { trees, strict: false });
  });
  after(cleanupTempDirs);

  it('exit 0; readable rows predicted as in a clean file, bad rows written with an error or left out, counted', async () => {
    const rand = mulberry32(2024);
    const cells: string[][] = [];
    const bad: boolean[] = [];
    for (let i = 0; i < rows; i++) {
      const row = [`${i}`, ...scoringRow(rand)];
      const damage = rand() < 1 / 3 ? pick(rand, DAMAGE) : undefined;
      if (damage) {
        const fields = row.slice(1);
        damage.apply(fields);
        row.splice(1, 4, ...fields);
      }
      cells.push(row);
      bad.push(damage?.bad ?? false);
    }
    const csv = (list: string[][]) => scoringCsv(list).replace(/^/, 'key,');
    await writeFile(join(dir, 'hostile.csv'), csv(cells));
    await writeFile(join(dir, 'clean.csv'), csv(cells.filter((_, i) => !bad[i])));
    const jobs = ['--jobs', byScale('1', '2')];
    // The reference, in process (the same core function the command calls).
    await predictFile({ ref: 'scoring', artifacts, input: join(dir, 'clean.csv'), out: join(dir, 'clean-out.csv'), id: 'key', jobs: 1 });
    const expected = new Map((parse(await readFile(join(dir, 'clean-out.csv'), 'utf8'), { columns: true }) as Record<string, string>[]).map((r) => [r.key!, r]));
    const badCount = bad.filter(Boolean).length;
    expect(expected.size).to.equal(rows - badCount);

    let cases = 0;
    let passed = 0;
    for (const mode of ['null', 'skip'] as const) {
      const r = await cli(['predict', 'scoring', '--input', 'hostile.csv', '--out', `hostile-${mode}.csv`, '--id', 'key', '--on-bad-row', mode, '--json', ...jobs]);
      expect(r.code, r.stderr).to.equal(0);
      const doc = JSON.parse(r.stdout) as { rows: number; predicted: number; badRows: number };
      expect(doc).to.deep.include({ rows: mode === 'null' ? rows : rows - badCount, predicted: rows - badCount, badRows: badCount });
      expect(r.stderr).to.match(new RegExp(`^${badCount} rows could not be predicted \\((written with an error column|left out)\\); first: row \\d+ \\(line \\d+\\): /`));
      const out = parse(await readFile(join(dir, `hostile-${mode}.csv`), 'utf8'), { columns: true }) as Record<string, string>[];
      const keys = cells.map((c) => c[0]!).filter((_, i) => mode === 'null' || !bad[i]);
      expect(out.map((o) => o.key)).to.deep.equal(keys);
      for (const o of out) {
        cases++;
        const i = Number(o.key);
        const want = expected.get(o.key!);
        const ok = bad[i]
          ? mode === 'null' && o.prediction === '' && o.proba_high === '' && /^\/(date|area|ok): /.test(o.error ?? '')
          : want !== undefined && o.prediction === want.prediction && o.proba_high === want.proba_high && (o.error ?? '') === '';
        if (ok) passed++;
      }
    }
    countReliability('predict: hostile file (--on-bad-row null and skip)', { cases, passed });
    expect(passed).to.equal(cases);
  });
});
