import { throwIfAborted } from '../abort.js';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Field, Float64, RecordBatch, Schema, Struct, Table as ArrowTable, Utf8, makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { readDataset } from '../data/dataset.js';
import { writeDataset } from '../data/dataset-writer.js';
import type { Lineage } from '../lineage.js';
import type { DatasetProfile } from '../data/profile.js';
import { ConfigError, NotFoundError } from '../errors.js';
import { loadCustomKind } from '../features/custom.js';
import type { JsonSchema } from '../features/input-schema.js';
import type { FittedPipeline } from '../features/types.js';
import { prettyJson, readJsonFile, tempPathBeside, writeFileAtomic } from '../fs-util.js';
import type { Task } from '../models/forest-format.js';
import type { Table } from '../table.js';
import type { ColumnType } from '../values.js';

/** File names inside a features folder (the output of `mlpipe featurize`). */
export const FEATURES_FILES = {
  featurizer: 'featurizer.json',
  inputSchema: 'input-schema.json',
  matrix: 'matrix.arrow',
  info: 'features.json',
  /** The training rows (target present), so evaluation can re-fit featurizers on the training part only. */
  rows: 'dataset.arrow',
} as const;

/** `features.json`: what a features folder holds and where its data came from. */
export interface FeaturesInfo {
  format: 'mlpipe.features';
  formatVersion: 1;
  target: { name: string; type: ColumnType; task: Task; classes?: string[] };
  rows: number;
  /** Rows left out because their target was missing. */
  rowsWithoutTarget: number;
  featureCount: number;
  /** One line per featurizer step, and one per dropped column. */
  summary: { steps: string[]; dropped: { column: string; reason: string }[] };
  profile: DatasetProfile;
  lineage?: Lineage;
  /** sha256 of the pipeline config, when one was used. */
  configSha256?: string;
  /**
   * The custom featurizer modules the fitted pipeline uses, with the absolute path they were loaded
   * from and their sha256: `train` re-fits featurizers in every fold and loads them from here (this
   * folder is the user's own output), refusing a module whose bytes changed since.
   */
  customFeaturizers?: { name: string; path: string; sha256: string }[];
}

/** The feature matrix (row-major) with its target column. */
export interface FeatureMatrix {
  matrix: Float64Array;
  rows: number;
  featureNames: string[];
  /** Numbers for a numeric target, label strings otherwise. */
  target: (number | string)[];
}

/** Everything a features folder holds, as written by {@link writeFeaturesDir}. */
export interface FeaturesDir {
  info: FeaturesInfo;
  pipeline: FittedPipeline;
  inputSchema: JsonSchema;
  data: FeatureMatrix;
  /** The rows the features were computed from. */
  table: Table;
}

function matrixToArrow(data: FeatureMatrix, targetName: string, numericTarget: boolean): Uint8Array {
  const { matrix, rows, featureNames } = data;
  const width = featureNames.length;
  const vectors = featureNames.map((_, j) => {
    const col = new Float64Array(rows);
    for (let i = 0; i < rows; i++) col[i] = matrix[i * width + j] as number;
    return makeVector(col);
  });
  const targetVector = numericTarget
    ? makeVector(Float64Array.from(data.target as number[]))
    : vectorFromArray(data.target.map(String), new Utf8());
  const fields = [
    ...featureNames.map((name) => new Field(name, new Float64(), false, new Map([['mlpipe.role', 'feature']]))),
    new Field(targetName, targetVector.type, false, new Map([['mlpipe.role', 'target']])),
  ];
  const schema = new Schema(fields);
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: [...vectors.map((v) => v.data[0]!), targetVector.data[0]!] }),
  );
  return tableToIPC(new ArrowTable(schema, [batch]), 'file');
}

/**
 * Writes a features folder: fitted featurizer, input schema, matrix (Arrow: one Float64 column per
 * feature and the target) and `features.json`. The folder is built beside the target and renamed
 * into place, so a failure leaves any earlier folder as it was.
 */
