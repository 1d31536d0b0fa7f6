/**
 * How predictions are written as rows of a table: the columns `mlpipe predict` writes and the
 * streaming route of `mlpipe serve` sends (`prediction`, one `proba_<label>` per class, the id column
 * when asked, an `error` for a bad row), and how text cells of a CSV row are read as the model's
 * column types. One definition, so a file scored by `mlpipe predict` and the same file streamed to
 * the server come back alike.
 */
import { stringify } from 'csv-stringify/sync';
import type { ErrorDetail } from '../errors.js';
import { pointerToken } from '../features/transformer.js';
import { CellError, type ColumnType, type DateOrder, isMissingSpan, parseNumberSpan, toCell } from '../values.js';
import { type TextRows, textRowsValue } from '../data/sources/types.js';
import { DataRecord, dict } from '../records/dict.js';
import type { Prediction, Predictor } from './predictor.js';

/** A record as read from a row (keyed by column names, which are data: a null-prototype object). */
export type OutputRecord = Record<string, unknown>;

/** One output row: its input record, and its prediction or why there is none. */
export type Outcome = { record: OutputRecord; prediction: Prediction; error?: undefined } | { record: OutputRecord; prediction?: undefined; error: string };

/** Longest `error` text written for one row; the rest of a very long one is cut (`…`). */
const MAX_ERROR_TEXT = 1000;

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
  /** The type and date order of each column of the last `columns` read (a table's chunks share one header). */
  private lastColumns: readonly string[] | undefined;
  private columnTypes: (ColumnType | undefined)[] = [];
  private columnOrders: (DateOrder | undefined)[] = [];

  constructor(
    model: Predictor,
    private readonly textual: boolean,
    /** The id column (`--id`, `?id=`): its text is kept when its type cannot read it. */
    readonly id?: string,
  ) {
    this.types = new Map(model.transformer.pipeline.inputs.map((c) => [c.name, c.type]));
    this.dateOrders = new Map(model.transformer.pipeline.inputs.map((c) => [c.name, c.dateOrder]));
  }

  /** The column types and date orders of `columns`, looked up once per header. */
  private prepare(columns: readonly string[]): void {
    if (columns !== this.lastColumns || columns.length !== this.columnTypes.length) {
      this.lastColumns = columns;
      this.columnTypes = columns.map((name) => this.types.get(name));
      this.columnOrders = columns.map((name) => this.dateOrders.get(name));
    }
  }

  /**
   * The record of one row of values under `columns` (a missing value is left out): a
   * {@link DataRecord}, keyed by the columns without inheriting anything.
   */
  record(columns: readonly string[], row: readonly unknown[]): ReadRecord {
    this.prepare(columns);
    const record: OutputRecord = new DataRecord();
    const read: ReadRecord = { record, problems: [] };
    for (let j = 0; j < columns.length; j++) {
      const value = row[j];
      if (value !== undefined) this.cell(read, columns[j] as string, j, value);
    }
    return read;
  }

  /**
   * {@link record} of row `i` of a CSV chunk kept as spans of its text (RawChunk.spans): the same
   * record, but a number column's cells are read in place (values.ts parseNumberSpan, the loader's
   * reader) rather than cut out as strings first. A cell that is not a number goes the way of
   * {@link record}, for the same error.
   */
  recordFromSpans(columns: readonly string[], spans: TextRows, i: number): ReadRecord {
    this.prepare(columns);
    const types = this.columnTypes;
    const { text, starts, ends, escaped, width } = spans;
    const record: OutputRecord = new DataRecord();
    const read: ReadRecord = { record, problems: [] };
    const base = i * width;
    for (let j = 0; j < columns.length; j++) {
      const k = base + j;
      const type = types[j];
      if (this.textual && (type === 'number' || type === 'integer') && escaped?.has(k) !== true) {
        const start = starts[k] as number;
        const end = ends[k] as number;
        if (isMissingSpan(text, start, end)) {
          record[columns[j] as string] = null;
          continue;
        }
        const n = parseNumberSpan(text, start, end, this.numberInfo);
        if (!Number.isNaN(n)) {
          record[columns[j] as string] = n;
          continue;
        }
      }
      this.cell(read, columns[j] as string, j, textRowsValue(spans, k));
    }
    return read;
  }

  private readonly numberInfo = { integer: false };

  /** Reads `value` of column `j` into `read` (its record, or a problem at the column's path). */
  private cell(read: ReadRecord, name: string, j: number, value: unknown): void {
    const type = this.columnTypes[j];
    if (!this.textual || type === undefined) {
      read.record[name] = value;
      return;
    }
    try {
      read.record[name] = toCell(type, value as string, this.columnOrders[j]);
    } catch (err) {
      if (!(err instanceof CellError)) throw err;
      if (name === this.id) read.unreadId = value;
      read.problems.push({ path: `/${pointerToken(name)}`, message: err.message });
    }
  }
}

/**
 * One cell as {@link csvText} writes it (csv-stringify 6 with its default options): a string quoted
 * when it holds a comma, a quote, `\n` or `\r` (quotes doubled), a number as `String(n)`, a boolean as
 * `true`/`false`, null and undefined empty. Any other value (an object, a Date, a BigInt) goes through
 * csv-stringify itself. Written out for speed: a streamed answer formats millions of cells, and a
 * csv-stringify call per row cost more than the rest of the answer (tests compare it with csvText).
 */
