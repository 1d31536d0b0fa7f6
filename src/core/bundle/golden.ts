/**
 * Golden records: the skew gate of a bundle. `train` keeps about 20 holdout rows as raw input
 * records (as a client would send them) in the model folder (`golden-inputs.json`); `package` gives
 * them to the staged bundle's own predictor and stores them with the exact outputs it gave
 * (`golden.json`, listed in the manifest). {@link checkGolden} predicts them again and refuses a
 * bundle whose outputs differ by a single bit: what catches a featurizer or engine change between
 * mlpipe versions (or a hand-edited bundle whose checksums were redone) before a user does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ValidationError, VerificationError, messageOf } from '../errors.js';
import { customRequirements } from '../features/custom.js';
import { customKind } from '../features/registry.js';
import type { FittedPipeline } from '../features/types.js';
import { Rng } from '../models/rng.js';
import { type Column, cellAt, findColumn, type Table } from '../table.js';
import { dict } from '../records/dict.js';
import { type Predictor, type Prediction } from '../predictor/predictor.js';
import { type LoadPredictorOptions, loadPredictorFiles } from '../predictor/from-bundle.js';
import type { Manifest } from './manifest.js';
import { readVerifiedFile, verifyBundle } from './verify.js';

/** The model-folder file `train` writes: the chosen rows as input records, without outputs. */
export const GOLDEN_INPUTS_FILE = 'golden-inputs.json';
/** The bundle file `package` writes: the records with the outputs the bundle gave them. */
export const GOLDEN_FILE = 'golden.json';
/** How many golden records `train` keeps (fewer when there are fewer rows). */
const GOLDEN_COUNT = 20;
/** A record whose JSON is longer than this (a huge text cell) is not kept: the bundle stays small. */
const GOLDEN_RECORD_MAX_BYTES = 64 * 1024;

/** Where the golden records come from: holdout rows, or (no holdout) any training rows. */
export type GoldenFrom = 'holdout' | 'training rows';

/** `golden-inputs.json` of a model folder. */
export interface GoldenInputs {
  format: 'mlpipe.golden-inputs';
  formatVersion: 1;
  from: GoldenFrom;
  /** Indices of the rows among the training rows (features folder order). */
  rows: number[];
  records: Record<string, unknown>[];
}

/** One golden record: the input as a client sends it, and the bundle's exact output. */
export interface GoldenRecord {
  input: Record<string, unknown>;
  output: Prediction;
}

/** `golden.json` of a bundle. */
export interface GoldenFile {
  format: 'mlpipe.golden';
  formatVersion: 1;
  from: GoldenFrom;
  records: GoldenRecord[];
}

/**
 * Up to `count` rows of `candidates`, chosen from the seed alone: for classification (`labels`, class
 * indices of every row) round-robin over the classes, so every class present is represented; returned
 * in ascending order.
 */
