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

/** The same source, its chunks as plain rows of strings (no spans): the loader's other input path. */
export function asRows(source: RecordSource): RecordSource {
  return {
    ...source,
    async *chunks(chunkRows: number): AsyncGenerator<RawChunk> {
      for await (const chunk of source.chunks(chunkRows)) yield { columns: chunk.columns, rows: chunk.rows.map((r) => r.slice()), lines: chunk.lines ?? [] };
    },
  };
}
