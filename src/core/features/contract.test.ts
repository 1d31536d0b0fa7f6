import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { ConfigError, ValidationError } from '../errors.js';
import { type Column, type Table, cellAt, emptyColumn, setCell } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { loadCustomKind } from './custom.js';
import { RecordValidator, inputSchema } from './input-schema.js';
import { fitPipeline, fitTransform } from './fit-pipeline.js';
import { FeatureTransformer } from './transformer.js';
import { FEATURIZER_KINDS } from './registry.js';
import type { FeaturizerKind, FitContext, FittedPipeline, Json } from './types.js';

/** A column of a type, from cells (null = missing). */
function column(name: string, type: ColumnType, cells: Cell[]): Column {
  const col = emptyColumn(name, type, cells.length);
  cells.forEach((c, i) => setCell(col, i, c));
  return col;
}

const D = (s: string) => Date.parse(s);

/**
 * Training columns for each column type, with missing values, repeated and rare values; and rows
 * to transform that include values never seen in training.
 */
const FIT_CELLS: Record<ColumnType, Cell[]> = {
  number: [1.5, 2.5, null, 10, -3.25, 2.5, null, 7],
  integer: [1, 2, 2, 3, null, 3, 3, 40],
  boolean: [true, false, true, null, true, false, true, true],
  category: ['red', 'blue', 'red', null, 'green', 'red', 'blue', 'mauve'],
  datetime: [D('2024-01-31T10:00:00Z'), D('1999-12-31T23:59:59Z'), null, D('2024-02-29T00:00:00Z'), D('1969-07-20T20:17:00Z'), D('2000-03-01'), D('2024-12-31'), D('2010-06-15T12:30:00Z')],
  text: ['The cat sat on the mat', 'A dog; a cat!', null, '', 'Über café naïve — déjà vu', 'cat cat cat dog', 'the THE the', '42 is the answer_to everything'],
};
/** Raw values at serving time (JSON), including unseen categories and values missing in new ways. */
const SERVE_VALUES: Record<ColumnType, unknown[]> = {
  number: [3, null, undefined, 'NA', 0, 1e6, -0.5],
  integer: [5, null, undefined, 3, 40, 1000, 2],
  boolean: [true, false, null, undefined, 'yes', 'false', true],
  category: ['red', 'turquoise', null, undefined, 'mauve', 'blue', ''],
  datetime: ['2024-02-29', '1900-01-01T00:00:00Z', null, undefined, D('2020-05-05T05:05:05Z'), '2024-03-10 14:30:00+02:00', '1970-01-01'],
  text: ['x', null, undefined, 'a cat and a DOG', 'never seen words here', 'ÜBER Café', '🙂 emoji 𝐀𝐁 tokens', 'NA', 42],
};

/**
 * The training target given to every fit (kinds that do not learn from it must ignore it): a
 * 3-class target, one class index per row of the FIT_CELLS columns.
 */
const CONTEXT: FitContext = { target: { task: 'classification', values: Float64Array.from([0, 1, 2, 0, 1, 0, 2, 1]), classes: ['a', 'b', 'c'] }, seed: 7 };

/** Parameters the contract runs a kind with, where its defaults refuse the shared training columns. */
const CONTRACT_PARAMS: Record<string, Record<string, unknown>> = {
  // log1p refuses negative training values by default; the number column has -3.25.
  log1p: { negative: 'clip' },
};

function tableOf(col: Column): Table {
  return { columns: [col], rowCount: col.values.length };
}

