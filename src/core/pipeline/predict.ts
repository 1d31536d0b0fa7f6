import type { Readable, Writable } from 'node:stream';
import type { Predictor } from '../predictor/predictor.js';
import { customKindsUsed, loadPredictor } from '../predictor/from-bundle.js';
import type { TrustedKey } from '../bundle/signature.js';
import { formatOfExtension } from '../data/formats.js';
import { openSource, sourceKindOf, specLabel } from '../data/sources/index.js';
import type { RawChunk, RecordSource, SourceSpec } from '../data/sources/types.js';
import { ConfigError, DataError, InterruptedError, MlpipeError } from '../errors.js';
import { type CustomModuleSpec, checkModulesUsed } from '../features/custom.js';
import { resolveJobs } from '../models/engine/forest.js';
import { PredictPool } from '../models/predict-pool.js';
import { type ChunkBadRow, NO_OUTPUTS, chunkAnswer, readChunk } from '../predictor/chunk.js';
import { ParquetSink, TextSink } from '../predictor/file-sinks.js';
import { TextCells, clipError, outputClasses } from '../predictor/output.js';
import type { PredictionSink, SinkColumns, WrittenBadRow } from '../predictor/sink.js';
/**
 * What `mlpipe predict` does with a bad row (a record the model cannot read: a value of the wrong
 * type, an impossible date, a required field missing): `null` writes it with an empty prediction and
 * an `error` saying why, `skip` leaves it out, `fail` stops with an error naming it (nothing written).
 */
export const PREDICT_ON_BAD_ROW = ['null', 'skip', 'fail'] as const;
export type PredictOnBadRow = (typeof PREDICT_ON_BAD_ROW)[number];

/** The formats predictions are written in: text, Parquet, or rows of an SQL table. */
export type PredictOutFormat = 'csv' | 'json' | 'ndjson' | 'parquet' | 'sql';

/** Options of {@link predictSource}. */
export interface PredictOptions {
  ref: string;
  artifacts: string;
  /** What to read: any source `mlpipe load` reads (a file of any kind, `-`, a command, an SQL database, an HTTP API, an .arrow dataset). */
  source: SourceSpec;
  /** Output file (format from its extension), `-` for stdout (NDJSON unless `outFormat`), or an SQL database URL (with `outTable`). */
  out: string;
  /** Output format, overriding the extension. */
  outFormat?: 'csv' | 'json' | 'ndjson' | 'parquet';
  /** The table an SQL `out` is written to: created, or appended to. */
  outTable?: string;
  /** Copy this input column into each output record. */
  id?: string;
  stdin?: Readable;
  stdout?: Writable;
  /** The environment (`${NAME}` in URLs and tokens of the source and an SQL output). */
  env?: NodeJS.ProcessEnv;
  /** An already loaded model (skips resolving and verifying `ref`). */
  model?: Predictor;
  /** Threads for the forest's work on big inputs (default: every core; 1: this thread only). */
  jobs?: number;
  /** Custom featurizer modules (`--featurizer-module`); each must be one the bundle uses. */
  featurizers?: readonly CustomModuleSpec[];
  /** Public keys one of which must have signed the bundle (`--require-signature`); see LoadPredictorOptions. */
  requireSignature?: readonly TrustedKey[];
  /** What to do with a bad row (default `null`: write it with an `error`); see {@link PREDICT_ON_BAD_ROW}. */
  onBadRow?: PredictOnBadRow;
  /** Rows read, predicted and written at a time (default {@link PREDICT_CHUNK_ROWS}): memory is bounded by it. */
  chunkRows?: number;
  /** Aborting stops the run with an InterruptedError; no output is left behind. */
  signal?: AbortSignal;
}

/** A row of the input that could not be predicted. */
export interface BadRow {
  /** 1-based data row (the header is not a row). */
  row: number;
  /** 1-based line of the file, when known (CSV, NDJSON). */
  line?: number;
  /** The column of the first problem, when it is about one. */
  column?: string;
  /** Every problem of the row: `path: message`, the path a JSON Pointer into the record (`/date`). */
  error: string;
}

