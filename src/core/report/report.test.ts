import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { rejection } from '../../test-helpers/async.js';
import { HOSTILE_COLUMN, HOSTILE_VALUE, type ReportBundles, buildReportBundles } from '../../test-helpers/report.js';
import { packageModel } from '../bundle/package.js';
import { verifyBundle } from '../bundle/verify.js';
import { NotFoundError } from '../errors.js';
import { runPipeline } from '../pipeline/run.js';
import { train } from '../pipeline/train.js';
import { REPORT_FILES, type ReportDetails, readReportData, report } from './data.js';
import { escapeHtml } from './html.js';

/** The SVG of a chart by its id, or undefined. */
function chartSvg(html: string, id: string): string | undefined {
  const m = new RegExp(`<figure class="chart" id="chart-${id}">.*?(<svg[\\s\\S]*?</svg>)`, 's').exec(html);
  return m?.[1];
}

describe('training report', function () {
  this.timeout(120_000);
  let dir: string;
  let b: ReportBundles;
  before(async () => {
    dir = await tempDir();
    b = await buildReportBundles(dir);
  });
  after(cleanupTempDirs);

  const html = (r: { package: { dir: string } }) => readFile(join(r.package.dir, REPORT_FILES.html), 'utf8');
  const details = async (r: { package: { dir: string } }) => JSON.parse(await readFile(join(r.package.dir, REPORT_FILES.data), 'utf8')) as ReportDetails;

  it('a bundle holds report.html and report.json, both checksummed in its manifest', async () => {
    for (const r of [b.binary, b.regression, b.multiclass, b.noHoldout]) {
      const m = await verifyBundle(r.package.dir);
      expect(m.files).to.have.keys([...Object.keys(m.files).filter((f) => !f.startsWith('report')), REPORT_FILES.html, REPORT_FILES.data]);
      expect(m.files[REPORT_FILES.html]!.bytes).to.be.greaterThan(10_000);
    }
  });

  it('binary classification: ROC and precision–recall curves of the second class, matching the holdout AUC', async () => {
    const d = await details(b.binary);
    const h = b.binary.train.metrics.holdout!;
    expect(d.holdout?.roc?.positive).to.equal(b.binary.train.training.classes![1]);
    expect(d.holdout!.roc!.auc).to.be.closeTo((h.model as { rocAuc: number }).rocAuc, 1e-12);
    expect(d.holdout!.roc!.fpr[0]).to.equal(0);
    expect(d.holdout!.roc!.tpr.at(-1)).to.equal(1);
    expect(d.holdout!.pr!.recall[0]).to.equal(1);
    expect(d.holdout!.pr!.averagePrecision).to.be.within(0, 1);
    expect(d.target.classCounts!.reduce((s, c) => s + c.count, 0)).to.equal(b.binary.train.training.rows);
    const page = await html(b.binary);
    for (const id of ['class-balance', 'confusion-matrix', 'roc', 'precision-recall', 'cross-validation', 'impurity-importance', 'permutation-importance']) {
      expect(chartSvg(page, id), id).to.match(/<svg[^>]*>[\s\S]*<path/);
    }
    expect(page).to.include('<section id="cross-validation">');
    expect(page).to.include('<h1>churn@1.0.0</h1>');
    expect(page).to.match(/<td>signup<\/td><td>datetime DD\/MM\/YYYY<\/td>.*?<td>2024-01-01<\/td><td>2024-10-26<\/td>/); // 300 days from 1 January
  });

  it('regression: predicted-vs-actual and residual plots of the holdout rows, a target histogram, no classification charts', async () => {
    const d = await details(b.regression);
    const h = b.regression.train.metrics.holdout!;
    expect(d.holdout!.sample!.actual).to.have.length(h.testRows);
    expect(d.holdout!.sample!.of).to.equal(h.testRows);
    expect(d.holdout!.roc).to.equal(undefined);
    expect(d.target.histogram!.counts.reduce((s, c) => s + c, 0)).to.equal(b.regression.train.training.rows);
    const page = await html(b.regression);
    for (const id of ['target-histogram', 'distributions', 'predicted-vs-actual', 'residuals', 'impurity-importance']) expect(chartSvg(page, id), id).to.match(/<svg[\s\S]*<path/);
    // one small histogram per number column (size; price is the target)
    expect(d.distributions!.map((x) => x.name)).to.deep.equal(['size']);
    expect(d.distributions![0]!.histogram.counts.reduce((s, c) => s + c, 0)).to.equal(b.regression.train.training.rows);
    expect(page).not.to.include('chart-roc');
    expect(page).not.to.include('chart-confusion-matrix');
    // The residuals really are actual − predicted: R² from the sample equals the holdout R² (all rows are in it).
    const { actual, predicted } = d.holdout!.sample!;
    const mean = actual.reduce((s, v) => s + v, 0) / actual.length;
    const r2 = 1 - actual.reduce((s, v, i) => s + (v - predicted[i]!) ** 2, 0) / actual.reduce((s, v) => s + (v - mean) ** 2, 0);
    expect(r2).to.be.closeTo((h.model as { r2: number }).r2, 1e-9);
  });

  it('multiclass: a confusion matrix but no ROC curve; the search trials as a table', async () => {
    const d = await details(b.multiclass);
    expect(d.holdout!.roc).to.equal(undefined);
    const page = await html(b.multiclass);
    expect(chartSvg(page, 'confusion-matrix')).to.match(/<svg/);
    expect(page).not.to.include('chart-roc');
    expect(page).to.include('<section id="search">');
    expect(page.match(/<tr><td>maxFeatures=/g)).to.have.length(2);
  });

  it('without a holdout: says so, and still shows data, featurizers and importances', async () => {
    const page = await html(b.noHoldout);
    expect(page).to.include('No holdout evaluation');
    expect(page).not.to.include('<section id="evaluation">');
    expect(page).to.include('<section id="data">');
    expect(chartSvg(page, 'impurity-importance')).to.match(/<svg/);
    expect((await details(b.noHoldout)).holdout).to.equal(null);
  });

  it('escapes every name and value that comes from the data: no markup of theirs reaches the page', async () => {
    for (const r of [b.binary, b.multiclass]) {
      const page = await html(r);
      expect(page).not.to.include('<script');
      expect(page).not.to.include('<img');
      expect(page).to.include(escapeHtml(HOSTILE_COLUMN));
    }
    // vega escapes axis labels in its SVG too
    expect(await html(b.multiclass)).to.include('&lt;script&gt;alert(');
    expect(HOSTILE_VALUE).to.include('<script>');
  });

  it('renders charts without printing, even a spec vega-lite warns about (core never prints)', async () => {
    const { renderSvg } = await import('./charts.js');
    const written: string[] = [];
    const saved = { log: console.log, warn: console.warn, error: console.error, info: console.info, write: process.stderr.write };
    for (const k of ['log', 'warn', 'error', 'info'] as const) console[k] = (...a: unknown[]) => void written.push(a.join(' '));
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      // "zero" does not work with a time scale: vega-lite warns and drops it.
      const svg = await renderSvg({ data: { values: [{ t: 0, n: 1 }, { t: 86_400_000, n: 2 }] }, mark: 'bar', encoding: { x: { field: 't', type: 'temporal', scale: { zero: false } }, y: { field: 'n', type: 'quantitative' } } });
      expect(svg).to.match(/^<svg/);
    } finally {
      Object.assign(console, { log: saved.log, warn: saved.warn, error: saved.error, info: saved.info });
      process.stderr.write = saved.write;
    }
    expect(written).to.deep.equal([]);
  });

  it('is self-contained: no script, no external reference of any kind', async () => {
    for (const r of [b.binary, b.regression]) {
      const page = await html(r);
      expect(page).not.to.match(/<script|<link|<iframe|@import|url\(\s*['"]?(https?:)?\/\//i);
      // the only URLs are SVG/XML namespaces and the Vega-Lite schema is not embedded
      const urls = [...page.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
      expect(urls.every((u) => u.startsWith('http://www.w3.org/'))).to.equal(true, urls.join(' '));
    }
  });

  it('report() finds the stored report, renders it again into --out, and reads model folders', async () => {
    const stored = await report({ ref: 'churn@1.0.0', artifacts: b.artifacts });
    expect(stored.rendered).to.equal(false);
    expect(stored.file).to.equal(join(b.binary.package.dir, REPORT_FILES.html));
    expect(stored.data.title).to.equal('churn@1.0.0');
    expect(stored.data.metrics).to.deep.equal(b.binary.train.metrics);
    const out = join(dir, 'again.html');
    const again = await report({ ref: 'churn', artifacts: b.artifacts, out });
    expect(again.rendered).to.equal(true);
    const rendered = await readFile(out, 'utf8');
    // The same page but for the time it was rendered (and vega's process-wide gradient counter).
    const strip = (s: string) => s.replace(/Rendered [^ ]+ by/, 'Rendered by').replace(/gradient_\d+/g, 'gradient');
    expect(strip(rendered)).to.equal(strip(await html(b.binary)));
  });

  it('a model folder from before reports (no report.json) still packages, with a metrics-only report', async () => {
    // A features folder (runPipeline keeps its work folder), a model folder trained from it, then its
    // report files deleted: what an older mlpipe left behind.
    const work = join(dir, 'old');
    const features = join(work, 'features');
    await runPipeline({ source: join(dir, 'price.csv'), target: 'price', name: 'old', artifacts: join(work, 'a'), defaultArtifacts: join(work, 'a'), seed: 1, model: { trees: 5 }, workDir: work });
    await train({ features, out: join(work, 'm'), params: { trees: 5, seed: 1 } });
    await rm(join(work, 'm', REPORT_FILES.data));
    await rm(join(work, 'm', REPORT_FILES.html));
    const packaged = await packageModel({ modelDir: join(work, 'm'), name: 'old', artifacts: join(work, 'a') });
    const m = await verifyBundle(packaged.dir);
    expect(m.files).to.have.property(REPORT_FILES.html);
    expect(m.files).not.to.have.property(REPORT_FILES.data);
    const page = await readFile(join(packaged.dir, REPORT_FILES.html), 'utf8');
    expect(page).to.include('did not record the data profile');
    expect(chartSvg(page, 'predicted-vs-actual')).to.equal(undefined);
    expect((await readReportData(packaged.dir)).details).to.equal(null);
  });

  it('refuses what is not a bundle or model folder, and a damaged report.json', async () => {
    const err = await rejection(report({ ref: dir, artifacts: b.artifacts }));
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.message).to.include('no manifest.json');
    const copy = join(dir, 'copy');
    const { cp } = await import('node:fs/promises');
    await cp(b.regression.package.dir, copy, { recursive: true });
    const file = join(copy, REPORT_FILES.data);
    await writeFile(file, (await readFile(file, 'utf8')).replace('"of"', '"of" ').replace(/\n$/, ' \n'));
    const damaged = await rejection(readReportData(copy));
    // The whole bundle is verified before its report is read: the changed size is found first.
    expect(damaged.message).to.match(/report\.json: size \d+ bytes, the manifest says \d+: the file was changed after the bundle was written/);
    // The server's read of report.html checks it too.
    const { loadPredictor } = await import('../predictor/from-bundle.js');
    const model = await loadPredictor(b.regression.package.dir, b.artifacts);
    expect((await model.reportHtml())!.toString('utf8')).to.include('<h1>price@1.0.0</h1>');
    const copyModel = await loadPredictor(b.regression.package.dir, b.artifacts);
    Object.defineProperty(copyModel, 'dir', { value: copy });
    await writeFile(join(copy, REPORT_FILES.html), '<p>changed</p>');
    const changed = await rejection(copyModel.reportHtml());
    expect(changed.message).to.match(/report\.html: checksum mismatch \(sha256 [0-9a-f]{12}…/);
  });
});
