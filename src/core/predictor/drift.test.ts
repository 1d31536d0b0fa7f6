import { expect } from 'chai';
import type { FittedPipeline } from '../features/types.js';
import { histogram } from '../models/curves.js';
import { type ReportDetails, reportDetails } from '../report/data.js';
import { mulberry32 } from '../../test-helpers/random.js';
import { trainingProfile } from './drift-profile.js';
import { psi } from './drift-psi.js';
import { DRIFT_SKETCH_SIZE, DRIFT_TOP_K } from './drift-stats.js';
import { InputDrift, type FieldDrift } from './drift.js';

/** Normal values (Box–Muller) from a seeded generator. */
function normals(rand: () => number, n: number, mean: number, sd: number): number[] {
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
}

const COLORS = ['red', 'red', 'red', 'blue', 'blue', 'green'] as const;

/** Training rows: `size` ~ N(10, 2) with 5% missing, `color` red/blue/green 3:2:1, `note` free text. */
function trainingRows(seed: number, n: number): Record<string, unknown>[] {
  const rand = mulberry32(seed);
  const sizes = normals(rand, n, 10, 2);
  return sizes.map((s, i) => ({ size: i % 20 === 0 ? null : s, color: COLORS[Math.floor(rand() * COLORS.length)], note: `row ${i}` }));
}

/** The featurizer and report.json of a model trained on `rows`, as packaging writes them. */
function bundleOf(rows: Record<string, unknown>[]): { pipeline: FittedPipeline; report: ReportDetails } {
  const sizes = rows.map((r) => (typeof r.size === 'number' ? r.size : Number.NaN));
  const present = sizes.filter((s) => !Number.isNaN(s));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.color as string, (counts.get(r.color as string) ?? 0) + 1);
  const pipeline = {
    format: 'mlpipe.featurizer',
    formatVersion: 1,
    inputs: [
      { name: 'size', type: 'number', nullable: true },
      { name: 'color', type: 'category', nullable: false },
      { name: 'note', type: 'text', nullable: false },
    ],
    steps: [
      { column: 'size', type: 'number', kind: 'numeric', params: {}, state: { fill: 10 }, outputs: ['size'] },
      { column: 'color', type: 'category', kind: 'one-hot', params: {}, state: { categories: ['red', 'blue', 'green'], missingSlot: false }, outputs: [] },
    ],
    dropped: [],
    featureNames: [],
  } as unknown as FittedPipeline;
  const report = {
    format: 'mlpipe.report-data',
    formatVersion: 1,
    profile: {
      rows: rows.length,
      columns: [
        { name: 'size', type: 'number', count: present.length, missing: rows.length - present.length, distinct: present.length, mean: 10, std: 2, min: Math.min(...present), max: Math.max(...present) },
        { name: 'color', type: 'category', count: rows.length, missing: 0, distinct: 3, top: [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count) },
        { name: 'note', type: 'text', count: rows.length, missing: 0, distinct: rows.length },
      ],
    },
    featurizers: { steps: [], dropped: [] },
    target: {},
    distributions: [{ name: 'size', type: 'number', histogram: histogram(sizes, 20) }],
    holdout: null,
  } as unknown as ReportDetails;
  return { pipeline, report };
}

