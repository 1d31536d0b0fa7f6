import { type FlatRecord, FlattenError, flattenRecord, hasNestedValue, originalPointer } from '../records/flatten.js';
import { type ErrorDetail, ValidationError, VerificationError, invalidInput } from '../errors.js';
import { type JsonSchema, MAX_REPORTED_ERRORS, RecordValidator } from '../features/input-schema.js';
import { FeatureTransformer } from '../features/transformer.js';
import type { FittedPipeline } from '../features/types.js';
import type { CompiledForest } from '../models/compiled-forest.js';
import type { PredictPool } from '../models/predict-pool.js';
import { labelValues } from '../models/task.js';
import type { Manifest } from '../bundle/manifest.js';
import type { SignatureDoc } from '../bundle/signature.js';
import { readVerifiedFile } from '../bundle/verify.js';
import { dict } from '../records/dict.js';

/** One prediction: the label (in the target's own type) or number, and class probabilities. */
export interface Prediction {
  prediction: string | number | boolean;
  /** Classifiers only: label → the mean of the trees' leaf class distributions. */
  probabilities?: Record<string, number>;
}

/** The forest's outputs for featurized rows: the class index (classifier) or value of each, and the class probabilities (rows × classes). */
export interface ForestOutputs {
  values: Float64Array;
  proba: Float64Array;
}

/** A bad record of {@link Predictor.featurizeRows}: its index in the input, and its problems. */
export interface RowProblem {
  index: number;
  details: ErrorDetail[];
}

/** What {@link Predictor.featurizeRows} made: the good records' features, which records they are, and the bad ones. */
export interface FeaturizedRows {
  /** Row-major `rows.length × width`: the good records, in input order. */
  matrix: Float64Array;
  /** Input index of each row of `matrix`. */
  rows: number[];
  /** The bad records, in input order. */
  problems: RowProblem[];
}

/**
 * A verified, loaded bundle ready to predict: validator, featurizer and compiled forest built once.
 * The server and `mlpipe predict` both predict through {@link predictMany}, so they return the same
 * predictions for the same records.
 */
export class Predictor {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly transformer: FeatureTransformer;
  readonly forest: CompiledForest;
  readonly validator: RecordValidator;
  /** The bundle's signature, when it was loaded with `requireSignature` (checked against a trusted key). */
  signature?: SignatureDoc;
  private readonly labels: (string | number | boolean)[];
  private readonly row: Float64Array;
  private readonly proba: Float64Array;

  constructor(dir: string, manifest: Manifest, pipeline: FittedPipeline, forest: CompiledForest, schema: JsonSchema) {
    this.dir = dir;
    this.manifest = manifest;
    this.transformer = new FeatureTransformer(pipeline);
    this.forest = forest;
    if (this.forest.width !== this.transformer.width) {
      throw new VerificationError('model.json', `${dir}: the model expects ${this.forest.width} features but the featurizer makes ${this.transformer.width}`);
    }
    this.validator = new RecordValidator(schema);
    this.labels = labelValues(this.forest.classes, manifest.target.type);
    this.row = new Float64Array(this.transformer.width);
    this.proba = new Float64Array(this.forest.classes.length);
  }

  get name(): string {
    return this.manifest.name;
  }

  get version(): string {
    return this.manifest.version;
  }

  /** `name@version` */
  get ref(): string {
    return `${this.manifest.name}@${this.manifest.version}`;
  }

  /**
   * The prediction a forest output stands for: for a classifier, the label of class index `value` in
   * the target's own type and spelling; for a regression model, `value` itself.
   */
  labelOf(value: number): string | number | boolean {
    return this.forest.task === 'regression' ? value : (this.labels[value] as string | number | boolean);
  }

  /** A {@link Prediction} from a forest output: `value` (class index or value) and, for a classifier, its class probabilities. */
  predictionOf(value: number, proba: Float64Array): Prediction {
    return this.output(value, proba);
  }

  private output(value: number, proba: Float64Array): Prediction {
    if (this.forest.task === 'regression') return { prediction: value };
    const probabilities = dict<number>(); // keyed by class labels, which are data
    this.forest.classes.forEach((c, i) => {
      probabilities[c] = proba[i] as number;
    });
    return { prediction: this.labels[value] as string | number | boolean, probabilities };
  }

