/** `mlpipe report` and the report lines of train and run, as real processes. */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, buildExampleBundle, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';

describe('mlpipe report (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let artifacts: string;
  let bundleDir: string;
  before(async () => {
    dir = await tempDir();
    artifacts = join(dir, 'artifacts');
    bundleDir = (await buildExampleBundle({ artifacts, example: 'penguins', name: 'peng' })).package.dir;
  });
  after(cleanupTempDirs);

  it('prints the headline and the path of the bundle\'s report.html', async () => {
    const r = await runCli(['report', 'peng', '--artifacts', artifacts]);
    expect(r.code, r.stderr).to.equal(0);
    const [headline, path] = r.stdout.trim().split('\n');
    expect(headline).to.match(/^peng@1\.0\.0: classification of Species; holdout accuracy [01]\.?\d* \(baseline 0\.\d+\)$/);
    expect(path).to.equal(join(bundleDir, 'report.html'));
  });

  it('--out renders it again into a file, --json prints the numbers behind it', async () => {
    const out = join(dir, 'again.html');
    const r = await runCli(['report', 'peng@1.0.0', '--artifacts', artifacts, '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`wrote ${out}`);
    const page = await readFile(out, 'utf8');
    expect(page).to.include('<h1>peng@1.0.0</h1>');
    expect(page.match(/<svg/g)?.length).to.equal(5); // classes, distributions, confusion matrix, two importances
    const j = await runCli(['report', bundleDir, '--json']);
    expect(j.code, j.stderr).to.equal(0);
    const doc = JSON.parse(j.stdout) as { format: string; title: string; training: { target: { name: string } }; details: { profile: { rows: number } } };
    expect(doc.format).to.equal('mlpipe.report');
    expect(doc.title).to.equal('peng@1.0.0');
    expect(doc.training.target.name).to.equal('Species');
    expect(doc.details.profile.rows).to.equal(344);
  });

  it('train says where the report is, and report reads the model folder', async () => {
    const features = join(dir, 'features');
    const f = await runCli(['featurize', join(EXAMPLES, 'cars', 'cars.csv'), '--target', 'Miles_per_Gallon', '--out', features]);
    expect(f.code, f.stderr).to.equal(0);
    const model = join(dir, 'model');
    const t = await runCli(['train', features, '--out', model, '--trees', '10', '--seed', '1']);
    expect(t.code, t.stderr).to.equal(0);
    expect(t.stdout).to.include(`report: ${join(model, 'report.html')}`);
    const r = await runCli(['report', model]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^model: regression of Miles_per_Gallon; holdout r2 0\.\d+ \(baseline -?0\.\d+\)\n/);
  });

  it('an unknown bundle is exit 1 with a suggestion', async () => {
    const r = await runCli(['report', 'pengg', '--artifacts', artifacts]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('no bundle named "pengg"');
    expect(r.stderr).to.include('did you mean "peng"?');
  });
});
