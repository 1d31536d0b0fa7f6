import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { type Column, type Table, emptyColumn, setCell } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { autoChoice, planFeatures } from './auto.js';

function column(name: string, type: ColumnType, cells: Cell[]): Column {
  const col = emptyColumn(name, type, cells.length);
  cells.forEach((c, i) => setCell(col, i, c));
  return col;
}

describe('automatic featurizer choice', () => {
  const cases: [string, Column, ReturnType<typeof autoChoice>][] = [
    ['numbers → numeric', column('x', 'number', [1.5, 2, null, 2]), { kind: 'numeric' }],
    ['integers → numeric', column('n', 'integer', [1, 5, 5, 9]), { kind: 'numeric' }],
    ['booleans → boolean', column('b', 'boolean', [true, false, null]), { kind: 'boolean' }],
    ['dates → datetime-parts', column('d', 'datetime', [0, 86_400_000, null]), { kind: 'datetime-parts' }],
    ['categories → one-hot', column('c', 'category', ['a', 'b', 'a', null]), { kind: 'one-hot' }],
    ['free text → dropped', column('t', 'text', ['a long sentence here', 'and another one']), { drop: 'free text: not featurized automatically (choose kind: tfidf or hashing for it in features.columns, or declare it a category)' }],
    ['all-distinct strings → dropped as id-like', column('code', 'category', ['k1', 'k2', 'k3', null]), { drop: 'id-like: every value is distinct' }],
    ['a row number → dropped as id-like', column('n', 'integer', [3, 1, 2, 4]), { drop: 'id-like: every value is distinct (a row number or key)' }],
    ['a row number from 0 → dropped as id-like', column('n', 'integer', [3, 0, 2, 1]), { drop: 'id-like: every value is distinct (a row number or key)' }],
    ['consecutive years (not counting from 0 or 1) → numeric', column('year', 'integer', [1880, 1881, 1882, 1883]), { kind: 'numeric' }],
    ['a distinct integer named like an id → dropped', column('customer_id', 'integer', [17, 3, 99]), { drop: 'id-like: every value is distinct (a row number or key)' }],
    ['distinct integers that are measurements → numeric', column('income', 'integer', [31000, 52000, 47000]), { kind: 'numeric' }],
    ['distinct floats → numeric', column('x', 'number', [0.1, 0.2, 0.3]), { kind: 'numeric' }],
    ['a category with ≥ 95% distinct values → dropped as id-like', column('title', 'category', [...Array.from({ length: 39 }, (_, i) => `t${i}`), 't0']), { drop: 'id-like: 98% of the values are distinct' }],
    ['a category with many repeats → one-hot', column('city', 'category', Array.from({ length: 40 }, (_, i) => `c${i % 30}`)), { kind: 'one-hot' }],
    ['a constant → dropped', column('k', 'category', ['same', 'same', null]), { drop: 'constant: a single value in every row' }],
    ['no values → dropped', column('e', 'number', [null, null]), { drop: 'no values: every row is missing' }],
  ];
  for (const [name, col, expected] of cases) {
    it(name, () => expect(autoChoice(col)).to.deep.equal(expected));
  }
});

describe('planFeatures', () => {
  const table: Table = {
    rowCount: 4,
    columns: [
      column('y', 'category', ['a', 'b', 'a', 'b']),
      column('Age (years)', 'number', [1, 2, null, 4]),
      column('city', 'category', ['x', 'y', 'x', 'y']),
      column('id', 'integer', [1, 2, 3, 4]),
    ],
  };

  it('skips the target, picks per column and reports dropped columns with reasons', () => {
    const plan = planFeatures(table, { target: 'y' });
    expect(plan.steps).to.deep.equal([
      { column: 'Age (years)', kind: 'numeric' },
      { column: 'city', kind: 'one-hot' },
    ]);
    expect(plan.dropped).to.deep.equal([{ column: 'id', type: 'integer', reason: 'id-like: every value is distinct (a row number or key)' }]);
  });

  it('honours drop lists and per-column choices with parameters', () => {
    const plan = planFeatures(table, { target: 'y', drop: ['city'], columns: { 'Age (years)': { kind: 'numeric', impute: 'mean' }, id: { kind: 'numeric' } } });
    expect(plan.steps).to.deep.equal([
      { column: 'Age (years)', kind: 'numeric', params: { impute: 'mean' }, path: 'features.columns.Age (years)' },
      { column: 'id', kind: 'numeric', params: {}, path: 'features.columns.id' },
    ]);
    expect(plan.dropped.map((d) => d.column)).to.deep.equal(['city']);
  });

  it('names unknown columns with a suggestion', () => {
    expect(() => planFeatures(table, { target: 'y', drop: ['cty'] })).to.throw(ConfigError, 'features.drop: no column "cty" in the dataset (did you mean "city"?)');
    expect(() => planFeatures(table, { target: 'y', columns: { age: 'drop' } })).to.throw(ConfigError, /features\.columns\.age: no column "age"/);
  });

  it('refuses the target as a feature', () => {
    expect(() => planFeatures(table, { target: 'y', columns: { y: { kind: 'one-hot' } } })).to.throw(ConfigError, 'is the target');
  });
});