export async function writeFeaturesDir(out: string, dir: FeaturesDir, signal?: AbortSignal): Promise<void> {
  const tmp = tempPathBeside(out);
  await mkdir(tmp, { recursive: true });
  try {
    // An interrupt between files removes the half-written folder (below).
    await writeFileAtomic(join(tmp, FEATURES_FILES.featurizer), prettyJson(dir.pipeline));
    throwIfAborted(signal);
    await writeFileAtomic(join(tmp, FEATURES_FILES.inputSchema), prettyJson(dir.inputSchema));
    throwIfAborted(signal);
    await writeFileAtomic(join(tmp, FEATURES_FILES.matrix), matrixToArrow(dir.data, dir.info.target.name, dir.info.target.type === 'number' || dir.info.target.type === 'integer'));
    throwIfAborted(signal);
    await writeDataset(join(tmp, FEATURES_FILES.rows), dir.table, dir.info.lineage ?? null);
    throwIfAborted(signal);
    await writeFileAtomic(join(tmp, FEATURES_FILES.info), prettyJson(dir.info));
    throwIfAborted(signal);
    await replaceDir(tmp, out);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Moves a finished folder to `target`, replacing an earlier one only after the new one is complete. */
export async function replaceDir(finished: string, target: string): Promise<void> {
  const old = `${tempPathBeside(target)}.old`;
  let moved = false;
  try {
    await rename(target, old);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rename(finished, target);
  if (moved) await rm(old, { recursive: true, force: true });
}


/**
 * Loads the custom featurizer modules a features folder's pipeline uses, from the paths recorded in
 * its features.json, each only when its bytes still have the recorded sha256 (VerificationError
 * otherwise, before the module runs). `train` needs them to re-fit featurizers in every fold.
 */
export async function loadFeaturesModules(dir: string, info: FeaturesInfo): Promise<void> {
  const file = join(dir, FEATURES_FILES.info);
  const list = info.customFeaturizers ?? [];
  for (let i = 0; i < list.length; i++) {
    const { name, path, sha256 } = list[i]!;
    await loadCustomKind(
      { name, path, origin: `${file}: customFeaturizers[${i}] ("${name}")` },
      { sha256, recordedBy: `the features folder ${dir}`, fix: 'run mlpipe featurize again with this module (or restore the one it was made with)' },
    );
  }
}

/** Reads a features folder written by {@link writeFeaturesDir}. */
export async function readFeaturesDir(dir: string): Promise<FeaturesDir> {
  const info = await readJsonFile<FeaturesInfo>(join(dir, FEATURES_FILES.info));
  if (info.format !== 'mlpipe.features') throw new ConfigError(`${join(dir, FEATURES_FILES.info)}: not an mlpipe features file; run mlpipe featurize first`);
  const pipeline = await readJsonFile<FittedPipeline>(join(dir, FEATURES_FILES.featurizer));
  const inputSchema = await readJsonFile<JsonSchema>(join(dir, FEATURES_FILES.inputSchema));
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, FEATURES_FILES.matrix));
  } catch {
    throw new NotFoundError(`${join(dir, FEATURES_FILES.matrix)}: file not found`);
  }
  const arrow = tableFromIPC(bytes);
  const fields = arrow.schema.fields;
  const rows = arrow.numRows;
  const featureNames = pipeline.featureNames;
  const width = featureNames.length;
  if (fields.length !== width + 1) throw new ConfigError(`${join(dir, FEATURES_FILES.matrix)}: has ${fields.length} columns, expected ${width} features + target`);
  const matrix = new Float64Array(rows * width);
  for (let j = 0; j < width; j++) {
    const col = arrow.getChildAt(j)!.toArray() as Float64Array;
    for (let i = 0; i < rows; i++) matrix[i * width + j] = col[i] as number;
  }
  const targetVector = arrow.getChildAt(width)!;
  const target: (number | string)[] = new Array(rows);
  for (let i = 0; i < rows; i++) target[i] = targetVector.get(i) as number | string;
  const { table } = await readDataset(join(dir, FEATURES_FILES.rows));
  return { info, pipeline, inputSchema, data: { matrix, rows, featureNames, target }, table };
}