  /**
   * Validates, featurizes and predicts one record; ValidationError (with JSON paths) when invalid. A
   * record with nested objects or Extended JSON values is flattened first, as the loader flattens
   * training records (src/core/records/flatten.ts): `{"record": {"high": 3}}` is read as `{"record.high": 3}`,
   * and a problem is reported at the path the client sent (`/record/high`).
   */
  predictOne(record: unknown, pathPrefix = ''): Prediction {
    if (isObject(record) && hasNestedValue(record)) return this.predictNested(record, pathPrefix);
    this.validator.assert(record, pathPrefix);
    this.transformer.transformRecord(record as Record<string, unknown>, this.row, pathPrefix);
    const value = this.forest.predictRow(this.row, 0, this.proba);
    return this.output(value, this.proba);
  }

  private predictNested(record: Record<string, unknown>, pathPrefix: string): Prediction {
    const flat = flattenForRequest(record, pathPrefix);
    try {
      this.validator.assert(flat.record, pathPrefix);
      this.transformer.transformRecord(flat.record, this.row, pathPrefix);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      throw invalidInput(err.details.map((d) => nestedDetail(d, flat, pathPrefix)));
    }
    const value = this.forest.predictRow(this.row, 0, this.proba);
    return this.output(value, this.proba);
  }

  /**
   * Validates every record (all problems reported together, paths from `rowPath`, by default
   * `/records/<i>`), then featurizes them into one matrix and predicts, in input order. Nested
   * records are flattened as in {@link predictOne} (flat, nested and mixed batches predict the same),
   * their problems reported at the nested path (`/records/0/record/high`). One bad record makes the
   * whole call a ValidationError (at most {@link MAX_REPORTED_ERRORS} problems listed); to predict
   * the good records of a batch that has bad ones, use {@link featurizeRows}.
   */
  predictMany(records: readonly unknown[], rowPath: (i: number) => string = (i) => `/records/${i}`): Prediction[] {
    return this.predictFeaturized(this.featurizeAll(records, rowPath));
  }

  /** {@link predictMany} with the forest's work split over a {@link PredictPool}'s threads. */
  async predictManyOn(pool: PredictPool, records: readonly unknown[], rowPath: (i: number) => string = (i) => `/records/${i}`): Promise<Prediction[]> {
    return this.predictFeaturizedOn(pool, this.featurizeAll(records, rowPath));
  }

  /**
   * Validates and featurizes each record on its own: the good ones into one matrix (in input order),
   * the bad ones (invalid for the input schema, a value its column cannot read, a nested record that
   * cannot be flattened) into `problems` with their JSON paths under `rowPath(i)`. One bad record
   * never stops the others; predict the good ones with {@link predictFeaturized}. `flat`: the caller
   * knows that no value of any record is an object or an array (the rows of a table reader, which
   * flattens nested records already), so the check for nested records is skipped.
   */
  featurizeRows(input: readonly unknown[], rowPath: (i: number) => string = (i) => `/records/${i}`, { flat = false }: { flat?: boolean } = {}): FeaturizedRows {
    const width = this.transformer.width;
    let matrix = new Float64Array(input.length * width);
    const rows: number[] = [];
    const problems: RowProblem[] = [];
    for (let i = 0; i < input.length; i++) {
      const details = this.featurizeRow(input[i], rowPath(i), matrix, rows.length * width, flat);
      if (details.length === 0) rows.push(i);
      else problems.push({ index: i, details });
    }
    if (rows.length < input.length) matrix = matrix.slice(0, rows.length * width);
    return { matrix, rows, problems };
  }

  /** Predictions of the good rows of {@link featurizeRows}, in the order of `rows`. */
  predictFeaturized(featurized: FeaturizedRows): Prediction[] {
    return this.predictionsOf(this.predictFeaturizedValues(featurized));
  }

  /**
   * The forest's outputs for the good rows of {@link featurizeRows}, as arrays: `values[i]` the class
   * index or value of row i, `proba` its class probabilities (rows × classes; empty for regression).
   * {@link predictionOf} turns one into a {@link Prediction}, {@link predictionsOf} all; for writing many, no object per row is made.
   */
  predictFeaturizedValues(featurized: FeaturizedRows): ForestOutputs {
    const n = featurized.rows.length;
    const proba = new Float64Array(n * this.forest.classes.length);
    return { values: this.forest.predictMatrix(featurized.matrix, n, proba), proba };
  }

