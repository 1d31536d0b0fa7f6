/**
 * Issue 11, problem 1: labels come back changed. A target written `Yes`/`No` (employee attrition,
 * telecom churn) is read as a boolean column; its predictions must still say `Yes`/`No` — in
 * `mlpipe predict`'s CSV, JSON and NDJSON, over HTTP, in manifest.classes, the metrics and the report —
 * never `true`/`false`. A numeric class column answers its numbers. Through the real CLI and a real
 * server, plus a property test of the spelling kept for any spellings a column mixes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSource } from '../src/core/data/load.js';
import { labelValues } from '../src/core/models/task.js';
import { resolveTarget } from '../src/core/pipeline/featurize.js';
import { type RunningServer, startServer } from '../src/server/start.js';
import { cleanupTempDirs, runCli, tempDir } from '../src/test-helpers/fixtures.js';
import { byScale, countReliability } from '../src/test-helpers/reliability.js';

/**
 * A small attrition-like table: young, low-income employees leave (`Yes`). `Grade` (1 or 2) is the
 * target of a second model; each model is trained without the other's target. `OverTime` is a Yes/No
 * feature: booleans as features stay booleans.
 */
function attritionTable(rows: number): { attritionCsv: string; gradeCsv: string; inputCsv: string; attrition: string[] } {
  const features = ['Age,Department,MonthlyIncome,OverTime'];
  const attrition: string[] = [];
  const grade: number[] = [];
  for (let i = 0; i < rows; i++) {
    const age = 20 + ((i * 7) % 40);
    const income = 2000 + ((i * 733) % 8000);
    attrition.push(age < 32 && income < 6000 ? 'Yes' : 'No');
    grade.push(income > 6000 ? 2 : 1);
    features.push(`${age},${['Sales', 'Research & Development', 'Human Resources'][i % 3]},${income},${i % 2 === 0 ? 'Yes' : 'No'}`);
  }
  const withTarget = (name: string, values: readonly (string | number)[]) => `${features.map((line, i) => `${line},${i === 0 ? name : values[i - 1]}`).join('\n')}\n`;
  return { attritionCsv: withTarget('Attrition', attrition), gradeCsv: withTarget('Grade', grade), inputCsv: `${features.join('\n')}\n`, attrition };
}

