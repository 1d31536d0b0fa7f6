/**
 * How predictions are written as rows of a table: the columns `mlpipe predict` writes and the
 * streaming route of `mlpipe serve` sends (`prediction`, one `proba_<label>` per class, the id column
 * when asked, an `error` for a bad row), and how text cells of a CSV row are read as the model's
 * column types. One definition, so a file scored by `mlpipe predict` and the same file streamed to
 * the server come back alike.
 */
import { stringify } from 'csv-stringify/sync';
import type { ErrorDetail } from '../errors.js';
import { pointerToken } from '../features/pipeline.js';
import { CellError, type ColumnType, type DateOrder, toCell } from '../values.js';
import { dict } from '../dict.js';
import type { Prediction, Predictor } from './predictor.js';

/** A record as read from a row (keyed by column names, which are data: a null-prototype object). */
export type OutputRecord = Record<string, unknown>;

/** One output row: its input record, and its prediction or why there is none. */
export type Outcome = { record: OutputRecord; prediction: Prediction; error?: undefined } | { record: OutputRecord; prediction?: undefined; error: string };

/** Longest `error` text written for one row; the rest of a very long one is cut (`…`). */
export const MAX_ERROR_TEXT = 1000;

/** `text`, cut to {@link MAX_ERROR_TEXT}. */
export function clipError(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

/** A row's problems as one line: `/date: must be …; /area: …`. */
export function errorText(details: readonly ErrorDetail[]): string {
  return clipError(details.map((d) => `${d.path || '(record)'}: ${d.message}`).join('; '));
}

/** The class labels whose probabilities are written (`proba_<label>`): none for a regression model. */
export function outputClasses(model: Predictor): string[] {
  return model.forest.task === 'classification' ? model.forest.classes : [];
}

/** The CSV header of predictions: `[id,] prediction, proba_<label>…[, error]`. */
export function csvOutputHeader(classes: readonly string[], id: string | undefined, withError: boolean): string[] {
  return [...(id ? [id] : []), 'prediction', ...classes.map((c) => `proba_${c}`), ...(withError ? ['error'] : [])];
}

/** One outcome as the cells of {@link csvOutputHeader}'s columns (a bad row: empty prediction and probabilities). */
export function csvOutputCells({ record, prediction: p, error }: Outcome, classes: readonly string[], id: string | undefined, withError: boolean): unknown[] {
  return [...(id ? [record[id] ?? ''] : []), p ? p.prediction : '', ...classes.map((c) => p?.probabilities?.[c] ?? ''), ...(withError ? [error ?? ''] : [])];
}

/** CSV text of rows of cells (booleans as `true`/`false`), with `\n` line ends. */
export function csvText(rows: unknown[][]): string {
  return stringify(rows, { cast: { boolean: (b) => String(b) } });
}

/**
 * One outcome as a JSON object: `{[id], prediction, probabilities}`, or for a bad row
 * `"prediction": null`, `"probabilities": null` (classifiers) and `error`.
 */
export function jsonOutputObject({ record, prediction, error }: Outcome, classes: readonly string[], id: string | undefined): Record<string, unknown> {
  return {
    ...(id ? { [id]: record[id] ?? null } : {}),
    ...(prediction ?? { prediction: null, ...(classes.length > 0 ? { probabilities: null } : {}), error }),
  };
}

/** What {@link TextCells.record} read: the record, and the problems of cells that could not be read as their column's type. */
export interface ReadRecord {
  record: OutputRecord;
  /** Paths into the record (`/date`) of cells its column's reader refused. */
  problems: ErrorDetail[];
  /** The id column's text when it could not be read as its type (written as the file has it). */
  unreadId?: unknown;
}

/**
 * Reads rows of a table into records for a model: CSV cells (text) are read as the model's column
 * types with the rules used at training (a date in the order learned in training); values of other
 * formats (JSON) are kept as they are. A cell its column cannot read is a problem of that row, at
 * the column's path.
 */
export class TextCells {
  private readonly types: Map<string, ColumnType>;
  private readonly dateOrders: Map<string, DateOrder | undefined>;

  constructor(
    model: Predictor,
    private readonly textual: boolean,
    /** The id column (`--id`, `?id=`): its text is kept when its type cannot read it. */
    readonly id?: string,
  ) {
    this.types = new Map(model.transformer.pipeline.inputs.map((c) => [c.name, c.type]));
    this.dateOrders = new Map(model.transformer.pipeline.inputs.map((c) => [c.name, c.dateOrder]));
  }

  /** The record of one row of values under `columns` (a missing value is left out). */
  record(columns: readonly string[], row: readonly unknown[]): ReadRecord {
    const record: OutputRecord = dict();
    const problems: ErrorDetail[] = [];
    let unreadId: unknown;
    let unread = false;
    for (let j = 0; j < columns.length; j++) {
      const name = columns[j] as string;
      const value = row[j];
      if (value === undefined) continue;
      const type = this.types.get(name);
      if (!this.textual || type === undefined) {
        record[name] = value;
        continue;
      }
      try {
        record[name] = toCell(type, value as string, this.dateOrders.get(name));
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        if (name === this.id) {
          unread = true;
          unreadId = value;
        }
        problems.push({ path: `/${pointerToken(name)}`, message: err.message });
      }
    }
    return unread ? { record, problems, unreadId } : { record, problems };
  }
}
