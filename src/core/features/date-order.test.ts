import { expect } from 'chai';
import { ConfigError, ValidationError } from '../errors.js';
import { type Table, emptyColumn, setCell } from '../table.js';
import { type DateOrder, parseDatetime } from '../values.js';
import { inputSchema } from './input-schema.js';
import { fitPipeline } from './fit-pipeline.js';
import { FeatureTransformer } from './transformer.js';
import type { FittedPipeline } from './types.js';

/** A table of one datetime column `d` (with an order or none) and a number `x`. */
function table(order: DateOrder | undefined): Table {
  const dates = ['2024-06-15', '2024-01-02', null, '2023-12-31'];
  const d = emptyColumn('d', 'datetime', dates.length, { dateOrder: order });
  const x = emptyColumn('x', 'number', dates.length);
  dates.forEach((v, i) => {
    setCell(d, i, v === null ? null : parseDatetime(v));
    setCell(x, i, i);
  });
  return { columns: [d, x], rowCount: dates.length };
}

const plan = { steps: [{ column: 'd', kind: 'datetime-parts', params: { parts: ['year', 'month', 'day'] } }], dropped: [] };

describe('a fitted pipeline keeps a datetime column\'s day/month order', () => {
  it('records it on the input and writes format 3; without one, the file is what it was (format 1, no dateOrder key)', () => {
    const ordered = fitPipeline(table('dmy'), plan);
    expect(ordered.formatVersion).to.equal(3);
    expect(ordered.inputs).to.deep.equal([{ name: 'd', type: 'datetime', nullable: true, dateOrder: 'dmy' }]);
    const plain = fitPipeline(table(undefined), plan);
    expect(plain.formatVersion).to.equal(1);
    expect(plain.inputs).to.deep.equal([{ name: 'd', type: 'datetime', nullable: true }]);
    expect(JSON.stringify(plain)).not.to.include('dateOrder');
  });

  it('reads records in that order, ISO dates too; the same value in another order is refused with its path', () => {
    const t = new FeatureTransformer(fitPipeline(table('dmy'), plan));
    expect(Array.from(t.transformRecord({ d: '15/06/2024' }))).to.deep.equal([2024, 6, 15, 0]);
    expect(Array.from(t.transformRecord({ d: '2024-06-15' }))).to.deep.equal([2024, 6, 15, 0]);
    expect(() => t.transformRecord({ d: '06/15/2024' }, undefined, '/records/2'))
      .to.throw(ValidationError)
      .with.property('details')
      .that.deep.equals([{ path: '/records/2/d', message: 'must be a date (DD/MM/YYYY, as in training, or ISO like 2024-03-05), got "06/15/2024"' }]);
    expect(t.describe()[0]).to.match(/^d \(datetime DD\/MM\/YYYY\) → datetime-parts/);
  });

  it('an old featurizer.json (no dateOrder) loads and behaves as before: numeric day/month dates refused as ambiguous', () => {
    const old = fitPipeline(table(undefined), plan);
    const reloaded = new FeatureTransformer(JSON.parse(JSON.stringify(old)) as FittedPipeline);
    expect(Array.from(reloaded.transformRecord({ d: '2024-06-15' }))).to.deep.equal([2024, 6, 15, 0]);
    expect(() => reloaded.transformRecord({ d: '15/06/2024' })).to.throw(ValidationError, 'expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "15/06/2024"');
    expect(inputSchema(old).properties).to.deep.equal({ d: { type: ['string', 'number', 'null'], description: 'date or date-time: 2024-03-05, 2024-03-05T14:30:00Z (no zone = UTC), Mar 5 2024, 5 Mar 2024; or epoch milliseconds' } });
  });

  it('a malformed dateOrder in a saved file is refused, naming the input', () => {
    const saved = fitPipeline(table('mdy'), plan);
    const bad = { ...saved, inputs: [{ ...saved.inputs[0]!, dateOrder: 'ymd' }] } as unknown as FittedPipeline;
    expect(() => new FeatureTransformer(bad)).to.throw(ConfigError, 'featurizer.json: inputs[0].dateOrder: must be mdy or dmy on a datetime input (the day/month order of its dates), got "ymd"');
    expect(() => new FeatureTransformer({ ...saved, formatVersion: 4 } as unknown as FittedPipeline)).to.throw(ConfigError, 'version 1, 2 or 3');
  });

  it('derived columns read their datetime inputs in the order too (format 3 with derive)', () => {
    const p = fitPipeline(table('dmy'), { derive: [{ name: 'days', expression: 'd + x' }], steps: [{ column: 'days', kind: 'numeric', params: { indicator: false } }], dropped: [] });
    expect(p.formatVersion).to.equal(3);
    expect(p.inputs.find((c) => c.name === 'd')?.dateOrder).to.equal('dmy');
    const t = new FeatureTransformer(JSON.parse(JSON.stringify(p)) as FittedPipeline);
    const days = parseDatetime('2024-06-15') / 86_400_000;
    expect(Array.from(t.transformRecord({ d: '15/06/2024', x: 1 }))).to.deep.equal([days + 1]);
    expect(() => t.transformRecord({ d: '06/15/2024', x: 1 })).to.throw(ValidationError, 'must be a date (DD/MM/YYYY, as in training');
  });

  it('the input schema describes the order, with examples, and still lets the parser decide', () => {
    const schema = inputSchema(fitPipeline(table('mdy'), plan));
    expect(schema.properties).to.deep.equal({
      d: {
        type: ['string', 'number', 'null'],
        description: 'date or date-time as in training: MM/DD/YYYY (06/15/2024, also with - or . and a time, e.g. 06/15/2024 14:30); or 2024-06-15, 2024-06-15T14:30:00Z (no zone = UTC), Jun 15 2024; or epoch milliseconds',
        examples: ['06/15/2024', '2024-06-15'],
      },
    });
  });
});