function fitOne(kind: string, type: ColumnType, params: Record<string, unknown> = {}, context: FitContext = CONTEXT): FittedPipeline {
  const col = column('c', type, FIT_CELLS[type]);
  return fitPipeline(tableOf(col), { steps: [{ column: 'c', kind, params: { ...CONTRACT_PARAMS[kind], ...params } }], dropped: [] }, context);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * A custom kind (the module of test/fixtures/zip-prefix.ts, loaded as a project's config would load
 * it) is held to the same contract as the built-in ones.
 */
const custom = await loadCustomKind({ name: 'zip-prefix', path: fileURLToPath(new URL('../../../test/fixtures/zip-prefix.ts', import.meta.url)) });
const CONTRACT_KINDS: [string, FeaturizerKind][] = [...FEATURIZER_KINDS, [custom.kind.kind, custom.kind]];

describe('featurizer contract (every registered kind)', () => {
  for (const [name, kind] of CONTRACT_KINDS) {
    describe(name, () => {
      for (const type of kind.accepts) {
        describe(`on a ${type} column`, () => {
          it('fit returns plain-JSON state that survives a JSON round trip with identical output', () => {
            const pipeline = fitOne(name, type);
            const copy = JSON.parse(JSON.stringify(pipeline)) as FittedPipeline;
            expect(copy).to.deep.equal(pipeline);
            const a = new FeatureTransformer(pipeline);
            const b = new FeatureTransformer(copy);
            for (const raw of SERVE_VALUES[type]) {
              const rec = raw === undefined ? {} : { c: raw };
              expect(Array.from(b.transformRecord(rec))).to.deep.equal(Array.from(a.transformRecord(rec)));
            }
          });

          it('fit neither mutates its params nor its column (nor the target)', () => {
            const col = column('c', type, FIT_CELLS[type]);
            const before = Array.from({ length: col.values.length }, (_, i) => cellAt(col, i));
            const targetBefore = Array.from(CONTEXT.target!.values);
            const params = deepFreeze(kind.params(CONTRACT_PARAMS[name] ?? {}));
            expect(() => kind.fit(col, params, CONTEXT)).not.to.throw();
            if (kind.outOfFold) kind.outOfFold(col, params, CONTEXT, new Float64Array(col.values.length * 10), 10, 0);
            expect(Array.from({ length: col.values.length }, (_, i) => cellAt(col, i))).to.deep.equal(before);
            expect(Array.from(CONTEXT.target!.values)).to.deep.equal(targetBefore);
          });

          it(kind.needsTarget ? 'refuses to fit without a target' : 'ignores the target: the same state with or without one', () => {
            if (kind.needsTarget) {
              expect(() => fitOne(name, type, {}, {})).to.throw(ConfigError, /features\.columns\.c\.kind: featurizer ".*" learns from the target, and no target was given/);
              return;
            }
            expect(fitOne(name, type, {}, {})).to.deep.equal(fitOne(name, type));
          });

          it('the training matrix (fitTransform) is transformTable, but for out-of-fold encodings of target kinds', () => {
            const col = column('c', type, FIT_CELLS[type]);
            const plan = { steps: [{ column: 'c', kind: name, params: { ...CONTRACT_PARAMS[name] } }], dropped: [] };
            const fitted = fitTransform(tableOf(col), plan, CONTEXT);
            expect(fitted.pipeline).to.deep.equal(fitPipeline(tableOf(col), plan, CONTEXT));
            const full = fitted.transformer.transformTable(tableOf(col));
            expect(fitted.matrix.length).to.equal(full.length);
            for (const v of fitted.matrix) expect(Number.isFinite(v)).to.equal(true);
            if (!kind.outOfFold) expect(Array.from(fitted.matrix)).to.deep.equal(Array.from(full));
            else expect(Array.from(fitted.matrix)).not.to.deep.equal(Array.from(full));
          });

          it('outputs one finite number per output name for every value, seen or not, missing or not', () => {
            const t = new FeatureTransformer(fitOne(name, type));
            for (const raw of SERVE_VALUES[type]) {
              const out = t.transformRecord(raw === undefined ? {} : { c: raw });
              expect(out.length).to.equal(t.pipeline.featureNames.length);
              for (const v of out) expect(Number.isFinite(v), `${JSON.stringify(raw)} → ${v}`).to.equal(true);
            }
          });

          it('batch over a table equals record by record (the parity rule)', () => {
            const pipeline = fitOne(name, type);
            const t = new FeatureTransformer(pipeline);
            // The table holds training values and serving values (normalized as load would).
            const cells: Cell[] = [...FIT_CELLS[type]];
            const table = tableOf(column('c', type, cells));
            const batch = t.transformTable(table);
            const w = t.width;
            cells.forEach((cell, i) => {
              // Records arrive as JSON: a datetime as an ISO string, a missing value as null or absent.
              const raw = cell === null ? (i % 2 ? null : undefined) : type === 'datetime' ? new Date(cell as number).toISOString() : cell;
              // (A text cell "" is read as missing by both paths.)
              const one = t.transformRecord(raw === undefined ? {} : { c: raw });
              expect(Array.from(one), `row ${i}`).to.deep.equal(Array.from(batch.subarray(i * w, (i + 1) * w)));
            });
          });

          it('a value missing at serving in a column complete in training: accepted, imputed, batch equals record by record', () => {
            // No missing value in training (for text, "" reads as missing too).
            const kept = FIT_CELLS[type].flatMap((c, i) => (c !== null && c !== '' ? [i] : []));
            const complete = kept.map((i) => FIT_CELLS[type][i]!);
            const context: FitContext = { ...CONTEXT, target: { ...CONTEXT.target!, values: Float64Array.from(kept, (i) => CONTEXT.target!.values[i]!) } };
            const col = column('c', type, complete);
            const pipeline = fitPipeline(tableOf(col), { steps: [{ column: 'c', kind: name, params: { ...CONTRACT_PARAMS[name] } }], dropped: [] }, context);
            expect(pipeline.inputs).to.deep.equal([{ name: 'c', type, nullable: false }]);
            const validator = new RecordValidator(inputSchema(pipeline));
            expect(validator.check({})).to.deep.equal([]);
            expect(validator.check({ c: null })).to.deep.equal([]);
            const t = new FeatureTransformer(pipeline);
            const cells: Cell[] = [null, complete[0]!, null, complete[1]!, null];
            const batch = t.transformTable(tableOf(column('c', type, cells)));
            const w = t.width;
            cells.forEach((cell, i) => {
              const raw = cell === null ? (i % 4 === 0 ? undefined : null) : type === 'datetime' ? new Date(cell as number).toISOString() : cell;
              const one = t.transformRecord(raw === undefined ? {} : { c: raw });
              for (const v of one) expect(Number.isFinite(v), `${JSON.stringify(raw)} → ${v}`).to.equal(true);
              expect(Array.from(one), `row ${i}`).to.deep.equal(Array.from(batch.subarray(i * w, (i + 1) * w)));
            });
          });

          it('refuses a step that was never fitted (transform before fit)', () => {
            const pipeline = fitOne(name, type);
            const unfitted = { ...pipeline, steps: pipeline.steps.map((s) => ({ ...s, state: null as unknown as Json })) };
            expect(() => new FeatureTransformer(unfitted)).to.throw(ConfigError, /steps\[0\] \(column "c", .*\) is not fitted/);
          });

          it('parsed parameters, as saved, parse back to themselves, and re-fitting from the saved plan gives the same pipeline', () => {
            const parsed = kind.params(CONTRACT_PARAMS[name] ?? {});
            expect(kind.params(JSON.parse(JSON.stringify(parsed)) as Record<string, unknown>)).to.deep.equal(parsed);
            // train re-fits featurizers from featurizer.json's kinds and parameters (planOf)
            const pipeline = fitOne(name, type);
            const col = column('c', type, FIT_CELLS[type]);
            const plan = { steps: pipeline.steps.map((s) => ({ column: s.column, kind: s.kind, params: JSON.parse(JSON.stringify(s.params)) as Record<string, unknown> })), dropped: [] };
            expect(fitPipeline(tableOf(col), plan, CONTEXT)).to.deep.equal(pipeline);
          });

          it('rejects unknown parameters by name', () => {
            expect(() => fitOne(name, type, { nonsense: 1 })).to.throw(ConfigError, /unknown parameter "nonsense"/);
          });
        });
      }
    });
  }
});

describe('numeric', () => {
  it('imputes the training median and flags missing values when training had them', () => {
    const t = new FeatureTransformer(fitOne('numeric', 'number'));
    expect(t.pipeline.featureNames).to.deep.equal(['c', 'c__missing']);
    // non-missing: 1.5 2.5 10 -3.25 2.5 7 → sorted -3.25 1.5 2.5 2.5 7 10 → median 2.5
    expect(Array.from(t.transformRecord({ c: null }))).to.deep.equal([2.5, 1]);
    expect(Array.from(t.transformRecord({}))).to.deep.equal([2.5, 1]);
    expect(Array.from(t.transformRecord({ c: 4 }))).to.deep.equal([4, 0]);
  });

  it('has no indicator when training had no missing values, and still imputes at serving time', () => {
    const col = column('x', 'number', [1, 2, 3, 4]);
    const t = new FeatureTransformer(fitPipeline(tableOf(col), { steps: [{ column: 'x', kind: 'numeric' }], dropped: [] }));
    expect(t.pipeline.featureNames).to.deep.equal(['x']);
    expect(Array.from(t.transformRecord({ x: null }))).to.deep.equal([2.5]);
  });

  it('supports mean and constant imputation', () => {
    const mean = new FeatureTransformer(fitOne('numeric', 'number', { impute: 'mean' }));
    expect(mean.transformRecord({})[0]).to.be.closeTo((1.5 + 2.5 + 10 - 3.25 + 2.5 + 7) / 6, 1e-12);
    const constant = new FeatureTransformer(fitOne('numeric', 'number', { impute: 'constant', fillValue: -1, indicator: false }));
    expect(Array.from(constant.transformRecord({}))).to.deep.equal([-1]);
  });

  it('reports a value that is not a number with its JSON path', () => {
    const t = new FeatureTransformer(fitOne('numeric', 'number'));
    try {
      t.transformRecord({ c: 'abc' }, undefined, '/records/4');
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).details).to.deep.equal([{ path: '/records/4/c', message: 'expected a number, got "abc"' }]);
    }
  });
});