function field(drift: InputDrift, name: string): FieldDrift {
  const f = drift.report().fields.find((x) => x.field === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
}

describe('input drift (core/predictor/drift)', () => {
  const { pipeline, report } = bundleOf(trainingRows(1, 5000));

  it('PSI is near 0 for live inputs drawn like the training rows, and the live statistics match them', () => {
    const drift = new InputDrift(trainingProfile(pipeline, report));
    drift.observe(trainingRows(2, 4000));
    const size = field(drift, 'size');
    expect(size.psi).to.be.a('number').below(0.05);
    expect(size.drift).to.equal('none');
    const color = field(drift, 'color');
    expect(color.psi).to.be.a('number').below(0.05);
    expect(drift.records).to.equal(4000);
    expect(size.live.missingRate).to.equal(0.05);
    expect(size.training.missingRate).to.equal(0.05);
    const q = size.live.quantiles as Record<string, number>;
    // N(10, 2): median 10, quartiles 10 ± 1.35 (sampling and bin width allow a little slack).
    expect(q.p50).to.be.closeTo(10, 0.2);
    expect(q.p25).to.be.closeTo(8.65, 0.25);
    expect(q.p75).to.be.closeTo(11.35, 0.25);
    expect(size.live.mean as number).to.be.closeTo(10, 0.15);
  });

  it('PSI rises above 0.25 for a shifted field and stays near 0 for the others', () => {
    const drift = new InputDrift(trainingProfile(pipeline, report));
    drift.observe(trainingRows(3, 3000).map((r) => ({ ...r, size: typeof r.size === 'number' ? r.size + 3 : r.size })));
    const size = field(drift, 'size');
    expect(size.psi).to.be.above(0.25);
    expect(size.drift).to.equal('major');
    expect(field(drift, 'color').psi).to.be.below(0.05);
    expect((size.live.quantiles as Record<string, number>).p50).to.be.closeTo(13, 0.3);
  });

  it('a shift among categories shows in PSI; unknown categories and missing values are counted', () => {
    const drift = new InputDrift(trainingProfile(pipeline, report));
    const live = [
      ...Array.from({ length: 50 }, () => ({ size: 10, color: 'green' })),
      ...Array.from({ length: 30 }, () => ({ size: 10, color: 'purple' })),
      ...Array.from({ length: 20 }, () => ({ size: null })),
    ];
    drift.observe(live);
    const color = field(drift, 'color');
    expect(color.psi).to.be.above(0.25);
    expect(color.live.missingRate).to.equal(0.2);
    expect(color.live.unknownRate).to.equal(30 / 80);
    expect(color.live.top).to.deep.equal([
      { value: 'green', count: 50, share: 0.625 },
      { value: 'purple', count: 30, share: 0.375 },
    ]);
    expect(field(drift, 'size').live.missingRate).to.equal(0.2);
    // `note` is absent from every record: missing, and PSI of its missing rate.
    expect(field(drift, 'note').live.missingRate).to.equal(1);
    expect(field(drift, 'note').psi).to.be.above(0.25);
    const gauges = drift.gauges();
    expect(gauges.find((g) => g.field === 'color')).to.deep.include({ missingRate: 0.2, unknownRate: 0.375 });
    expect(gauges.find((g) => g.field === 'size')?.unknownRate).to.equal(null);
  });

  it('reads nested records as the predictor flattens them, and numbers sent as text', () => {
    const nested = {
      ...pipeline,
      inputs: [{ name: 'dims.size', type: 'number', nullable: true }],
      steps: [],
    } as unknown as FittedPipeline;
    const drift = new InputDrift(trainingProfile(nested, null));
    drift.observe([{ dims: { size: 4 } }, { dims: { size: '6' } }, { dims: {} }, 'not a record']);
    const f = field(drift, 'dims.size');
    expect(drift.records).to.equal(3);
    expect(f.live).to.deep.include({ count: 3, mean: 5, min: 4, max: 6 });
    expect(f.psi).to.equal(null);
    expect(f.psiNote).to.equal('the bundle has no training profile of this field');
    expect(drift.report().gaps[0]).to.match(/no report\.json/);
  });

  it('keeps bounded memory: unseen category values beyond the sketch size evict the rarest', () => {
    const drift = new InputDrift(trainingProfile(pipeline, report));
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 5 * DRIFT_SKETCH_SIZE; i++) rows.push({ color: `c${i}` });
    for (let i = 0; i < 100; i++) rows.push({ color: 'frequent-new' });
    drift.observe(rows);
    const top = field(drift, 'color').live.top as { value: string; count: number }[];
    expect(top).to.have.length(DRIFT_TOP_K);
    expect(top[0]).to.include({ value: 'frequent-new' });
    expect(top[0]!.count).to.be.at.least(100);
    const sketch = (drift as unknown as { fields: { categories?: { sketch: Map<string, number> } }[] }).fields[1]!.categories!.sketch;
    expect(sketch.size).to.equal(DRIFT_SKETCH_SIZE);
  });

  it('psi() is 0 for equal distributions and grows with the shift', () => {
    expect(psi([1, 2, 3], [10, 20, 30])).to.equal(0);
    expect(psi([50, 50], [40, 60])).to.be.closeTo((0.4 - 0.5) * Math.log(0.4 / 0.5) + (0.6 - 0.5) * Math.log(0.6 / 0.5), 1e-12);
    expect(psi([50, 50], [10, 90])).to.be.above(psi([50, 50], [40, 60]));
  });

  it('with the input profile packaging writes now, every number column has PSI (not only the first 24) and a shift among rare categories shows', () => {
    const rand = mulberry32(7);
    const n = 4000;
    const numbers = Array.from({ length: 30 }, (_, k) => ({ name: `x${k}`, type: 'number' as const, values: Float64Array.from(normals(rand, n, k, 1)) }));
    // Twelve categories: the top five hold 80% of the rows, the other seven share the rest.
    const cats = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];
    const weights = [0.2, 0.2, 0.16, 0.12, 0.12, ...Array(7).fill(0.2 / 7)] as number[];
    const draw = () => {
      let u = rand();
      for (let i = 0; i < cats.length; i++) if ((u -= weights[i] as number) < 0) return cats[i] as string;
      return cats[cats.length - 1] as string;
    };
    const cat = { name: 'cat', type: 'category' as const, values: Array.from({ length: n }, draw) };
    const details = reportDetails({
      task: 'regression',
      profile: { rows: n, columns: [] } as unknown as ReportDetails['profile'],
      featurizers: { steps: [], dropped: [] },
      y: new Float64Array(n),
      columns: [...numbers, cat],
      seed: 1,
    });
    expect(details.inputs).to.have.length(31);
    const pipeline = {
      inputs: [...numbers.map((c) => ({ name: c.name, type: 'number', nullable: true })), { name: 'cat', type: 'category', nullable: true }],
      steps: [],
    } as unknown as FittedPipeline;
    const profile = trainingProfile(pipeline, details);
    expect(profile.gaps).to.deep.equal([]);
    const drift = new InputDrift(profile);
    // Live: x29 shifted by 2 sd; the rare categories g..l replaced by h only (the top five unchanged).
    drift.observe(
      Array.from({ length: 3000 }, () => {
        const r: Record<string, unknown> = {};
        for (let k = 0; k < 30; k++) r[`x${k}`] = normals(rand, 1, k === 29 ? k + 2 : k, 1)[0];
        const c = draw();
        r.cat = 'fghijkl'.includes(c) ? 'h' : c;
        return r;
      }),
    );
    expect(field(drift, 'x29').psi).to.be.greaterThan(0.25);
    expect(field(drift, 'x28').psi).to.be.lessThan(0.1);
    expect(field(drift, 'cat').psi).to.be.greaterThan(0.1);
  });
});
