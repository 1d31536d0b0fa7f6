import { expect } from 'chai';
import { ConfigError, ValidationError } from '../errors.js';
import { type Column, emptyColumn, setCell } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { RecordValidator, inputSchema } from './input-schema.js';
import { type FeaturePlan, type RequiredPlan, fitPipeline } from './fit-pipeline.js';

function column(name: string, type: ColumnType, cells: Cell[]): Column {
  const col = emptyColumn(name, type, cells.length);
  cells.forEach((c, i) => setCell(col, i, c));
  return col;
}

const table = {
  rowCount: 3,
  columns: [
    column('Beak Length (mm)', 'number', [1, null, 3]),
    column('n', 'integer', [1, 2, 3]),
    column('a/b~c', 'category', ['x', 'y', 'x']),
    column('flag', 'boolean', [true, false, true]),
    column('when', 'datetime', [0, 1, null]),
  ],
};
const plan: FeaturePlan = {
  steps: [
    { column: 'Beak Length (mm)', kind: 'numeric' },
    { column: 'n', kind: 'numeric' },
    { column: 'a/b~c', kind: 'one-hot' },
    { column: 'flag', kind: 'boolean' },
    { column: 'when', kind: 'datetime-parts' },
  ],
  dropped: [],
};
const pipeline = fitPipeline(table, plan);
/** The same, with `features.required: [n, a/b~c, flag]`. */
const strict = fitPipeline(table, { ...plan, required: [{ column: 'n' }, { column: 'a/b~c' }, { column: 'flag' }] });

describe('input JSON Schema', () => {
  const schema = inputSchema(strict, 't');

  it('by default every input is optional and nullable, also the ones training never saw missing', () => {
    const open = inputSchema(pipeline, 't');
    expect(open.required).to.deep.equal([]);
    const props = open.properties as Record<string, Record<string, unknown>>;
    expect(props.n?.type).to.deep.equal(['number', 'null']);
    expect(props['a/b~c']).to.deep.equal({ type: ['string', 'null'] });
    expect(props.flag).to.deep.include({ type: ['boolean', 'string', 'null'] });
    const v = new RecordValidator(open);
    expect(v.check({})).to.deep.equal([]);
    expect(v.check({ n: null, 'a/b~c': null, flag: null, when: null, 'Beak Length (mm)': null })).to.deep.equal([]);
    // …and still checks the types of the values that are there.
    expect(v.check({ n: 'x' })).to.deep.equal([{ path: '/n', message: 'must be number, got "x"' }]);
    // featurizer.json records which columns had gaps in training, and nothing about required ones.
    expect(pipeline.inputs.map((c) => [c.name, c.nullable, 'required' in c])).to.deep.equal([
      ['Beak Length (mm)', true, false],
      ['n', false, false],
      ['a/b~c', false, false],
      ['flag', false, false],
      ['when', true, false],
    ]);
  });

  it('features.required makes a column required and non-null, and says so in its description', () => {
    expect(schema.required).to.deep.equal(['n', 'a/b~c', 'flag']);
    const props = schema.properties as Record<string, Record<string, unknown>>;
    expect(props['Beak Length (mm)']).to.deep.equal({ type: ['number', 'null'] });
    expect(props.n?.type).to.equal('number');
    expect(props['a/b~c']).to.deep.equal({ type: 'string', description: 'required (features.required)' });
    // a boolean input takes the words a training file wrote too ("Yes"), read by the one parser
    expect(props.flag).to.deep.include({ type: ['boolean', 'string'] });
    expect(props.flag?.description).to.match(/required \(features\.required\)/);
    expect(props.when?.type).to.deep.equal(['string', 'number', 'null']);
    expect(props.when).not.to.have.property('pattern');
    expect(schema.additionalProperties).to.equal(true);
    expect(strict.inputs.filter((c) => c.required).map((c) => c.name)).to.deep.equal(['n', 'a/b~c', 'flag']);
  });

  it('a name in features.required that is not an input column is a config error at features.required[i]', () => {
    const refused = (required: RequiredPlan[], more: Partial<FeaturePlan> = {}) => {
      try {
        fitPipeline({ ...table, columns: [...table.columns, column('Species', 'category', ['a', 'b', 'a'])] }, { ...plan, ...more, required });
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as ConfigError).message;
      }
      return expect.fail('should throw');
    };
    expect(refused([{ column: 'n' }, { column: 'flg' }])).to.match(/^features\.required\[1\]: "flg" is not an input column of the model: the data has no such column \(did you mean "flag"\?\); input columns: Beak Length \(mm\), n, a\/b~c, flag, when$/);
    expect(refused([{ column: 'Species', path: 'features.required[0]', line: 12 }])).to.match(/^features\.required\[0\]: "Species" is not an input column of the model: no featurizer reads it \(the target is never an input\);.* \(line 12\)$/);
    const dropped = { dropped: [{ column: 'Species', type: 'category' as const, reason: 'dropped by the config' }] };
    expect(refused([{ column: 'Species' }], dropped)).to.contain('features.required[0]: "Species" is not an input column of the model: it is dropped (dropped by the config)');
    const derived = { derive: [{ name: 'twice', expression: 'n * 2' }], steps: [...plan.steps, { column: 'twice', kind: 'numeric' }] };
    expect(refused([{ column: 'twice' }], derived)).to.contain('features.required[0]: "twice" is not an input column of the model: it is a derived column (features.derive), computed from other columns: require those instead');
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
      { path: '/records/3/a~1b~0c', message: 'is required (this model needs a value here)' },
      { path: '/records/3/n', message: 'must be number, got "three"' },
      { path: '/records/3/flag', message: 'must not be null (this model needs a value here)' },
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