describe('one-hot', () => {
  it('keeps frequent values (min frequency 2 by default) in frequency order, then <missing> and <other>', () => {
    const t = new FeatureTransformer(fitOne('one-hot', 'category'));
    // red ×3, blue ×2, green ×1, mauve ×1, one missing
    expect(t.pipeline.featureNames).to.deep.equal(['c=red', 'c=blue', 'c=<missing>', 'c=<other>']);
    expect(Array.from(t.transformRecord({ c: 'blue' }))).to.deep.equal([0, 1, 0, 0]);
    expect(Array.from(t.transformRecord({ c: 'green' }))).to.deep.equal([0, 0, 0, 1]);
    expect(Array.from(t.transformRecord({ c: 'never seen' }))).to.deep.equal([0, 0, 0, 1]);
    expect(Array.from(t.transformRecord({ c: null }))).to.deep.equal([0, 0, 1, 0]);
    expect(Array.from(t.transformRecord({}))).to.deep.equal([0, 0, 1, 0]);
  });

  it('sends a value missing at serving time to <other> when training had no missing values', () => {
    const col = column('k', 'category', ['a', 'b', 'a', 'b']);
    const t = new FeatureTransformer(fitPipeline(tableOf(col), { steps: [{ column: 'k', kind: 'one-hot' }], dropped: [] }));
    expect(t.pipeline.featureNames).to.deep.equal(['k=a', 'k=b', 'k=<other>']);
    expect(Array.from(t.transformRecord({ k: null }))).to.deep.equal([0, 0, 1]);
  });

  it('caps the number of values and breaks frequency ties by value', () => {
    const col = column('k', 'category', ['z', 'z', 'y', 'y', 'x', 'x', 'w']);
    const t = new FeatureTransformer(fitPipeline(tableOf(col), { steps: [{ column: 'k', kind: 'one-hot', params: { maxCategories: 2, minFrequency: 1 } }], dropped: [] }));
    expect(t.pipeline.featureNames).to.deep.equal(['k=x', 'k=y', 'k=<other>']);
  });

  it('encodes integer and boolean columns by their text form', () => {
    const t = new FeatureTransformer(fitOne('one-hot', 'integer'));
    expect(t.pipeline.featureNames.slice(0, 2)).to.deep.equal(['c=3', 'c=2']);
    expect(Array.from(t.transformRecord({ c: 3 })).slice(0, 2)).to.deep.equal([1, 0]);
  });
});

