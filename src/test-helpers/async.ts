import { expect } from 'chai';
import type { RawChunk, RecordSource } from '../core/data/sources/types.js';

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(Error);
    return err as Error;
  }
  return expect.fail('expected a rejection');
}

/** Every chunk a source yields. */
export async function chunksOf(source: RecordSource, chunkRows = 1000): Promise<RawChunk[]> {
  const out: RawChunk[] = [];
  for await (const chunk of source.chunks(chunkRows)) out.push(chunk);
  return out;
}
