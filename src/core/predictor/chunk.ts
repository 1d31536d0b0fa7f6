/**
 * A chunk of a table's rows (a RawChunk from any source `mlpipe load` reads) → records for the model,
 * and the bad rows with why: the first step of scoring a table chunk by chunk, shared by
 * `mlpipe predict` (core/pipeline/predict.ts) and the server's streaming route (server/routes/stream.ts).
 */
import type { DataError, ErrorDetail } from '../errors.js';
import { type RawChunk, chunkRowCount } from '../data/sources/types.js';
import type { FeaturizedRows, ForestOutputs } from './predictor.js';
import { type OutputRecord, type TextCells, errorText } from './output.js';

/** A row of a chunk that cannot be predicted: its record (for the id column) and its problems. */
export interface ChunkBadRow {
  record: OutputRecord;
  /** The problems as one line (`/date: must be …`, or `line 7: expected 4 fields …` for a row the reader refused). */
  error: string;
  /** The problems, paths into the record; for a row the reader refused, one with an empty path. */
  details: ErrorDetail[];
  /** The reader's error, for a row it could not read (it names the source, row, line and column). */
  refused?: DataError;
}

/** The rows of a chunk as read: records to featurize, and the rows that are bad already. */
export interface ReadChunk {
  /** Rows in the chunk. */
  size: number;
  /** The records that could be read, to featurize; `at[j]` is the index in the chunk of `readable[j]`. */
  readable: OutputRecord[];
  at: number[];
  /** Bad rows by index in the chunk. */
  bad: Map<number, ChunkBadRow>;
}

/**
 * Reads a chunk's rows into records with `cells` (the model's column types; a CSV chunk's rows are read
 * from its spans, without a string per cell). A row the reader refused (kept in place as malformed) or
 * with a value its column cannot read is a bad row. `first`: the 1-based number of the chunk's first
 * row, used to name a refused row that has no line (`row 4: …`).
 */
export function readChunk(cells: TextCells, chunk: RawChunk, first: number): ReadChunk {
  const { columns, spans } = chunk;
  const size = chunkRowCount(chunk);
  const bad = new Map<number, ChunkBadRow>();
  for (const m of chunk.malformed ?? []) {
    const where = m.error.location.line !== undefined ? `line ${m.error.location.line}` : `row ${m.error.location.row ?? first + m.index}`;
    bad.set(m.index, { record: {}, error: `${where}: ${m.error.problem}`, details: [{ path: '', message: m.error.problem }], refused: m.error });
  }
  const readable: OutputRecord[] = [];
  const at: number[] = [];
  for (let i = 0; i < size; i++) {
    if (bad.has(i)) continue;
    const read = spans ? cells.recordFromSpans(columns, spans, i) : cells.record(columns, chunk.rows[i] as unknown[]);
    if (read.problems.length > 0) {
      // The output's id column shows an id its type cannot read as the input has it.
      const record = 'unreadId' in read ? { ...read.record, [cells.id as string]: read.unreadId } : read.record;
      bad.set(i, { record, error: errorText(read.problems), details: read.problems });
      continue;
    }
    readable.push(read.record);
    at.push(i);
  }
  return { size, readable, at, bad };
}

/** A chunk predicted: the good rows (their indices, records and the forest's outputs) and the bad rows. */
export interface ChunkAnswer {
  /** Rows in the chunk. */
  size: number;
  /** Index in the chunk of each good row, ascending. */
  good: number[];
  /** Each good row's record (read for the id column), in the order of `good`. */
  records: OutputRecord[];
  /** The forest's outputs for the good rows, in the order of `good`. */
  outputs: ForestOutputs;
  /** The bad rows, by index in the chunk. */
  bad: Map<number, ChunkBadRow>;
}

/** No rows to predict: empty outputs. */
export const NO_OUTPUTS: ForestOutputs = { values: new Float64Array(0), proba: new Float64Array(0) };

/**
 * The answer of a chunk from its {@link readChunk} and what featurizing its readable records gave
 * (records the featurizer refused become bad rows) with the forest's outputs for the good ones.
 */
export function chunkAnswer(read: ReadChunk, featurized: FeaturizedRows, outputs: ForestOutputs): ChunkAnswer {
  const { size, readable, at, bad } = read;
  for (const p of featurized.problems) {
    bad.set(at[p.index] as number, { record: readable[p.index] as OutputRecord, error: errorText(p.details), details: p.details });
  }
  const allGood = featurized.rows.length === readable.length;
  return {
    size,
    good: allGood ? at : featurized.rows.map((r) => at[r] as number),
    records: allGood ? readable : featurized.rows.map((r) => readable[r] as OutputRecord),
    outputs,
    bad,
  };
}