export function csvCell(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return csvString(value);
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return '';
    default:
      return value === null ? '' : csvText([[value]]).slice(0, -1);
  }
}

function csvString(s: string): string {
  const quote = s.includes('"');
  if (!quote && !s.includes(',') && !s.includes('\n') && !s.includes('\r')) return s;
  return `"${quote ? s.replaceAll('"', '""') : s}"`;
}

/** A number as JSON.stringify writes it. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * Formats good rows' predictions straight from the forest's arrays (the class index or value of each
 * row, and its class probabilities), as text: the same bytes as {@link csvOutputCells} + {@link csvText}
 * (CSV) or `JSON.stringify(jsonOutputObject(…))` (NDJSON) give for the same outcome, without a
 * Prediction object, a probabilities object or a csv-stringify call per row. The parts that depend
 * only on the class (its label, quoted) are made once. For an NDJSON layout that the fast form cannot
 * copy exactly (an id column named `prediction` or `probabilities`, or whose key order differs), each
 * row goes through JSON.stringify as before; a self-check at construction decides.
 */
export class PredictionText {
  private readonly k: number;
  private readonly regression: boolean;
  /** Per class: the text before its probabilities (CSV: `label,`; NDJSON: `"prediction":label,"probabilities":{`). */
  private readonly classHead: string[];
  /** NDJSON: the key text of each probability, in JSON key order, and which class it is. */
  private readonly probaKeys: string[] = [];
  private readonly probaClass: number[] = [];
  private readonly idKey: string;
  /** NDJSON: whether rows are written in the fast form (else through JSON.stringify, see the class comment). */
  readonly exactJson: boolean;

  constructor(
    private readonly model: Predictor,
    private readonly format: 'csv' | 'ndjson',
    private readonly id: string | undefined,
    /** CSV: an `error` column at the end (empty on a good row). */
    private readonly withError: boolean,
  ) {
    const classes = outputClasses(model);
    this.k = classes.length;
    this.regression = model.forest.task === 'regression';
    this.idKey = id === undefined ? '' : `${JSON.stringify(id)}:`;
    if (format === 'csv') {
      this.classHead = classes.map((_, c) => csvCell(model.labelOf(c)));
    } else {
      // JSON's key order, which puts integer-like keys first: read off an object made as jsonOutputObject makes it.
      const order = dict<number>();
      classes.forEach((c, j) => {
        order[c] = j;
      });
      for (const key of Object.keys(order)) {
        this.probaKeys.push(`${JSON.stringify(key)}:`);
        this.probaClass.push(order[key] as number);
      }
      this.classHead = classes.map((_, c) => `"prediction":${JSON.stringify(model.labelOf(c))},"probabilities":{`);
    }
    this.exactJson = format === 'ndjson' && this.selfCheck(classes);
  }

  /** True when the fast NDJSON form gives JSON.stringify's bytes for this model and id (checked on one made-up row). */
  private selfCheck(classes: readonly string[]): boolean {
    const proba = Float64Array.from(classes, (_, j) => (j + 1) / 8);
    const record = dict<unknown>();
    if (this.id !== undefined) record[this.id] = 'id "1"';
    const value = this.regression ? 1.5 : 0;
    const fast = this.ndjsonFast(record, value, proba, 0);
    const slow = `${JSON.stringify(jsonOutputObject({ record, prediction: this.model.predictionOf(value, proba.subarray(0, this.k)) }, classes, this.id))}\n`;
    return fast === slow;
  }

  /**
   * One good row, ending with `\n`: `value` is the forest's output for it (class index or value),
   * `proba[at * k …]` its probabilities, `record` its input record (read only for the id column).
   */
  row(record: OutputRecord | undefined, value: number, proba: Float64Array, at: number): string {
    if (this.format === 'ndjson') {
      if (this.exactJson) return this.ndjsonFast(record, value, proba, at);
      const prediction = this.model.predictionOf(value, proba.subarray(at * this.k, (at + 1) * this.k));
      return `${JSON.stringify(jsonOutputObject({ record: record ?? dict(), prediction }, outputClasses(this.model), this.id))}\n`;
    }
    let text = this.id === undefined ? '' : `${csvCell(record?.[this.id] ?? '')},`;
    if (this.regression) text += String(value);
    else {
      text += this.classHead[value] as string;
      for (let j = 0, q = at * this.k; j < this.k; j++, q++) text += `,${proba[q] as number}`;
    }
    return this.withError ? `${text},\n` : `${text}\n`;
  }

  private ndjsonFast(record: OutputRecord | undefined, value: number, proba: Float64Array, at: number): string {
    let text = this.id === undefined ? '{' : `{${this.idKey}${JSON.stringify(record?.[this.id] ?? null)},`;
    if (this.regression) return `${text}"prediction":${jsonNumber(value)}}\n`;
    text += this.classHead[value] as string;
    const base = at * this.k;
    for (let j = 0; j < this.k; j++) text += `${j === 0 ? '' : ','}${this.probaKeys[j] as string}${jsonNumber(proba[base + (this.probaClass[j] as number)] as number)}`;
    return `${text}}}\n`;
  }
}
