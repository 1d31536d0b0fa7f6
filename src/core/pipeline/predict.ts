import type { Readable, Writable } from 'node:stream';
import { type FeaturizedRows, type Predictor, type Prediction } from '../predictor/predictor.js';
import { customKindsUsed, loadPredictor } from '../predictor/load.js';
import type { TrustedKey } from '../bundle/signature.js';
import { detectFormat, readRawFile } from '../data/read.js';
import { ConfigError, DataError, type ErrorDetail, MlpipeError } from '../errors.js';
import { type CustomModuleSpec, checkModulesUsed } from '../features/custom.js';
import { writeFileAtomic } from '../fs-util.js';
import { resolveJobs } from '../models/engine/forest.js';
import { PredictPool } from '../models/predict-pool.js';
import { type Outcome, type OutputRecord, TextCells, clipError, csvOutputCells, csvOutputHeader, csvText, errorText, jsonOutputObject } from '../predictor/output.js';

/**
 * What `mlpipe predict` does with a bad row (a record the model cannot read: a value of the wrong
 * type, an impossible date, a required field missing): `null` writes it with an empty prediction and
 * an `error` saying why, `skip` leaves it out, `fail` stops with an error naming it (nothing written).
 */
export const PREDICT_ON_BAD_ROW = ['null', 'skip', 'fail'] as const;
export type PredictOnBadRow = (typeof PREDICT_ON_BAD_ROW)[number];

/** Options of {@link predictFile}. */
export interface PredictOptions {
  ref: string;
  artifacts: string;
  /** Input file (CSV, TSV, JSON, NDJSON) or `-` for stdin. */
  input: string;
  /** Output file (format from its extension) or `-` for stdout (NDJSON unless `outFormat`). */
  out: string;
  /** Input format, overriding the extension. */
  format?: string;
  /** Output format, overriding the extension. */
  outFormat?: 'csv' | 'json' | 'ndjson';
  /** Copy this input column into each output record. */
  id?: string;
  stdin?: Readable;
  stdout?: Writable;
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

/** What {@link predictFile} did. */
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
  /** The format written. */
  format: 'csv' | 'json' | 'ndjson';
}

/** More threads than this rarely pay off for one file's prediction. */
const MAX_PREDICT_THREADS = 8;

/**
 * Rows × trees from which a file's prediction is split over worker threads: below it, starting the
 * workers (~40 ms) costs about what they save.
 */
export const MIN_WORK_FOR_PREDICT_THREADS = 5_000_000;

/** Predicts the good rows of `featurized` in this thread, or on a {@link PredictPool} when there is enough work. */
async function predictRows(model: Predictor, featurized: FeaturizedRows, jobs: number | undefined): Promise<Prediction[]> {
  const threads = Math.min(resolveJobs(jobs), MAX_PREDICT_THREADS);
  if (threads <= 1 || featurized.rows.length * model.forest.treeCount < MIN_WORK_FOR_PREDICT_THREADS) return model.predictFeaturized(featurized);
  const pool = await PredictPool.start(model.forest, threads);
  try {
    return await model.predictFeaturizedOn(pool, featurized);
  } finally {
    await pool.close();
  }
}

function outputFormat(out: string, explicit?: string): 'csv' | 'json' | 'ndjson' {
  if (explicit) return explicit as 'csv' | 'json' | 'ndjson';
  if (out === '-') return 'ndjson';
  const f = detectFormat(out);
  if (f === 'csv' || f === 'json' || f === 'ndjson') return f;
  if (f === 'tsv') return 'csv';
  throw new MlpipeError('usage', `${out}: predictions are written as .csv, .json or .ndjson`);
}

/**
 * The output text. A bad row has an empty prediction (and probabilities) and an `error`: in CSV an
 * `error` column, written only when some row is bad (a clean file's output is unchanged); in JSON
 * and NDJSON `"prediction": null`, `"probabilities": null` (classifiers) and an `error` field.
 */
function render(format: 'csv' | 'json' | 'ndjson', outcomes: Outcome[], classes: string[], id: string | undefined): string {
  if (format === 'csv') {
    const withError = outcomes.some((o) => o.error !== undefined);
    return csvText([csvOutputHeader(classes, id, withError), ...outcomes.map((o) => csvOutputCells(o, classes, id, withError))]);
  }
  const objects = outcomes.map((o) => jsonOutputObject(o, classes, id));
  if (format === 'json') return `${JSON.stringify(objects, null, 2)}\n`;
  return objects.map((o) => JSON.stringify(o)).join('\n') + (objects.length ? '\n' : '');
}

/** The column a problem's path names (`/a~1b` → `a/b`), or undefined for the record itself. */
function columnOf(path: string): string | undefined {
  return path.length > 1 ? path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
}

/**
 * Predicts every row of a file with a bundle, writing predictions in input order: a `prediction`
 * column, and for classifiers `proba_<label>` columns (CSV) or a `probabilities` object (JSON), plus
 * the `id` column when asked. CSV values are read with the same rules as training; records are then
 * checked with the bundle's input schema, exactly as the server does. Each row is read, checked and
 * featurized on its own; a row the reader refuses (a CSV row with the wrong number of fields, an
 * NDJSON line that is not JSON or not an object, a JSON element that is not an object) is a bad row
 * too, its `error` naming its line (`line 7: expected 4 fields …`); an unclosed CSV quote still ends
 * the reading with a DataError in every mode. A bad row is written with an `error` (`onBadRow: null`, the default), left
 * out (`skip`), or (`fail`) a DataError naming the file, row and column, before anything is written.
 * The good rows are predicted together.
 */
