import { MlpipeError } from '../../errors.js';
import type { RawChunk } from './types.js';

/**
 * The `chunks` of a source that can be read only once (a stream, a cursor, a file being hashed): a
 * second call is an internal error naming the source. A chunk size that is not a number ≥ 1 reads
 * as `fallback`; a fractional one is rounded down.
 */
export function readOnce(
  name: string,
  read: (chunkRows: number) => AsyncGenerator<RawChunk>,
  fallback = 1,
): (chunkRows: number) => AsyncGenerator<RawChunk> {
  let started = false;
  return async function* chunks(chunkRows: number): AsyncGenerator<RawChunk> {
    if (started) throw new MlpipeError('internal', `${name}: a source can be read only once`);
    started = true;
    yield* read(Number.isFinite(chunkRows) && chunkRows >= 1 ? Math.floor(chunkRows) : fallback);
  };
}
