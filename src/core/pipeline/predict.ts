import type { Readable, Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { type LoadedModel, type Prediction, customKindsUsed, loadBundle } from '../bundle/load.js';
import { detectFormat, readRawFile } from '../data/read.js';
import { ConfigError, DataError, MlpipeError, ValidationError } from '../errors.js';
import { type CustomModuleSpec, checkModulesUsed } from '../features/custom.js';
import { writeFileAtomic } from '../fs-util.js';
import { resolveJobs } from '../models/engine/forest.js';
import { PredictPool } from '../models/predict-pool.js';
import { CellError, type ColumnType, toCell } from '../values.js';
import { dict } from '../dict.js';

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
  model?: LoadedModel;
  /** Threads for the forest's work on big inputs (default: every core; 1: this thread only). */
  jobs?: number;
  /** Custom featurizer modules (`--featurizer-module`); each must be one the bundle uses. */
  featurizers?: readonly CustomModuleSpec[];
}

/** What {@link predictFile} did. */
export interface PredictResult {
  model: string;
  rows: number;
  out: string;
}

type OutputRecord = Record<string, unknown>;

/** More threads than this rarely pay off for one file's prediction. */
const MAX_PREDICT_THREADS = 8;

/**
 * Rows × trees from which a file's prediction is split over worker threads: below it, starting the
 * workers (~40 ms) costs about what they save.
 */
export const MIN_WORK_FOR_PREDICT_THREADS = 5_000_000;

/** Predicts records in this thread, or on a {@link PredictPool} when there is enough work. */
async function predictAll(model: LoadedModel, records: readonly unknown[], jobs: number | undefined): Promise<Prediction[]> {
  const threads = Math.min(resolveJobs(jobs), MAX_PREDICT_THREADS);
  if (threads <= 1 || records.length * model.forest.treeCount < MIN_WORK_FOR_PREDICT_THREADS) return model.predictMany(records, (i) => `/${i}`);
  const pool = await PredictPool.start(model.forest, threads);
  try {
    return await model.predictManyOn(pool, records, (i) => `/${i}`);
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

function render(format: 'csv' | 'json' | 'ndjson', records: OutputRecord[], predictions: Prediction[], classes: string[], id: string | undefined): string {
  if (format === 'csv') {
    const header = [...(id ? [id] : []), 'prediction', ...classes.map((c) => `proba_${c}`)];
    const rows = predictions.map((p, i) => [
      ...(id ? [records[i]?.[id] ?? ''] : []),
      p.prediction,
      ...classes.map((c) => p.probabilities?.[c] ?? ''),
    ]);
    return stringify([header, ...rows], { cast: { boolean: (b) => String(b) } });
  }
  const objects = predictions.map((p, i) => ({ ...(id ? { [id]: records[i]?.[id] ?? null } : {}), ...p }));
  if (format === 'json') return `${JSON.stringify(objects, null, 2)}\n`;
  return objects.map((o) => JSON.stringify(o)).join('\n') + (objects.length ? '\n' : '');
}

/**
 * Predicts every row of a file with a bundle, writing predictions in input order: a `prediction`
 * column, and for classifiers `proba_<label>` columns (CSV) or a `probabilities` object (JSON), plus
 * the `id` column when asked. CSV values are read with the same rules as training; records are then
 * checked with the bundle's input schema, exactly as the server does. A bad row is a DataError naming
 * the file, row and column.
 */
export async function predictFile(options: PredictOptions): Promise<PredictResult> {
  const model = options.model ?? (await loadBundle(options.ref, options.artifacts, { featurizers: options.featurizers }));
  checkModulesUsed(options.featurizers ?? [], customKindsUsed([model]), model.ref);
  const format = outputFormat(options.out, options.outFormat);
  const raw = await readRawFile(options.input, { format: options.format as never, stdin: options.stdin });
  if (options.id !== undefined && !raw.columnNames.includes(options.id)) {
    throw new ConfigError(`--id: no column "${options.id}" in ${raw.source} (columns: ${raw.columnNames.join(', ')})`);
  }
  const types = new Map<string, ColumnType>(model.transformer.pipeline.inputs.map((c) => [c.name, c.type]));
  const dateOrders = new Map(model.transformer.pipeline.inputs.map((c) => [c.name, c.dateOrder]));
  const textual = raw.format === 'csv' || raw.format === 'tsv';
  const records: OutputRecord[] = raw.rows.map((row, i) => {
    const rec: OutputRecord = dict(); // keyed by column names, which are data
    raw.columnNames.forEach((name, j) => {
      const value = row[j];
      const type = types.get(name);
      if (value === undefined) return;
      if (!textual || type === undefined) {
        rec[name] = value;
        return;
      }
      // CSV cells are text: read them as the column's type, with the rules used at training.
      try {
        rec[name] = toCell(type, value, dateOrders.get(name));
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        throw new DataError({ source: raw.source, row: i + 1, line: raw.lines?.[i], column: name }, err.message);
      }
    });
    return rec;
  });
  let predictions: Prediction[];
  try {
    predictions = await predictAll(model, records, options.jobs);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const first = err.details[0];
    const m = first ? /^\/(\d+)(?:\/(.*))?$/.exec(first.path) : null;
    if (!first || !m) throw err;
    const row = Number(m[1]);
    const column = m[2]?.replace(/~1/g, '/').replace(/~0/g, '~');
    const more = err.details.length > 1 ? ` (and ${err.details.length - 1} more problem${err.details.length > 2 ? 's' : ''})` : '';
    throw new DataError({ source: raw.source, row: row + 1, line: raw.lines?.[row], column }, `${first.message}${more}`);
  }
  const text = render(format, records, predictions, model.forest.task === 'classification' ? model.forest.classes : [], options.id);
  if (options.out === '-') {
    const stdout = options.stdout ?? process.stdout;
    await new Promise<void>((resolve, reject) => stdout.write(text, (err) => (err ? reject(err) : resolve())));
  } else {
    await writeFileAtomic(options.out, text);
  }
  return { model: model.ref, rows: predictions.length, out: options.out };
}