export async function predictFile(options: PredictOptions): Promise<PredictResult> {
  const onBadRow = options.onBadRow ?? 'null';
  const model = options.model ?? (await loadPredictor(options.ref, options.artifacts, { featurizers: options.featurizers, ...(options.requireSignature ? { requireSignature: options.requireSignature } : {}) }));
  checkModulesUsed(options.featurizers ?? [], customKindsUsed([model]), model.ref);
  const format = outputFormat(options.out, options.outFormat);
  // Rows the reader refuses (wrong field count, a line that is not JSON) are bad rows like the others.
  const raw = await readRawFile(options.input, { format: options.format as never, stdin: options.stdin, keepMalformedRows: true });
  const malformed = raw.malformed ?? new Map<number, DataError>();
  if (options.id !== undefined && !raw.columnNames.includes(options.id)) {
    throw new ConfigError(`--id: no column "${options.id}" in ${raw.source} (columns: ${raw.columnNames.join(', ')})`);
  }
  const cells = new TextCells(model, raw.format === 'csv' || raw.format === 'tsv', options.id);
  // Problems of each bad row, by row index, with paths into the row's record (`/date`).
  const problems = new Map<number, ErrorDetail[]>();
  // A malformed row has no values to check: it is bad as it is (its problem is in `malformed`).
  for (const i of malformed.keys()) problems.set(i, []);
  const unread = new Map<number, unknown>();
  const records: OutputRecord[] = raw.rows.map((row, i) => {
    // CSV cells are text: read as the column's type, with the rules used at training.
    const read = cells.record(raw.columnNames, row);
    // The model never sees an unreadable id; the output's --id column shows it as the file has it.
    if ('unreadId' in read) unread.set(i, read.unreadId);
    if (read.problems.length > 0) problems.set(i, [...(problems.get(i) ?? []), ...read.problems]);
    return read.record;
  });
  const readable = problems.size === 0 ? records : records.filter((_, i) => !problems.has(i));
  const index = problems.size === 0 ? undefined : records.map((_, i) => i).filter((i) => !problems.has(i));
  const featurized = model.featurizeRows(readable, () => '');
  for (const p of featurized.problems) problems.set(index ? index[p.index]! : p.index, p.details);
  const bad = [...problems.keys()].sort((a, b) => a - b);
  const line = (i: number): number | undefined => raw.lines?.[i];
  /** A row's `error` text: its problems, or for a row the reader refused, where and why (`line 7: expected 4 fields …`). */
  const rowError = (i: number): string => {
    const refused = malformed.get(i);
    if (refused === undefined) return errorText(problems.get(i)!);
    return clipError(`${line(i) !== undefined ? `line ${line(i)}` : `row ${i + 1}`}: ${refused.problem}`);
  };
  const badRow = (i: number): BadRow => {
    const column = malformed.get(i)?.location.column ?? columnOf(problems.get(i)![0]?.path ?? '');
    return { row: i + 1, ...(line(i) !== undefined ? { line: line(i) } : {}), ...(column !== undefined ? { column } : {}), error: rowError(i) };
  };
  if (onBadRow === 'fail' && bad.length > 0) {
    const first = bad[0]!;
    const details = problems.get(first)!;
    const inRow = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''} in this row)` : '';
    const others = bad.length > 1 ? `; ${bad.length - 1} more bad row${bad.length > 2 ? 's' : ''}` : '';
    const where = badRow(first);
    throw new DataError(
      { source: raw.source, row: where.row, line: where.line, column: where.column },
      `${malformed.get(first)?.problem ?? details[0]!.message}${inRow}${others} (--on-bad-row null or skip predicts the other rows)`,
    );
  }
  const predictions = await predictRows(model, featurized, options.jobs);
  const outcomes: Outcome[] = [];
  let next = 0;
  for (let i = 0; i < records.length; i++) {
    const details = problems.get(i);
    if (details === undefined) outcomes.push({ record: records[i]!, prediction: predictions[next++]! });
    else if (onBadRow === 'null') {
      const record = unread.has(i) ? { ...records[i]!, [options.id!]: unread.get(i) } : records[i]!;
      outcomes.push({ record, error: rowError(i) });
    }
  }
  const text = render(format, outcomes, model.forest.task === 'classification' ? model.forest.classes : [], options.id);
  if (options.out === '-') {
    const stdout = options.stdout ?? process.stdout;
    await new Promise<void>((resolve, reject) => stdout.write(text, (err) => (err ? reject(err) : resolve())));
  } else {
    await writeFileAtomic(options.out, text);
  }
  return {
    model: model.ref,
    rows: outcomes.length,
    predicted: predictions.length,
    badRows: bad.length,
    ...(bad.length > 0 ? { firstBadRow: badRow(bad[0]!) } : {}),
    onBadRow,
    out: options.out,
    format,
  };
}
