/**
 * Where `mlpipe predict` writes its predictions, a chunk of rows at a time: text files and standard
 * output (CSV, NDJSON, JSON), Parquet files, SQL tables. Every sink writes as it goes and makes its
 * output appear whole or not at all: files are written to a temporary name and renamed by `finish`;
 * an SQL table is written in one transaction committed by `finish`. `abort` (an error, Ctrl-C) leaves
 * nothing behind: the temporary file removed, the transaction rolled back (a table the sink created
 * dropped where the database cannot roll back DDL).
 */
import type { ForestOutputs } from './predictor.js';
import type { OutputRecord } from './output.js';

/** A bad row as written (`--on-bad-row null`): its record (for the id column) and why it has no prediction. */
export interface WrittenBadRow {
  record: OutputRecord;
  error: string;
}

/** One chunk of predicted rows, in input order. */
export interface ScoredChunk {
  /** 1-based number of the chunk's first row in the input (rows left out by `skip` still count). */
  first: number;
  /** Rows in the chunk, good and bad. */
  size: number;
  /** Index in the chunk of each good row, ascending. */
  good: readonly number[];
  /** Each good row's record (read only for the id column), in the order of `good`. */
  records: readonly OutputRecord[];
  /** The forest's outputs for the good rows, in the order of `good`: `values[g]` the class index or value, `proba[g * k …]`. */
  outputs: ForestOutputs;
  /** The bad rows to write, by index in the chunk (empty with `--on-bad-row skip`: they are left out). */
  bad: ReadonlyMap<number, WrittenBadRow>;
}

/** What every sink knows before its first chunk. */
export interface SinkColumns {
  /** The class labels (`proba_<label>` columns), in the forest's class order; empty for regression. */
  classes: readonly string[];
  /** The label of each class index, as the model answers it (a string, number or boolean). */
  labels: readonly (string | number | boolean)[];
  /** `regression`: the prediction is a number; `classification`: one of `labels`. */
  task: 'classification' | 'regression';
  /** The `--id` column copied into each output row, if any. */
  id?: string;
  /** True when bad rows are written (`--on-bad-row null`): the output has an `error` column. */
  withErrors: boolean;
}

/** A destination of predictions. */
export interface PredictionSink {
  /** Where the predictions go, for messages (a path, `stdout`, a redacted URL and table). */
  readonly name: string;
  /** Writes one chunk (chunks come in input order). */
  write(chunk: ScoredChunk): Promise<void>;
  /** Makes the output whole and visible (rename, commit). */
  finish(): Promise<void>;
  /** Leaves nothing behind (remove the temporary file, roll back). Never throws. */
  abort(): Promise<void>;
}
