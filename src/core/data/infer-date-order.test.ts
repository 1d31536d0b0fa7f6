import { expect } from 'chai';
import { parseDatetime } from '../values.js';
import { TypeInferrer } from './infer.js';
import type { TextRows } from './sources/types.js';

/** Type, learned order and whether the order was assumed, after feeding values one by one. */
function infer(values: unknown[]) {
  const inferrer = new TypeInferrer();
  for (const v of values) inferrer.add(v);
  return { type: inferrer.result(), order: inferrer.dateOrder(), ambiguous: inferrer.dateOrderAmbiguous };
}

/** One column of strings as CSV spans (the loader's fast path), in chunks of `size`. */
function spanChunks(values: string[], size: number): TextRows[] {
  const chunks: TextRows[] = [];
  for (let at = 0; at < values.length; at += size) {
    const part = values.slice(at, at + size);
    const text = part.join(',');
    const starts = new Int32Array(part.length);
    const ends = new Int32Array(part.length);
    let p = 0;
    part.forEach((v, i) => {
      starts[i] = p;
      ends[i] = p + v.length;
      p += v.length + 1;
    });
    chunks.push({ text, rowCount: part.length, width: 1, starts, ends });
  }
  return chunks;
}

describe('TypeInferrer: numeric dates with the year last learn their day/month order', () => {
  it('mdy when some value has a second number above 12, even the last one', () => {
    const values = ['03/05/2024', '04/06/2024', '11/12/2024', '01/02/2025', '12/25/2024'];
    expect(infer(values)).to.deep.equal({ type: 'datetime', order: 'mdy', ambiguous: false });
  });

  it('dmy when some value has a first number above 12', () => {
    expect(infer(['03/05/2024', '25/12/2024', '04/06/2024'])).to.deep.equal({ type: 'datetime', order: 'dmy', ambiguous: false });
  });

  it('both in one column: not a date column (a category)', () => {
    expect(infer(['12/25/2024', '25/12/2024'])).to.deep.equal({ type: 'category', order: undefined, ambiguous: false });
    expect(infer(['03/05/2024', '25/12/2024', '04/06/2024', '12/31/2024'])).to.include({ type: 'category', order: undefined });
  });

  it('every value fits both orders: mdy, marked ambiguous (the loader warns)', () => {
    expect(infer(['03/05/2024', '04/06/2024', 'NA', '12/12/2024'])).to.deep.equal({ type: 'datetime', order: 'mdy', ambiguous: true });
  });

  it('the separators . and -, one or two digits', () => {
    expect(infer(['31.12.2023', '1.2.2024', '15.06.2024'])).to.deep.equal({ type: 'datetime', order: 'dmy', ambiguous: false });
    expect(infer(['12-31-2023', '1-2-2024', '06-15-2024'])).to.deep.equal({ type: 'datetime', order: 'mdy', ambiguous: false });
    // a value with another separator pair is no date: the column is not either
    expect(infer(['31.12.2023', '1/2.2024']).type).to.equal('category');
  });

  it('with times', () => {
    expect(infer(['15/06/2024 14:30', '01/02/2024 09:15:30', '03/04/2024T08:00:00Z'])).to.deep.equal({ type: 'datetime', order: 'dmy', ambiguous: false });
    expect(infer(['06/15/2024 14:30', '06/15/2024 25:00']).type).to.equal('category');
  });

  it('an impossible day in the order the values decide: not a date column', () => {
    // 30 > 12 says month first, and February has no 30th
    expect(infer(['02/30/2024', '03/05/2024']).type).to.equal('category');
    // 31 > 12 says day first, and April has no 31st
    expect(infer(['31/04/2024', '03/05/2024']).type).to.equal('category');
    expect(infer(['02/29/2024', '12/31/2023'])).to.include({ type: 'datetime', order: 'mdy' });
    expect(infer(['29/02/2023', '31/12/2023']).type).to.equal('category');
  });

  it('ISO dates and month names may sit beside them; a column without them has no order', () => {
    expect(infer(['2024-06-15', '15/06/2024', '5 Mar 2024'])).to.deep.equal({ type: 'datetime', order: 'dmy', ambiguous: false });
    expect(infer(['2024-06-15', '2024-06-16'])).to.deep.equal({ type: 'datetime', order: undefined, ambiguous: false });
    expect(infer(['red', 'blue'])).to.deep.equal({ type: 'category', order: undefined, ambiguous: false });
  });

  it('typed chunks (the fast path) read each chunk in the order known by then and say which', () => {
    const values = ['03/05/2024', '04/06/2024', '01/02/2024', '15/06/2024', '05/07/2024', '06/08/2024'];
    const inferrer = new TypeInferrer();
    const typed = spanChunks(values, 2).map((spans) => inferrer.addSpans(spans, 0));
    expect(inferrer.result()).to.equal('datetime');
    expect(inferrer.dateOrder()).to.equal('dmy');
    // chunk 1: read month first (nothing said otherwise yet); chunk 2: the deciding value came second; chunk 3: day first
    expect(typed.map((t) => t.dateOrder)).to.deep.equal(['mdy', 'mixed', 'dmy']);
    expect(Array.from(typed[0]!.datetimes!)).to.deep.equal([parseDatetime('03/05/2024', 'mdy'), parseDatetime('04/06/2024', 'mdy')]);
    expect(Array.from(typed[2]!.datetimes!)).to.deep.equal([parseDatetime('05/07/2024', 'dmy'), parseDatetime('06/08/2024', 'dmy')]);
    // an ISO-only chunk has no order to say
    const iso = new TypeInferrer();
    expect(iso.addSpans(spanChunks(['2024-06-15', '2024-06-16'], 2)[0]!, 0).dateOrder).to.equal(undefined);
  });

  it('strings through addChunk (JSON, a command) learn the order as spans do', () => {
    const inferrer = new TypeInferrer();
    inferrer.addChunk(['03/05/2024', null, '12/31/2024'], 3);
    expect([inferrer.result(), inferrer.dateOrder(), inferrer.dateOrderAmbiguous]).to.deep.equal(['datetime', 'mdy', false]);
  });
});
