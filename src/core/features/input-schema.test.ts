import { expect } from 'chai';
import { ValidationError } from '../errors.js';
import { type Column, emptyColumn, setCell } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { RecordValidator, inputSchema } from './input-schema.js';
import { fitPipeline } from './pipeline.js';

function column(name: string, type: ColumnType, cells: Cell[]): Column {
  const col = emptyColumn(name, type, cells.length);
  cells.forEach((c, i) => setCell(col, i, c));
  return col;
}

const pipeline = fitPipeline(
  {
    rowCount: 3,
    columns: [
      column('Beak Length (mm)', 'number', [1, null, 3]),
      column('n', 'integer', [1, 2, 3]),
      column('a/b~c', 'category', ['x', 'y', 'x']),
      column('flag', 'boolean', [true, false, true]),
      column('when', 'datetime', [0, 1, null]),
    ],
  },
  {
    steps: [
      { column: 'Beak Length (mm)', kind: 'numeric' },
      { column: 'n', kind: 'numeric' },
      { column: 'a/b~c', kind: 'one-hot' },
      { column: 'flag', kind: 'boolean' },
      { column: 'when', kind: 'datetime-parts' },
    ],
    dropped: [],
  },
);

describe('input JSON Schema', () => {
  const schema = inputSchema(pipeline, 't');

  it('types every input column and makes the ones without missing values required', () => {
    expect(schema.required).to.deep.equal(['n', 'a/b~c', 'flag']);
    const props = schema.properties as Record<string, Record<string, unknown>>;
    expect(props['Beak Length (mm)']).to.deep.equal({ type: ['number', 'null'] });
    expect(props.n?.type).to.equal('number');
    expect(props['a/b~c']).to.deep.equal({ type: 'string' });
    // a boolean input takes the words a training file wrote too ("Yes"), read by the one parser
    expect(props.flag).to.deep.include({ type: ['boolean', 'string'] });
    expect(props.when?.type).to.deep.equal(['string', 'number', 'null']);
    expect(props.when).not.to.have.property('pattern');
    expect(schema.additionalProperties).to.equal(true);
  });

  it('accepts a good record with extra properties, and absent nullable ones', () => {
    const v = new RecordValidator(schema);
    expect(v.check({ n: 1, 'a/b~c': 'never seen', flag: false, id: 'extra' })).to.deep.equal([]);
    expect(v.check({ n: 1, 'a/b~c': 'x', flag: true, 'Beak Length (mm)': null, when: '2024-01-02T03:04:05Z' })).to.deep.equal([]);
  });

  it('lists every problem with its JSON path (RFC 6901 escaping) and a readable message', () => {
    const v = new RecordValidator(schema);
    const details = v.check({ n: 'three', flag: null, 'Beak Length (mm)': true, when: false }, '/records/3');
    expect(details).to.deep.include.members([
      { path: '/records/3/a~1b~0c', message: 'is required (the training data always had a value here)' },
      { path: '/records/3/n', message: 'must be number, got "three"' },
      { path: '/records/3/flag', message: 'must not be null (the training data had no missing values here)' },
      { path: '/records/3/Beak Length (mm)', message: 'must be number, got true' },
      { path: '/records/3/when', message: 'must be string or number, got false' },
    ]);
    expect(details).to.have.length(5);
  });

  it('says a non-object is not a record', () => {
    const v = new RecordValidator(schema);
    expect(v.check([1, 2])).to.deep.equal([{ path: '', message: 'must be a JSON object (a record), got [1,2]' }]);
  });

  it('assertAll throws one ValidationError covering all records', () => {
    const v = new RecordValidator(schema);
    try {
      v.assertAll([{ n: 1, 'a/b~c': 'x', flag: true }, { 'a/b~c': 'x', flag: true }, 5]);
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ValidationError);
      const paths = (err as ValidationError).details.map((d) => d.path);
      expect(paths).to.deep.equal(['/records/1/n', '/records/2']);
    }
  });
});