describe('boolean', () => {
  it('maps true/false to 1/0 and a missing value to the most frequent one with an indicator', () => {
    const t = new FeatureTransformer(fitOne('boolean', 'boolean'));
    expect(t.pipeline.featureNames).to.deep.equal(['c', 'c__missing']);
    expect(Array.from(t.transformRecord({ c: true }))).to.deep.equal([1, 0]);
    expect(Array.from(t.transformRecord({ c: false }))).to.deep.equal([0, 0]);
    expect(Array.from(t.transformRecord({ c: null }))).to.deep.equal([1, 1]);
    expect(Array.from(t.transformRecord({ c: 'no' }))).to.deep.equal([0, 0]);
  });
});

describe('datetime-parts', () => {
  it('gives year, month, day of year and day of week (Monday = 0) in UTC', () => {
    const t = new FeatureTransformer(fitOne('datetime-parts', 'datetime'));
    expect(t.pipeline.featureNames).to.deep.equal(['c.year', 'c.month', 'c.dayofyear', 'c.dayofweek', 'c__missing']);
    // 2024-02-29 is a Thursday, day 60 of a leap year
    expect(Array.from(t.transformRecord({ c: '2024-02-29' }))).to.deep.equal([2024, 2, 60, 3, 0]);
    // 23:30 at -02:00 is already the next day in UTC: 2024-03-01, a Friday
    expect(Array.from(t.transformRecord({ c: '2024-02-29T23:30:00-02:00' }))).to.deep.equal([2024, 3, 61, 4, 0]);
  });

  it('agrees with the Date API on every part for instants from 1600 to 2400', () => {
    const t = new FeatureTransformer(fitOne('datetime-parts', 'datetime', { parts: ['year', 'month', 'day', 'dayofyear', 'dayofweek', 'hour', 'minute', 'epochdays'], indicator: false }));
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const ms = Math.floor(Date.UTC(1600, 0, 1) + rand() * (Date.UTC(2400, 0, 1) - Date.UTC(1600, 0, 1)));
      const d = new Date(ms);
      const start = Date.UTC(d.getUTCFullYear(), 0, 1);
      const dayOfYear = Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - start) / 86_400_000) + 1;
      const expected = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), dayOfYear, (d.getUTCDay() + 6) % 7, d.getUTCHours(), d.getUTCMinutes(), Math.floor(ms / 86_400_000)];
      expect(Array.from(t.transformRecord({ c: ms })), d.toISOString()).to.deep.equal(expected);
    }
  });

  it('fills a missing date with the median training date', () => {
    const t = new FeatureTransformer(fitOne('datetime-parts', 'datetime', { parts: ['year'] }));
    // sorted non-missing: 1969, 1999, 2000, 2010, 2024-01-31, 2024-02-29, 2024-12-31 → median 2010-06-15
    expect(Array.from(t.transformRecord({ c: null }))).to.deep.equal([2010, 1]);
  });

  it('rejects an impossible date with its path', () => {
    const t = new FeatureTransformer(fitOne('datetime-parts', 'datetime'));
    expect(() => t.transformRecord({ c: '2023-02-29' })).to.throw(ValidationError, 'invalid input: /c expected a date');
  });
});

describe('fitPipeline', () => {
  it('names the config path when a kind does not accept the column type', () => {
    const col = column('c', 'category', ['a', 'b']);
    expect(() => fitPipeline(tableOf(col), { steps: [{ column: 'c', kind: 'numeric', path: 'features.columns.c' }], dropped: [] })).to.throw(
      ConfigError,
      'features.columns.c.kind: featurizer "numeric" does not accept a category column (it takes number, integer)',
    );
  });

  it('suggests the closest kind for a misspelt one', () => {
    const col = column('c', 'category', ['a', 'b']);
    expect(() => fitPipeline(tableOf(col), { steps: [{ column: 'c', kind: 'one-hott' }], dropped: [] })).to.throw(ConfigError, 'did you mean "one-hot"?');
  });

  it('keeps output names unique across steps', () => {
    const a = column('a', 'number', [1, 2]);
    const b = column('a__missing', 'number', [1, null]);
    const p = fitPipeline({ columns: [b, a], rowCount: 2 }, { steps: [{ column: 'a__missing', kind: 'numeric' }, { column: 'a', kind: 'numeric', params: { indicator: true } }], dropped: [] });
    expect(new Set(p.featureNames).size).to.equal(p.featureNames.length);
  });
});