function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = text.trimEnd().split('\n');
  return { header: header!.split(','), rows: rows.map((r) => r.split(',')) };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('labels keep the target\'s own values and spelling (issue 11, problem 1)', function () {
  this.timeout(240_000);
  let dir: string;
  let store: string;
  let data: ReturnType<typeof attritionTable>;
  let inputPath: string;
  let records: Record<string, unknown>[];

  before(async () => {
    dir = await tempDir();
    store = join(dir, 'artifacts');
    data = attritionTable(150);
    await writeFile(join(dir, 'attrition.csv'), data.attritionCsv);
    await writeFile(join(dir, 'grade.csv'), data.gradeCsv);
    inputPath = join(dir, 'input.csv');
    await writeFile(inputPath, data.inputCsv);
    records = parseCsv(data.inputCsv).rows.map((r) => ({ Age: Number(r[0]), Department: r[1], MonthlyIncome: Number(r[2]), OverTime: r[3] }));
    const common = ['--trees', '15', '--seed', '7', '--artifacts', store];
    const [a, g] = await Promise.all([
      runCli(['run', join(dir, 'attrition.csv'), '--target', 'Attrition', '--name', 'attrition', ...common]),
      runCli(['run', join(dir, 'grade.csv'), '--target', 'Grade', '--name', 'grade', ...common]),
    ]);
    expect(a.code, a.stderr).to.equal(0);
    expect(g.code, g.stderr).to.equal(0);
    expect(a.stdout.trimEnd().split('\n').pop()).to.equal('attrition@1.0.0');
  });
  after(cleanupTempDirs);

  it('mlpipe predict writes Yes/No and proba_No, proba_Yes to CSV, and they match the true labels', async () => {
    const out = join(dir, 'out.csv');
    const run = await runCli(['predict', 'attrition', '--input', inputPath, '--out', out, '--artifacts', store]);
    expect(run.code, run.stderr).to.equal(0);
    const { header, rows } = parseCsv(await readFile(out, 'utf8'));
    expect(header).to.deep.equal(['prediction', 'proba_No', 'proba_Yes']);
    const predictions = rows.map((r) => r[0]);
    expect(new Set(predictions)).to.deep.equal(new Set(['Yes', 'No']));
    // the comparison with the true labels works: on its own training rows the forest is nearly always right
    const agree = predictions.filter((p, i) => p === data.attrition[i]).length;
    expect(agree / predictions.length).to.be.greaterThan(0.9);
    countReliability('yes/no labels: predict CSV', { cases: 1, passed: 1 });
  });

  it('mlpipe predict writes "Yes"/"No" strings and probabilities keyed No/Yes to JSON and NDJSON', async () => {
    const out = join(dir, 'out.json');
    const run = await runCli(['predict', 'attrition', '--input', inputPath, '--out', out, '--artifacts', store]);
    expect(run.code, run.stderr).to.equal(0);
    const json = JSON.parse(await readFile(out, 'utf8')) as { prediction: unknown; probabilities: Record<string, number> }[];
    expect(json).to.have.length(150);
    for (const p of json) {
      expect(p.prediction).to.be.oneOf(['Yes', 'No']);
      expect(Object.keys(p.probabilities)).to.deep.equal(['No', 'Yes']);
    }
    const stdout = await runCli(['predict', 'attrition', '--input', '-', '--out', '-', '--artifacts', store], { input: records.slice(0, 5).map((r) => JSON.stringify(r)).join('\n') });
    expect(stdout.code, stdout.stderr).to.equal(0);
    const lines = stdout.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { prediction: unknown });
    expect(lines.map((l) => l.prediction)).to.deep.equal(json.slice(0, 5).map((p) => p.prediction));
    countReliability('yes/no labels: predict JSON and NDJSON', { cases: 2, passed: 2 });
  });

  it('manifest.classes, the metrics and report.json say No/Yes; report.html has no true/false labels', async () => {
    const bundle = join(store, 'attrition', '1.0.0');
    const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8')) as { classes: string[]; target: { type: string } };
    expect(manifest.classes).to.deep.equal(['No', 'Yes']);
    const metrics = JSON.parse(await readFile(join(bundle, 'metrics.json'), 'utf8')) as { holdout: { model: { labels: string[]; perClass: { label: string }[] } } };
    expect(metrics.holdout.model.labels).to.deep.equal(['No', 'Yes']);
    expect(metrics.holdout.model.perClass.map((c) => c.label)).to.deep.equal(['No', 'Yes']);
    const report = JSON.parse(await readFile(join(bundle, 'report.json'), 'utf8')) as {
      target: { classCounts: { label: string }[] };
      holdout: { roc: { positive: string } };
      profile: { columns: { name: string; truthSpellings?: unknown; top?: { value: string }[] }[] };
    };
    expect(report.target.classCounts.map((c) => c.label)).to.deep.equal(['No', 'Yes']);
    expect(report.holdout.roc.positive).to.equal('Yes');
    const column = report.profile.columns.find((c) => c.name === 'Attrition')!;
    expect(column.truthSpellings).to.deep.equal({ true: 'Yes', false: 'No' });
    expect(column.top!.map((t) => t.value).sort()).to.deep.equal(['No', 'Yes']);
    const html = await readFile(join(bundle, 'report.html'), 'utf8');
    expect(html).to.include('boolean Yes/No');
    expect(html).not.to.match(/>(true|false)</);
    countReliability('yes/no labels: manifest, metrics, report', { cases: 1, passed: 1 });
  });

  it('a numeric class column answers its numbers: 1 and 2 in JSON, proba_1 and proba_2 in CSV', async () => {
    const out = join(dir, 'grade.csv');
    const csv = await runCli(['predict', 'grade', '--input', inputPath, '--out', out, '--artifacts', store]);
    expect(csv.code, csv.stderr).to.equal(0);
    const { header, rows } = parseCsv(await readFile(out, 'utf8'));
    expect(header).to.deep.equal(['prediction', 'proba_1', 'proba_2']);
    expect(new Set(rows.map((r) => r[0]))).to.deep.equal(new Set(['1', '2']));
    const json = await runCli(['predict', 'grade', '--input', '-', '--out', '-', '--artifacts', store], { input: records.slice(0, 20).map((r) => JSON.stringify(r)).join('\n') });
    expect(json.code, json.stderr).to.equal(0);
    for (const line of json.stdout.trimEnd().split('\n')) expect((JSON.parse(line) as { prediction: unknown }).prediction).to.be.oneOf([1, 2]);
    countReliability('numeric class labels: predict CSV and JSON', { cases: 2, passed: 2 });
  });

  describe('over HTTP (mlpipe serve, in process)', () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer({ refs: ['attrition'], artifacts: store, port: 0, host: '127.0.0.1', rateLimit: 0, batchRateLimit: 0 });
    });
    after(async () => {
      await server?.close();
    });

    it('POST /predict, /predict/batch and /v1/models/attrition/predict answer Yes/No, agreeing with mlpipe predict', async () => {
      let requests = 0;
      let fiveXx = 0;
      const count = (status: number): void => {
        requests++;
        if (status >= 500) fiveXx++;
      };
      const out = join(dir, 'agree.json');
      const cli = await runCli(['predict', 'attrition', '--input', inputPath, '--out', out, '--artifacts', store]);
      expect(cli.code, cli.stderr).to.equal(0);
      const expected = JSON.parse(await readFile(out, 'utf8')) as { prediction: string; probabilities: Record<string, number> }[];

      const batch = await post(`${server.url}/predict/batch`, { records });
      count(batch.status);
      expect(batch.status, JSON.stringify(batch.json)).to.equal(200);
      expect(batch.json.predictions).to.deep.equal(expected);
      for (const [i, record] of records.slice(0, 10).entries()) {
        for (const path of ['/predict', '/v1/models/attrition/predict']) {
          const single = await post(`${server.url}${path}`, record);
          count(single.status);
          expect(single.status).to.equal(200);
          expect(single.json.prediction, `${path} row ${i + 1}`).to.equal(expected[i]!.prediction).and.to.be.oneOf(['Yes', 'No']);
          expect(Object.keys(single.json.probabilities as object)).to.deep.equal(['No', 'Yes']);
        }
      }
      // a boolean feature as JSON booleans answers the same; a word that is no boolean is a 400 naming the field
      const asBooleans = await post(`${server.url}/predict`, { ...records[0], OverTime: records[0]!.OverTime === 'Yes' });
      count(asBooleans.status);
      expect(asBooleans.json.prediction).to.equal(expected[0]!.prediction);
      const bad = await post(`${server.url}/predict`, { ...records[0], OverTime: 'maybe' });
      count(bad.status);
      expect(bad.status).to.equal(400);
      expect(JSON.stringify(bad.json)).to.include('/OverTime');
      const info = await fetch(`${server.url}/v1/models/attrition`);
      count(info.status);
      expect(((await info.json()) as { classes: string[] }).classes).to.deep.equal(['No', 'Yes']);
      countReliability('yes/no labels over HTTP', { cases: 1, passed: 1, requests, fiveXx });
    });
  });

  it('property: any spellings a column mixes, the most frequent of each truth value is its label', async () => {
    // Every letter-case spelling of the words parseBoolean reads.
    const cased = (word: string) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((up) => [...word].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
    const pair = fc.oneof(fc.tuple(cased('yes'), cased('no')), fc.tuple(cased('true'), cased('false')));
    const runs = byScale(25, 400);
    let cases = 0;
    let passed = 0;
    await fc.assert(
      fc.asyncProperty(pair, pair, fc.integer({ min: 3, max: 12 }), fc.integer({ min: 0, max: 2 }), async ([t, f], [tOther, fOther], n, others) => {
        cases++;
        // the main spellings n times each, the other ones `others` times (fewer): the main ones win
        const values = [...Array<string>(n).fill(t), ...Array<string>(n).fill(f), ...Array<string>(others).fill(tOther), ...Array<string>(others).fill(fOther)];
        const path = join(dir, `property-${cases}.csv`);
        await writeFile(path, `x,y\n${values.map((v, i) => `${i},${v}`).join('\n')}\n`);
        const loaded = await loadSource({ source: path, chunkRows: 5 });
        const plain = t === 'true' && f === 'false';
        expect(loaded.schema[1]!.type).to.equal('boolean');
        expect(loaded.schema[1]!.truthSpellings).to.deep.equal(plain ? undefined : { true: t, false: f });
        const classes = resolveTarget(loaded.table, 'y', undefined).classes!;
        // false first, then true, each as the data spelled it (true/false as booleans)
        expect(classes).to.deep.equal([f, t]);
        expect(labelValues(classes, 'boolean')).to.deep.equal(plain ? [false, true] : [f, t]);
        passed++;
      }),
      { numRuns: runs, seed: 11 },
    );
    countReliability('truth spellings property', { cases, passed });
  });
});
