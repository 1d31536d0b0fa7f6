import { expect } from 'chai';
import { rejection } from '../../../test-helpers/async.js';
import type { MlpipeError } from '../../errors.js';
import { readOnce } from './once.js';
import type { RawChunk } from './types.js';

describe('readOnce', () => {
  const sizes: number[] = [];
  async function* read(chunkRows: number): AsyncGenerator<RawChunk> {
    sizes.push(chunkRows);
    yield { columns: ['a'], rows: [['1']], lines: [1] };
  }
  const drain = async (g: AsyncGenerator<RawChunk>) => {
    const out: RawChunk[] = [];
    for await (const c of g) out.push(c);
    return out;
  };

  it('reads once; a second read is an internal error naming the source', async () => {
    const chunks = readOnce('data.csv', read);
    expect(await drain(chunks(10))).to.have.length(1);
    const err = await rejection(drain(chunks(10)));
    expect((err as MlpipeError).code).to.equal('internal');
    expect(err.message).to.equal('data.csv: a source can be read only once');
  });

  it('rounds a chunk size down, and reads one that is not a number ≥ 1 as the fallback', async () => {
    sizes.length = 0;
    for (const [size, fallback] of [[7.9, 1], [0, 1], [Number.NaN, 1000], [-3, 1000], [Infinity, 1]] as const) await drain(readOnce('s', read, fallback)(size));
    expect(sizes).to.deep.equal([7, 1, 1000, 1000, 1]);
  });
});