export function chooseGoldenRows(candidates: readonly number[], seed: number, labels?: ArrayLike<number>, count = GOLDEN_COUNT): number[] {
  // A stream of its own: the holdout split and the forest draw from the seed too.
  const rng = new Rng((seed ^ 0x901d) >>> 0);
  const groups = new Map<number, number[]>();
  for (const i of candidates) {
    const key = labels ? (labels[i] as number) : 0;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const queues = [...groups.keys()].sort((a, b) => a - b).map((k) => rng.shuffle(groups.get(k)!.slice()));
  const chosen: number[] = [];
  for (let round = 0; chosen.length < count; round++) {
    let any = false;
    for (const q of queues) {
      if (round < q.length && chosen.length < count) {
        chosen.push(q[round]!);
        any = true;
      }
    }
    if (!any) break;
  }
  return chosen.sort((a, b) => a - b);
}

/** A typed cell as a client sends it in JSON: dates as ISO text (epoch ms outside years 0–9999), no NaN or ±Infinity. */
function jsonValue(column: Column, i: number): unknown {
  const cell = cellAt(column, i);
  if (cell === null) return null;
  if (column.type === 'datetime') {
    const d = new Date(cell as number);
    const year = d.getUTCFullYear();
    return year >= 0 && year <= 9999 ? d.toISOString() : cell;
  }
  if (typeof cell === 'number' && !Number.isFinite(cell)) return null;
  return cell;
}

/**
 * The golden inputs of a trained model: the chosen rows of the training table as records of the
 * pipeline's input columns (the target and unused columns left out). Rows whose record is larger than
 * {@link GOLDEN_RECORD_MAX_BYTES} are left out.
 */
export function goldenInputs(table: Table, pipeline: FittedPipeline, rows: readonly number[], from: GoldenFrom): GoldenInputs {
  const columns = pipeline.inputs.map((input) => ({ name: input.name, column: findColumn(table, input.name) }));
  const kept: number[] = [];
  const records: Record<string, unknown>[] = [];
  for (const i of rows) {
    const record = dict<unknown>(); // keyed by column names, which are data
    for (const { name, column } of columns) record[name] = column ? jsonValue(column, i) : null;
    if (Buffer.byteLength(JSON.stringify(record)) > GOLDEN_RECORD_MAX_BYTES) continue;
    kept.push(i);
    records.push(record);
  }
  return { format: 'mlpipe.golden-inputs', formatVersion: 1, from, rows: kept, records };
}

/** Reads a model folder's golden inputs; undefined when it has none (trained before golden records). */
export async function readGoldenInputs(modelDir: string): Promise<GoldenInputs | undefined> {
  const path = join(modelDir, GOLDEN_INPUTS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`${path}: unreadable (${messageOf(err)})`);
  }
  let doc: Partial<GoldenInputs>;
  try {
    doc = JSON.parse(text) as Partial<GoldenInputs>;
  } catch (err) {
    throw new ConfigError(`${path}: invalid JSON (${messageOf(err)}); train the model again`);
  }
  if (doc?.format !== 'mlpipe.golden-inputs' || doc.formatVersion !== 1 || !Array.isArray(doc.records) || !doc.records.every(isObject)) {
    throw new ConfigError(`${path}: not an mlpipe golden inputs file (format mlpipe.golden-inputs, version 1, records: [objects]); train the model again`);
  }
  return doc as GoldenInputs;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Why golden records cannot be recorded for a pipeline in this process, or undefined when they can. */
export function goldenUnavailable(pipeline: FittedPipeline): string | undefined {
  const missing = customRequirements(pipeline).filter((r) => customKind(r.name)?.sha256 !== r.sha256);
  return missing.length > 0 ? `custom featurizer ${missing.map((m) => `"${m.name}"`).join(', ')} not loaded in this process` : undefined;
}

/**
 * The golden file of a staged bundle: each input predicted by the bundle's own predictor (the same
 * {@link Predictor} serve and predict use). Records the predictor refuses are left out.
 */
function recordGolden(model: Predictor, inputs: GoldenInputs): GoldenFile {
  const featurized = model.featurizeRows(inputs.records);
  const outputs = model.predictFeaturized(featurized);
  const records = featurized.rows.map((i, n) => ({ input: inputs.records[i]!, output: outputs[n]! }));
  return { format: 'mlpipe.golden', formatVersion: 1, from: inputs.from, records };
}

/** Builds the predictor of a staged bundle (manifest not written yet) and records its golden file. */
export async function recordStagedGolden(dir: string, manifest: Manifest, inputs: GoldenInputs): Promise<GoldenFile> {
  const model = await loadPredictorFiles(dir, manifest, { customKinds: 'loaded' });
  return recordGolden(model, inputs);
}

/** What {@link checkGolden} found. */
export interface GoldenCheck {
  /** Records predicted again, all identical (0 for a bundle without golden records). */
  records: number;
  /** False for a bundle packaged without golden records (by an older mlpipe, or a model folder without golden inputs). */
  present: boolean;
}

/** The bundle file holding a manifest's golden records, if any. */
export function goldenFileOf(manifest: Manifest): string | undefined {
  if (manifest.golden?.file !== undefined) return manifest.golden.file;
  return Object.hasOwn(manifest.files, GOLDEN_FILE) ? GOLDEN_FILE : undefined;
}

function shownValue(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** The first difference between an output and the recorded one: `[field, got, recorded]`, or undefined when identical. */
function firstDifference(got: Prediction, recorded: Prediction): [string, unknown, unknown] | undefined {
  if (got.prediction !== recorded.prediction) return ['prediction', got.prediction, recorded.prediction];
  const g = got.probabilities;
  const r = recorded.probabilities;
  if (g === undefined && r === undefined) return undefined;
  if (g === undefined || r === undefined) return ['probabilities', g, r];
  for (const label of Object.keys(r)) {
    // Bit for bit: JSON keeps every double exactly (shortest round-trip form).
    if (!Object.hasOwn(g, label) || g[label] !== r[label]) return [`probabilities.${label}`, g[label], r[label]];
  }
  for (const label of Object.keys(g)) if (!Object.hasOwn(r, label)) return [`probabilities.${label}`, g[label], undefined];
  return undefined;
}

/**
 * Predicts a bundle's golden records again, in one batch and one by one (the two paths serve and
 * predict take), and compares every output exactly with the recorded one: same label, same numbers
 * bit for bit. A bundle without golden records passes with `present: false`.
 *
 * @throws VerificationError naming the bundle, the first record (0-based index) and field and both
 *   values, e.g. `penguins@1.0.0: /store/penguins/1.0.0/golden.json: record 3, probabilities.Adelie: got 0.61, the bundle recorded 0.6`;
 *   also when golden.json is changed, malformed or a record is refused now.
 */
export async function checkGolden(model: Predictor): Promise<GoldenCheck> {
  const file = goldenFileOf(model.manifest);
  if (file === undefined) return { records: 0, present: false };
  const where = `${model.ref}: ${join(model.dir, file)}`;
  const bytes = await readVerifiedFile(model.dir, model.manifest, file);
  let doc: Partial<GoldenFile>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Partial<GoldenFile>;
  } catch (err) {
    throw new VerificationError(file, `${where}: invalid JSON (${messageOf(err)})`);
  }
  if (doc?.format !== 'mlpipe.golden' || doc.formatVersion !== 1 || !Array.isArray(doc.records)) {
    throw new VerificationError(file, `${where}: not an mlpipe golden file (format mlpipe.golden, version 1)`);
  }
  const records = doc.records;
  records.forEach((r, i) => {
    if (!isObject(r) || !isObject(r.input) || !isObject(r.output) || !('prediction' in r.output)) {
      throw new VerificationError(file, `${where}: record ${i}: malformed (expected {input: {...}, output: {prediction, probabilities?}})`);
    }
  });
  const inputs = records.map((r) => r.input);
  const featurized = model.featurizeRows(inputs);
  const refused = featurized.problems[0];
  if (refused) {
    const d = refused.details[0];
    throw new VerificationError(file, `${where}: record ${refused.index}: the bundle refuses it now (${d ? `${d.path || '(record)'}: ${d.message}` : 'invalid'}), but it predicted it when packaged`);
  }
  const batch = model.predictFeaturized(featurized);
  for (let i = 0; i < records.length; i++) {
    let single: Prediction;
    try {
      single = model.predictOne(inputs[i]);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      throw new VerificationError(file, `${where}: record ${i}: the bundle refuses it now (${err.message}), but it predicted it when packaged`);
    }
    for (const got of [batch[i]!, single]) {
      const diff = firstDifference(got, records[i]!.output);
      if (diff) {
        const [field, g, r] = diff;
        throw new VerificationError(file, `${where}: record ${i}, ${field}: got ${shownValue(g)}, the bundle recorded ${shownValue(r)}`);
      }
    }
  }
  return { records: records.length, present: true };
}

/** What {@link checkBundleGolden} found: {@link GoldenCheck}, or why the records could not be checked. */
export interface BundleGoldenCheck extends GoldenCheck {
  /** Set when the golden records were not checked: the bundle needs custom featurizer modules that were not given. */
  skipped?: string;
}

/** How a golden check reads in a line of output: `20 golden records identical`, `no golden records`, or why not checked. */
export function goldenSummary(g: BundleGoldenCheck | undefined): string {
  return !g?.present ? 'no golden records' : g.skipped ? `golden records not checked: ${g.skipped}` : `${g.records} golden records identical`;
}

/**
 * Checks the golden records of a bundle folder: verifies every checksum first (unless its verified
 * `manifest` is given), loads its predictor and calls {@link checkGolden}. For `bundles verify`, and
 * for commands that receive a bundle (`bundles import`, `bundles pull`): call it on the arrived folder
 * before the bundle becomes visible. A bundle whose featurizer uses custom kinds needs their modules
 * in `options.featurizers`; without them the check is skipped and `skipped` says why.
 *
 * @throws VerificationError as {@link verifyBundle} and {@link checkGolden} do.
 */
export async function checkBundleGolden(dir: string, options: LoadPredictorOptions & { manifest?: Manifest } = {}): Promise<BundleGoldenCheck> {
  const manifest = options.manifest ?? (await verifyBundle(dir));
  if (goldenFileOf(manifest) === undefined) return { records: 0, present: false };
  if (manifest.customFeaturizers?.length) {
    const given = new Set((options.featurizers ?? []).map((f) => f.name));
    const missing = manifest.customFeaturizers.filter((c) => !given.has(c.name));
    if (missing.length > 0) {
      return { records: 0, present: true, skipped: `needs the custom featurizer module${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${m.name} (--featurizer-module ${m.name}=<path to ${m.module}>)`).join(', ')}` };
    }
  }
  const model = await loadPredictorFiles(dir, manifest, { featurizers: options.featurizers ?? [] });
  return checkGolden(model);
}
