import { expect } from 'chai';
import { type Column, type Table, emptyColumn, setCell } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { planFeatures } from './auto.js';
import { RecordValidator, inputSchema } from './input-schema.js';
import { fitPipeline } from './fit-pipeline.js';
import { FeatureTransformer } from './transformer.js';

function column(name: string, type: ColumnType, cells: Cell[]): Column {
  const col = emptyColumn(name, type, cells.length);
  cells.forEach((c, i) => setCell(col, i, c));
  return col;
}

const D = (s: string) => Date.parse(s);

/**
 * A training table with no missing value in any column, one column per type, featurized with the
 * automatic choices (and text with tfidf and hashing, which are never automatic).
 */
const table: Table = {
  rowCount: 5,
  columns: [
    column('n', 'number', [1, 2, 10, 4, 100]),
    column('i', 'integer', [3, 1, 2, 2, 9]),
    column('c', 'category', ['red', 'blue', 'red', 'blue', 'red']),
    column('b', 'boolean', [true, false, true, true, false]),
    column('d', 'datetime', [D('2024-01-01'), D('2024-03-01'), D('2024-05-01'), D('2024-07-01'), D('2024-09-01')]),
    column('t', 'text', ['a cat', 'a dog', 'the cat sat', 'dogs', 'cat']),
    column('y', 'category', ['p', 'q', 'p', 'q', 'p']),
  ],
};
const plan = planFeatures(table, { target: 'y', columns: { t: { kind: 'tfidf', minDf: 1 } } });
const pipeline = fitPipeline(table, plan);
const t = new FeatureTransformer(pipeline);

/** The features of one record, by feature name. */
function features(record: Record<string, unknown>): Record<string, number> {
  const out = t.transformRecord(record);
  return Object.fromEntries(pipeline.featureNames.map((name, j) => [name, out[j] as number]));
}

describe('fitted fallbacks for a value missing at serving, in columns complete in training', () => {
  const missing = features({});

  it('the schema accepts a record with every field absent, or null', () => {
    const v = new RecordValidator(inputSchema(pipeline));
    expect(v.check({})).to.deep.equal([]);
    expect(v.check({ n: null, i: null, c: null, b: null, d: null, t: null })).to.deep.equal([]);
    expect(features({ n: null, i: null, c: null, b: null, d: null, t: null })).to.deep.equal(missing);
  });

  it('number and integer: the training median (no indicator: training had no gaps)', () => {
    expect(missing.n).to.equal(4);
    expect(missing.i).to.equal(2);
    expect(pipeline.featureNames).not.to.include('n__missing');
  });

  it('category (one-hot): the <other> slot, as an unseen value', () => {
    expect(pipeline.featureNames.filter((f) => f.startsWith('c='))).to.deep.equal(['c=red', 'c=blue', 'c=<other>']);
    expect([missing['c=red'], missing['c=blue'], missing['c=<other>']]).to.deep.equal([0, 0, 1]);
  });

  it('boolean: the most frequent training value', () => {
    expect(missing.b).to.equal(1);
  });

  it('datetime: the parts of the median training date (2024-05-01)', () => {
    expect(features({ d: '2024-05-01' })).to.deep.include({ 'd.year': missing['d.year'], 'd.month': missing['d.month'], 'd.dayofyear': missing['d.dayofyear'], 'd.dayofweek': missing['d.dayofweek'] });
    expect(missing['d.month']).to.equal(5);
  });

  it('text: an empty text (every word count zero)', () => {
    const words = pipeline.featureNames.filter((f) => f.startsWith('t.'));
    expect(words.length).to.be.greaterThan(0);
    for (const w of words) expect(missing[w], w).to.equal(0);
    expect(features({ t: '' })).to.deep.equal(missing);
  });
});
