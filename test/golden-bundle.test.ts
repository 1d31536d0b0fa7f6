/**
 * A bundle written by mlpipe 0.1.0 (bundle format 1, featurizer format 1) is committed under
 * test/fixtures/golden and must load, verify and predict the same forever: a change to the bundle
 * format must keep reading it (or fail here, loudly). Its expected predictions were recorded when it
 * was written, in test/fixtures/golden-penguins-1.0.0.json. Never regenerate them to make this pass.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPredictor } from '../src/core/predictor/from-bundle.js';
import { verifyBundle } from '../src/core/bundle/verify.js';
import { readReportData } from '../src/core/report/data.js';
import { ROOT } from '../src/test-helpers/fixtures.js';

const STORE = join(ROOT, 'test', 'fixtures', 'golden');
const DIR = join(STORE, 'penguins', '1.0.0');

describe('golden bundle penguins@1.0.0 (bundle format 1)', () => {
  it('verifies: every checksum, the manifest\'s own included', async () => {
    const m = await verifyBundle(DIR);
    expect(m.formatVersion).to.equal(1);
    expect(m.lineage.mlpipeVersion).to.equal('0.1.0');
  });

  it('predicts what it predicted when it was written, probabilities included', async () => {
    const expected = JSON.parse(await readFile(join(ROOT, 'test', 'fixtures', 'golden-penguins-1.0.0.json'), 'utf8')) as { records: Record<string, unknown>[]; predictions: unknown[] };
    const model = await loadPredictor('penguins@1.0.0', STORE);
    expect(model.predictMany(expected.records)).to.deep.equal(expected.predictions);
    expect(expected.records.map((r) => model.predictOne(r))).to.deep.equal(expected.predictions);
  });

  it('its report data reads', async () => {
    const data = await readReportData(DIR);
    expect(data.title).to.equal('penguins@1.0.0');
    expect(data.details?.profile.rows).to.equal(344);
  });
});