/** What {@link predictSource} did. */
export interface PredictResult {
  model: string;
  /** Records written (with `onBadRow: skip`, the good rows only). */
  rows: number;
  /** Rows predicted. */
  predicted: number;
  /** Rows that could not be predicted (written with an error, or left out). */
  badRows: number;
  /** The first of them, in input order. */
  firstBadRow?: BadRow;
  onBadRow: PredictOnBadRow;
  out: string;
  /** The SQL table written, when `out` is a database. */
  outTable?: string;
  /** The format written. */
  format: PredictOutFormat;
}

/** More threads than this rarely pay off for one file's prediction. */
const MAX_PREDICT_THREADS = 8;

/**
 * Rows × trees from which a prediction's forest work is split over worker threads: below it, starting
 * the workers (~40 ms) costs about what they save. Counted as the rows come: a small input never starts them.
 */
const MIN_WORK_FOR_PREDICT_THREADS = 5_000_000;

/** Rows read, predicted and written at a time by default. */
const PREDICT_CHUNK_ROWS = 10_000;

/** The output format: from `explicit`, an SQL URL, or the file's extension. */
function predictOutFormat(out: string, explicit?: string, outTable?: string): PredictOutFormat {
  const sql = out !== '-' && sourceKindOf(out) === 'sql';
  if (sql) {
    if (explicit) throw new MlpipeError('usage', `--out-format: ${out} is a database; its rows go to --out-table, not a ${explicit} file`);
    if (outTable === undefined) throw new MlpipeError('usage', `--out-table: ${specLabel({ kind: 'sql', url: out })} is a database: name the table the predictions go to (--out-table scores)`);
    return 'sql';
  }
  if (outTable !== undefined) throw new MlpipeError('usage', '--out-table: only with --out naming a database (postgres://…, mysql://…, sqlite:…, or a .db file)');
  if (explicit) {
    if (explicit === 'parquet' && out === '-') throw new MlpipeError('usage', '--out-format parquet: a Parquet file cannot go to standard output; give --out file.parquet');
    return explicit as PredictOutFormat;
  }
  if (out === '-') return 'ndjson';
  const f = formatOfExtension(out);
  if (f === 'csv' || f === 'json' || f === 'ndjson' || f === 'parquet') return f;
  if (f === 'tsv') return 'csv';
  throw new MlpipeError('usage', `${out}: predictions are written as .csv, .json, .ndjson or .parquet, or to a database (--out postgres://… --out-table scores)`);
}

/** Opens the sink of `format`. SQL's is loaded only when a database is written. */
async function openSink(model: Predictor, format: PredictOutFormat, options: PredictOptions, columns: SinkColumns): Promise<PredictionSink> {
  switch (format) {
    case 'sql': {
      const { sqlSink } = await import('../predictor/sql-sink.js');
      return sqlSink({ url: options.out, table: options.outTable as string, env: options.env ?? {}, columns });
    }
    case 'parquet':
      return new ParquetSink(options.out, columns);
    default:
      return new TextSink(model, format, options.out === '-' ? { stream: options.stdout ?? process.stdout, name: 'stdout' } : options.out, columns);
  }
}

/** True when a source's values are JSON values (kept as they are, as the server takes them) rather than text or a database's values (read as the model's column types). */
function jsonValued(source: RecordSource): boolean {
  const lineage = source.lineage();
  return lineage.kind === 'http' || lineage.format === 'json' || lineage.format === 'ndjson';
}

/** The column a problem's path names (`/a~1b` → `a/b`), or undefined for the record itself. */
function columnOf(path: string): string | undefined {
  return path.length > 1 ? path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
}

/** A bad row as reported: where it is and why. */
function badRowOf(b: ChunkBadRow, row: number, line: number | undefined): BadRow {
  const column = b.refused?.location.column ?? columnOf(b.details[0]?.path ?? '');
  return { row, ...(line !== undefined ? { line } : {}), ...(column !== undefined ? { column } : {}), error: clipError(b.error) };
}

