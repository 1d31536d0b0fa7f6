import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildExampleBundle, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { sha256 } from '../fs-util.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import type { Manifest } from './manifest.js';
import { MODEL_CARD_FILE, type ModelCardManifest, exampleRecord, mdCode, mdText, renderModelCard } from './model-card.js';
import { verifyBundle } from './verify.js';

/** The JSON of the card's example request (`-d '…'`) and of the answer shown under it (`# → …`). */
function exampleOf(card: string): { request: Record<string, unknown>; answer: Record<string, unknown> } {
  const request = /^ {2}-d '(.*)'$/m.exec(card)?.[1];
  const answer = /^# → (.*)$/m.exec(card)?.[1];
  expect(request, 'example request').to.be.a('string');
  expect(answer, 'example answer').to.be.a('string');
  return { request: JSON.parse(request!.replace(/'\\''/g, "'")) as Record<string, unknown>, answer: JSON.parse(answer!) as Record<string, unknown> };
}

describe('model card (README.md in every bundle)', function () {
  this.timeout(120_000);
  let artifacts: string;
  let penguins: { dir: string; manifest: Manifest; card: string };
  let cars: { dir: string; manifest: Manifest; card: string };

  before(async () => {
    artifacts = await tempDir();
    for (const example of ['penguins', 'cars'] as const) {
      const r = await buildExampleBundle({ artifacts, example, trees: 5 });
      const card = await readFile(join(r.package.dir, MODEL_CARD_FILE), 'utf8');
      if (example === 'penguins') penguins = { dir: r.package.dir, manifest: r.package.manifest, card };
      else cars = { dir: r.package.dir, manifest: r.package.manifest, card };
    }
  });
  after(cleanupTempDirs);

  it('is a file of the bundle, listed in the manifest with its sha256, and verifies', async () => {
    const entry = penguins.manifest.files[MODEL_CARD_FILE];
    expect(entry).to.deep.equal({ sha256: sha256(penguins.card), bytes: Buffer.byteLength(penguins.card) });
    await verifyBundle(penguins.dir);
  });

  it('says what the classifier predicts, its classes, and its holdout metrics against the baseline', () => {
    const { card, manifest: m } = penguins;
    const h = m.metrics.holdout!;
    const acc = (h.model as { accuracy: number }).accuracy;
    const base = (h.baseline as { accuracy: number }).accuracy;
    expect(card.startsWith(`# penguins@${m.version}\n`)).to.equal(true);
    expect(card).to.contain('predicts **Species** (category) from 6 input fields');
    expect(card).to.contain('It answers one of 3 classes: `Adelie`, `Chinstrap`, `Gentoo`.');
    expect(card).to.contain(`its accuracy is **${Number(acc.toPrecision(4))}**, against ${Number(base.toPrecision(4))} for the baseline (majority class)`);
    expect(card).to.contain(`| accuracy | ${Number(acc.toPrecision(4))} | ${Number(base.toPrecision(4))} | +${Number((acc - base).toPrecision(4))} |`);
    expect(card).to.contain(`Holdout: ${h.testRows} of ${h.trainRows + h.testRows} rows (stratified by class)`);
    expect(card).to.contain('| actual \\ predicted | `Adelie` | `Chinstrap` | `Gentoo` |');
    expect(card).to.contain('| log loss (lower is better) |');
  });

  it('lists every input field with its type and whether it is required', () => {
    const { card, manifest: m } = penguins;
    const fields = Object.keys((m.inputSchema as { properties: object }).properties);
    expect(fields).to.have.length(6);
    expect(card).to.contain('| field | type | required | notes |');
    for (const f of fields) expect(card).to.match(new RegExp(`^\\| \`${f.replace(/[()]/g, '\\$&')}\` \\| (number|string)(, or null)? \\| no \\|`, 'm'));
    expect(card).to.contain('| `Flipper Length (mm)` | number, or null | no | whole numbers in the training data |');
    expect(card).to.contain('**Every field is optional**');
  });

  it('gives the data, its lineage, the featurizers and the model parameters', () => {
    const { card, manifest: m } = penguins;
    const d = m.lineage.dataset!;
    expect(card).to.contain(`- source: ${d.source.path} (csv file)`);
    expect(card).to.contain(`- source file sha256: \`${d.source.sha256}\``);
    expect(card).to.contain(`- rows: 344 × 7 columns`);
    expect(card).to.contain(`- dataset fingerprint: \`${d.fingerprint}\``);
    expect(card).to.contain(`- pipeline config sha256: \`${m.lineage.configSha256}\``);
    expect(card).to.match(/- git commit: (`[0-9a-f]{40}(-dirty)?`|not recorded)/);
    for (const step of m.featurizer.steps) expect(card).to.contain(`- ${mdText(step)}`);
    expect(card).to.contain('- Island (category) → one-hot: 3 values \\[Biscoe, Dream, Torgersen\\] + &lt;other&gt;');
    expect(card).to.contain('| `trees` | `5` |');
    expect(card).to.contain('| `maxDepth` | none |');
  });

  it('shows how to serve and call it, with a request the bundle answers exactly as the card says', async () => {
    for (const { card, manifest: m } of [penguins, cars]) {
      expect(card).to.contain(`mlpipe serve ${m.name}@${m.version} --port 8080`);
      expect(card).to.contain(`curl -s http://127.0.0.1:8080/v1/models/${m.name}/predict -H 'content-type: application/json'`);
      const { request, answer } = exampleOf(card);
      const model = await loadPredictor(`${m.name}@${m.version}`, artifacts);
      expect(Object.keys(request)).to.deep.equal(Object.keys((m.inputSchema as { properties: object }).properties));
      expect(answer).to.deep.equal({ ...model.predictOne(request), model: { name: m.name, version: m.version } });
    }
    // Typical values of the training data, not placeholders.
    expect(exampleOf(penguins.card).request.Island).to.be.oneOf(['Biscoe', 'Dream', 'Torgersen']);
  });

  it('a regression card has R², RMSE and MAE against the mean baseline, and no classes', () => {
    const { card, manifest: m } = cars;
    const h = m.metrics.holdout!;
    const rmse = (h.model as { rmse: number }).rmse;
    expect(card).to.contain('a random-forest regression model that predicts **Miles\\_per\\_Gallon** (number)');
    expect(card).to.contain('The baseline is the mean of the training target.');
    expect(card).to.match(/^\| R² \| [-\d.]+ \| [-\d.e]+ \| \+[\d.]+ \|$/m);
    expect(card).to.contain(`| RMSE (lower is better) | ${Number(rmse.toPrecision(4))} |`);
    expect(card).not.to.contain('classes');
    expect(card).to.contain('- `Name`: dropped by the config');
  });

  it('escapes what the data names so it cannot become markup: pipes, backticks, HTML, list and heading starts', () => {
    const base = penguins.manifest;
    const { files: _f, manifestSha256: _s, ...rest } = base;
    const weird = 'a|b `c` <script>alert(1)</script> *x* [l](http://e)';
    const m: ModelCardManifest = {
      ...rest,
      target: { name: weird, type: 'category' },
      classes: ['<b>x</b>', 'y|z'],
      inputSchema: { type: 'object', properties: { [weird]: { type: ['string', 'null'] }, "it's": { type: 'number' } }, required: ["it's"] },
      featurizer: { ...rest.featurizer, steps: ['# not a heading', '1. not a list', '- not an item'], dropped: [{ column: 'x|y', reason: '<i>r</i>' }] },
    };
    const card = renderModelCard(m);
    // Raw HTML only inside code spans, where Markdown shows it as text.
    const outsideFences = card.replace(/^(`{3,})sh\n[\s\S]*?^\1$/gm, '');
    expect(outsideFences).not.to.contain('curl');
    for (const line of outsideFences.split('\n').filter((l) => /<(script|b|i)>/.test(l))) expect(line).to.match(/`+ ?(a\\\|b `c` <script>|<b>x<\/b>)/);
    expect(card).to.contain('predicts **a\\|b \\`c\\` &lt;script&gt;alert(1)&lt;/script&gt; \\*x\\* \\[l\\](http://e)**');
    // In a table even a code span's pipe is escaped (GitHub splits cells at every bare `|`).
    expect(card).to.contain('| ``a\\|b `c` <script>alert(1)</script> *x* [l](http://e)`` | string, or null | no |  |');
    expect(card).to.contain("| `it's` | number | yes |  |");
    expect(card).to.contain('1 is required');
    expect(card).to.contain('- \\# not a heading\n- 1\\. not a list\n- \\- not an item');
    // The shell line quotes a field name with a quote in it.
    const request = JSON.parse(/^ {2}-d '(.*)'$/m.exec(card)![1]!.replace(/'\\''/g, "'")) as Record<string, unknown>;
    expect(request).to.have.property("it's", 0);
    // Without the bundle's own answer (renderModelCard called alone), the answer's shape is described.
    expect(card).to.contain('# → {"prediction": <one of the classes>, "probabilities": {<class>: <probability>, …}');
    expect(card).to.contain(`,"it'\\''s":0}'`);
    expect(mdCode('a`b')).to.equal('``a`b``');
    expect(mdCode('`x')).to.equal('`` `x ``');
  });

  it('exampleRecord keeps the required fields and at most 12 in all, with values of their types', () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) properties[`f${i}`] = { type: i % 2 ? ['number', 'null'] : ['string', 'null'] };
    const record = exampleRecord({ type: 'object', properties, required: ['f19'] });
    expect(Object.keys(record)).to.have.length(12);
    expect(record).to.include({ f19: 0, f0: 'text', f1: 0 });
  });
});