  /**
   * {@link predictFeaturized} with the forest's work split over a {@link PredictPool}'s threads; with
   * `offThread`, on its worker threads alone (PredictPool.predictMatrixOffThread), so the calling
   * thread's event loop stays free. The same predictions either way.
   */
  async predictFeaturizedOn(pool: PredictPool, featurized: FeaturizedRows, { offThread = false }: { offThread?: boolean } = {}): Promise<Prediction[]> {
    return this.predictionsOf(await this.predictFeaturizedValuesOn(pool, featurized, { offThread }));
  }

  /** {@link predictFeaturizedValues} on a {@link PredictPool}, as {@link predictFeaturizedOn}. */
  async predictFeaturizedValuesOn(pool: PredictPool, featurized: FeaturizedRows, { offThread = false }: { offThread?: boolean } = {}): Promise<ForestOutputs> {
    const n = featurized.rows.length;
    const proba = new Float64Array(n * this.forest.classes.length);
    const values = offThread ? await pool.predictMatrixOffThread(featurized.matrix, n, proba) : await pool.predictMatrix(featurized.matrix, n, proba);
    return { values, proba };
  }

  /** {@link featurizeRows}, refusing the whole batch (one ValidationError) when any record is bad. */
  private featurizeAll(records: readonly unknown[], rowPath: (i: number) => string): FeaturizedRows {
    const featurized = this.featurizeRows(records, rowPath);
    if (featurized.problems.length > 0) throw batchRefusal(featurized.problems);
    return featurized;
  }

  /**
   * Flattens (when nested), validates and featurizes one record into `out`; returns its problems
   * (empty when it is good), each at the path the client sent under `pathPrefix`.
   */
  private featurizeRow(record: unknown, pathPrefix: string, out: Float64Array, at: number, known: boolean): ErrorDetail[] {
    let flat: FlatRecord | undefined;
    let r = record;
    if (!known && isObject(record) && hasNestedValue(record)) {
      try {
        flat = flattenForRequest(record, pathPrefix);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return err.details;
      }
      r = flat.record;
    }
    const remap = (d: ErrorDetail) => (flat ? nestedDetail(d, flat, pathPrefix) : d);
    const problems = this.validator.check(r, pathPrefix);
    if (problems.length > 0) return problems.map(remap);
    try {
      // Values the schema lets through but the column's reader refuses (an impossible date).
      this.transformer.transformRecord(r as Record<string, unknown>, out, pathPrefix, at);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return err.details.map(remap);
    }
    return [];
  }

  /**
   * The bundle's report.html, checked against its manifest sha256 on every read (the file is read
   * when asked for, not kept in memory). Null for a bundle packaged without a report.
   *
   * @throws VerificationError when the file was changed after the bundle was written.
   */
  async reportHtml(): Promise<Buffer | null> {
    return this.manifest.files['report.html'] ? readVerifiedFile(this.dir, this.manifest, 'report.html') : null;
  }

  /** The {@link Prediction}s of forest outputs ({@link ForestOutputs}), one per row. */
  predictionsOf({ values, proba }: ForestOutputs): Prediction[] {
    const k = this.forest.classes.length;
    return Array.from(values, (v, i) => this.output(v, proba.subarray(i * k, (i + 1) * k)));
  }
}

/**
 * The one error that refuses a batch with bad records: their problems, in input order, at most
 * {@link MAX_REPORTED_ERRORS} of them.
 */
export function batchRefusal(problems: readonly RowProblem[]): ValidationError {
  const details: ErrorDetail[] = [];
  for (const p of problems) {
    details.push(...p.details);
    if (details.length >= MAX_REPORTED_ERRORS) break;
  }
  return invalidInput(details.slice(0, MAX_REPORTED_ERRORS));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** {@link flattenRecord} for a request: a record that cannot be flattened is a ValidationError at its path. */
function flattenForRequest(record: Record<string, unknown>, pathPrefix: string): FlatRecord {
  try {
    return flattenRecord(record);
  } catch (err) {
    if (!(err instanceof FlattenError)) throw err;
    throw invalidInput([{ path: `${pathPrefix}${err.pointer}`, message: err.problem }]);
  }
}

/** A problem found in the flat form of a request record, at the path the client sent (`/record.high` → `/record/high`). */
function nestedDetail(detail: ErrorDetail, flat: FlatRecord, pathPrefix: string): ErrorDetail {
  if (!detail.path.startsWith(pathPrefix)) return detail;
  const pointer = originalPointer(flat, detail.path.slice(pathPrefix.length));
  return { path: `${pathPrefix}${pointer}`, message: detail.message };
}