/** The forest's work for the good rows of chunks, on this thread or, once the rows read make it worth it, on worker threads. */
class ForestWork {
  private pool: Promise<PredictPool> | undefined;
  private work = 0;
  private readonly threads: number;

  constructor(
    private readonly model: Predictor,
    jobs: number | undefined,
  ) {
    this.threads = Math.min(resolveJobs(jobs), MAX_PREDICT_THREADS);
  }

  async predict(featurized: ReturnType<Predictor['featurizeRows']>) {
    if (featurized.rows.length === 0) return NO_OUTPUTS;
    this.work += featurized.rows.length * this.model.forest.treeCount;
    if (!this.pool && this.threads > 1 && this.work >= MIN_WORK_FOR_PREDICT_THREADS) this.pool = PredictPool.start(this.model.forest, this.threads);
    if (!this.pool) return this.model.predictFeaturizedValues(featurized);
    return this.model.predictFeaturizedValuesOn(await this.pool, featurized);
  }

  async close(): Promise<void> {
    if (this.pool) await (await this.pool).close();
  }
}

/**
 * Predicts every row of a source with a bundle, streaming: chunks of `chunkRows` rows are read (from
 * any source `mlpipe load` reads), checked and featurized exactly as the server does, predicted, and
 * written in input order to the output as they come, so memory stays at a few chunks whatever the
 * input's size. Output: a `prediction` column, for classifiers one `proba_<label>` per class (CSV,
 * Parquet, SQL) or a `probabilities` object (JSON, NDJSON), and the `id` column when asked.
 *
 * Values: CSV cells and a database's, Parquet's, a spreadsheet's or a dataset's values are read as the
 * model's column types with the rules used at training; JSON values (JSON, NDJSON, HTTP) are kept as
 * they are, as the server takes them. A bad row (a value of the wrong type, a required field missing,
 * a row the reader refuses: a CSV row with the wrong number of fields, an NDJSON line that is not a JSON
 * object) is written with an `error` (`onBadRow: null`, the default), left out (`skip`), or (`fail`)
 * stops the run with a DataError naming the source, row, line and column and counting the bad rows
 * of the whole input; nothing is written then. An unclosed CSV quote, an unreachable database or an
 * HTTP error stop the run in every mode. A stopped run (an error, `signal`) leaves no output: files are
 * renamed into place at the end, an SQL table is written in one transaction (see the sinks). NDJSON and
 * JSON on standard output are written as they come, so the rows before a failure are out already.
 */
