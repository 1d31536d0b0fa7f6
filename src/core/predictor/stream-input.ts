import type { Readable } from 'node:stream';
import { textStreamSource } from '../data/sources/file.js';
import { type RawChunk, chunkRowCount } from '../data/sources/types.js';

export { type RawChunk, chunkRowCount };

/** Formats a table of records can be streamed in for prediction. */
export type StreamFormat = 'csv' | 'ndjson';

/** What {@link streamedRows} reads. */
export interface StreamedRows {
  /** Chunks of about `chunkRows` rows, read from the input only as they are asked for. */
  chunks: AsyncIterable<RawChunk>;
  /** Warnings of the reader (a CSV header column renamed because it is blank or repeated), filled as it reads. */
  warnings: string[];
}

/**
 * The rows of a CSV (header row first) or NDJSON text arriving on `input`, read with the same
 * streaming reader as `mlpipe load` and `mlpipe predict` (src/core/data/sources/file.ts: same quoting,
 * delimiter sniffing, flattening of nested JSON records, line numbers). A row the reader cannot read
 * (wrong field count, a line that is not a JSON object) is kept in place as a malformed row; an
 * unclosed quote, an empty CSV text or a read error ends the iteration with a DataError naming
 * `name`. Memory stays at about one chunk: the input is read only as chunks are taken (its stream is
 * paused meanwhile, which is the back-pressure), and destroyed when the iteration ends, also early.
 */
export function streamedRows(input: Readable, format: StreamFormat, name: string, chunkRows: number): StreamedRows {
  const source = textStreamSource(name, async () => input, { format, keepMalformedRows: true }, () => ({ kind: 'stdin', format }));
  return { chunks: source.chunks(chunkRows), warnings: source.warnings };
}