export async function predictSource(options: PredictOptions): Promise<PredictResult> {
  const onBadRow = options.onBadRow ?? 'null';
  const format = predictOutFormat(options.out, options.outFormat, options.outTable);
  const model = options.model ?? (await loadPredictor(options.ref, options.artifacts, { featurizers: options.featurizers, ...(options.requireSignature ? { requireSignature: options.requireSignature } : {}) }));
  checkModulesUsed(options.featurizers ?? [], customKindsUsed([model]), model.ref);
  const source = openSource(options.source, { env: options.env ?? {}, stdin: options.stdin, keepMalformedRows: true });
  const classes = outputClasses(model);
  const columns: SinkColumns = {
    classes,
    labels: classes.map((_, c) => model.labelOf(c)),
    task: model.forest.task,
    ...(options.id !== undefined ? { id: options.id } : {}),
    withErrors: onBadRow === 'null',
  };
  const chunkRows = options.chunkRows ?? PREDICT_CHUNK_ROWS;
  const forest = new ForestWork(model, options.jobs);
  // Opened before anything is read, so that a bad output (a table name, a database URL) is refused at
  // once; a sink writes nothing (no file, no connection) before its first chunk.
  const sink = await openSink(model, format, options, columns);
  let cells: TextCells | undefined;
  let rowsRead = 0;
  let written = 0;
  let predicted = 0;
  let badRows = 0;
  let firstBad: { bad: ChunkBadRow; row: number; line?: number } | undefined;
  // The previous chunk's prediction and write: chunk k's forest work runs (on worker threads when
  // started) while chunk k + 1 is read and featurized; writes stay in input order.
  let pending: Promise<void> | undefined;
  const chunks = source.chunks(chunkRows)[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (options.signal?.aborted) throw new InterruptedError();
      const next: IteratorResult<RawChunk> = await chunks.next();
      if (next.done) break;
      const chunk = next.value;
      if (cells === undefined) {
        if (options.id !== undefined && !chunk.columns.includes(options.id)) {
          throw new ConfigError(`--id: no column "${options.id}" in ${source.name} (columns: ${chunk.columns.join(', ')})`);
        }
        cells = new TextCells(model, !jsonValued(source), options.id);
      }
      const first = rowsRead + 1;
      const read = readChunk(cells, chunk, first);
      rowsRead += read.size;
      const featurized = model.featurizeRows(read.readable, () => '', { flat: true });
      const failing = onBadRow === 'fail' && (firstBad !== undefined || read.bad.size > 0 || featurized.problems.length > 0);
      // Failing: the rest is read only to count its bad rows; nothing more is predicted.
      const answer = chunkAnswer(read, featurized, NO_OUTPUTS);
      if (answer.bad.size > 0) {
        badRows += answer.bad.size;
        if (firstBad === undefined) {
          let i = answer.size;
          for (const k of answer.bad.keys()) if (k < i) i = k;
          firstBad = { bad: answer.bad.get(i)!, row: first + i, line: chunk.lines?.[i] };
        }
      }
      if (failing) continue;
      const outputs = forest.predict(featurized);
      outputs.catch(() => {});
      const previous = pending;
      pending = (async () => {
        const done = await outputs;
        if (previous) await previous;
        const bad = new Map<number, WrittenBadRow>();
        if (onBadRow === 'null') for (const [i, b] of answer.bad) bad.set(i, { record: b.record, error: b.error });
        await sink.write({ first, size: answer.size, good: answer.good, records: answer.records, outputs: done, bad });
        predicted += answer.good.length;
        written += answer.good.length + bad.size;
      })();
      pending.catch(() => {});
      // At most one chunk waits: reading runs ahead of the writes by one chunk.
      if (previous) await previous;
    }
    if (pending) await pending;
    if (onBadRow === 'fail' && firstBad !== undefined) {
      const { bad, row, line } = firstBad;
      const where = badRowOf(bad, row, line);
      const inRow = bad.details.length > 1 ? ` (and ${bad.details.length - 1} more problem${bad.details.length > 2 ? 's' : ''} in this row)` : '';
      const others = badRows > 1 ? `; ${badRows - 1} more bad row${badRows > 2 ? 's' : ''}` : '';
      throw new DataError(
        { source: source.name, row: where.row, line: where.line, column: where.column },
        `${bad.refused?.problem ?? bad.details[0]!.message}${inRow}${others} (--on-bad-row null or skip predicts the other rows)`,
      );
    }
    await sink.finish();
  } catch (err) {
    if (pending) await pending.catch(() => {});
    await sink.abort();
    throw err;
  } finally {
    await chunks.return?.(undefined);
    await forest.close();
  }
  return {
    model: model.ref,
    rows: written,
    predicted,
    badRows,
    ...(firstBad !== undefined ? { firstBadRow: badRowOf(firstBad.bad, firstBad.row, firstBad.line) } : {}),
    onBadRow,
    out: format === 'sql' ? specLabel({ kind: 'sql', url: options.out }) : options.out,
    ...(format === 'sql' ? { outTable: options.outTable } : {}),
    format,
  };
}

/** {@link predictSource} of a file (`input`, in `format` or as its extension says) or `-` for standard input. */
export function predictFile(options: Omit<PredictOptions, 'source'> & { input: string; format?: string }): Promise<PredictResult> {
  const { input, format, ...rest } = options;
  const source: SourceSpec = { kind: 'file', path: input, ...(format !== undefined ? { format: format as never } : {}) };
  return predictSource({ ...rest, source });
}
