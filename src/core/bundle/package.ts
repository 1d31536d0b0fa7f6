import { execFile } from 'node:child_process';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, NotFoundError, messageOf } from '../errors.js';
import { customRequirements } from '../features/custom.js';
import { FeatureTransformer } from '../features/transformer.js';
import type { FittedPipeline } from '../features/types.js';
import { prettyJson, readJsonFile, sha256, sha256File } from '../fs-util.js';
import { faultPoint } from '../test-seam.js';
import { CompiledForest } from '../models/compiled-forest.js';
import { MODEL_FILES, type MetricsReport, type TrainingInfo } from '../models/model-dir.js';
import { REPORT_FILES, type ReportDetails, readDetails, reportHeader } from '../report/data.js';
import { dependencyVersions } from '../version.js';
import { GOLDEN_FILE, goldenUnavailable, readGoldenInputs, recordStagedGolden } from './golden.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, MANIFEST_FILE, type Manifest, type ManifestFile, SELF_HASH_PLACEHOLDER } from './manifest.js';
import { Predictor } from '../predictor/predictor.js';
import { MODEL_CARD_FILE, type ModelCardOptions, exampleRecord, renderModelCard } from './model-card.js';
import { type SignatureDoc, type SigningKey, signPublished } from './signature.js';
import { bundleLocation, checkName, checkVersion, openStore } from './store.js';
import type { JsonSchema } from '../features/input-schema.js';

/** Options of {@link packageModel}. */
export interface PackageOptions {
  /** The model folder written by `train`. */
  modelDir: string;
  name: string;
  /** X.Y.Z; by default the next patch version after the newest one (1.0.0 for a new name). */
  version?: string;
  /** The bundle store folder. */
  artifacts: string;
  /** Folder whose git commit is recorded in the lineage (default: the current folder). */
  cwd?: string;
  /**
   * Signs the bundle right after it is published (`--sign key.pem`): signature.json is added through
   * the store. Read the key before packaging (readSigningKey), so a wrong key file costs nothing.
   */
  sign?: SigningKey;
}

/** What {@link packageModel} wrote. */
export interface PackageResult {
  dir: string;
  name: string;
  version: string;
  /** `name@version` */
  ref: string;
  /** Where the bundle's report.html is: a file, or `s3://…/report.html` in a remote store. */
  report: string;
  manifest: Manifest;
  /** The signature added (with `sign`). */
  signature?: SignatureDoc;
  /** Golden records written (0 when none), or why none were (no golden inputs in the model folder, custom featurizers not loaded). */
  golden: { records: number; skipped?: string };
}

const BUNDLE_FILES = [MODEL_FILES.model, MODEL_FILES.compiled, MODEL_FILES.featurizer, MODEL_FILES.inputSchema, MODEL_FILES.metrics, MODEL_FILES.training] as const;

async function gitCommit(cwd: string): Promise<string | undefined> {
  const run = promisify(execFile);
  try {
    const { stdout } = await run('git', ['rev-parse', 'HEAD'], { cwd, timeout: 3000 });
    const { stdout: status } = await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, timeout: 3000 });
    return `${stdout.trim()}${status.trim() ? '-dirty' : ''}`;
  } catch {
    return undefined;
  }
}

/** Serializes a manifest with its own checksum filled in (see {@link Manifest.manifestSha256}). */
export function serializeManifest(manifest: Omit<Manifest, 'manifestSha256'>): string {
  const draft = `${JSON.stringify({ ...manifest, manifestSha256: SELF_HASH_PLACEHOLDER }, null, 2)}\n`;
  return draft.replace(`"manifestSha256": "${SELF_HASH_PLACEHOLDER}"`, `"manifestSha256": "${sha256(draft)}"`);
}

/**
 * The model card's example request, with the bundle's own answer to it: predicted by the same code
 * `serve` uses, from the files being packaged. Nothing (a generic answer in the card) when that is
 * not possible here, e.g. a custom featurizer whose code is not loaded.
 */
function cardExample(described: Omit<Manifest, 'files' | 'manifestSha256'>, details: ReportDetails | null, pipeline: FittedPipeline, forest: CompiledForest, inputSchema: JsonSchema): Pick<ModelCardOptions, 'example'> {
  try {
    const record = exampleRecord(inputSchema, details?.profile);
    const model = new Predictor('', { ...described, files: {}, manifestSha256: '' }, pipeline, forest, inputSchema);
    const { prediction, probabilities } = model.predictOne(record);
    return { example: { record, output: probabilities ? { prediction, probabilities } : { prediction } } };
  } catch {
    return {};
  }
}

/**
 * Packages a model folder as an immutable bundle `artifacts/<name>/<version>/`: copies its files,
 * renders report.html again under the bundle's name and version, writes a manifest with the sha256 of
 * each, task, target, classes, parameters, metrics, input schema and lineage. The model and featurizer are loaded once first, so a broken model is never packaged.
 * The bundle is assembled in a temporary folder and renamed into place: a crash never leaves half a
 * bundle, and an existing version is never overwritten (ConflictError for an explicit version; the
 * next free patch version otherwise).
 */
export async function packageModel(options: PackageOptions): Promise<PackageResult> {
  const name = checkName(options.name);
  if (options.version !== undefined) checkVersion(options.version);
  const { modelDir, artifacts } = options;
  const training = await readJsonFile<TrainingInfo>(join(modelDir, MODEL_FILES.training));
  if (training.format !== 'mlpipe.training') throw new ConfigError(`${join(modelDir, MODEL_FILES.training)}: not an mlpipe model folder; run mlpipe train first`);
  const metrics = await readJsonFile<MetricsReport>(join(modelDir, MODEL_FILES.metrics));
  const inputSchema = await readJsonFile<JsonSchema>(join(modelDir, MODEL_FILES.inputSchema));
  const pipeline = await readJsonFile<FittedPipeline>(join(modelDir, MODEL_FILES.featurizer));
  // Custom featurizers' code is never needed to package: their steps are described from their records.
  const transformer = new FeatureTransformer(pipeline, { unloadedCustom: 'describe' });
  const custom = customRequirements(pipeline, join(modelDir, MODEL_FILES.featurizer));
  let compiledBytes: Buffer;
  try {
    compiledBytes = await readFile(join(modelDir, MODEL_FILES.compiled));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${join(modelDir, MODEL_FILES.compiled)}: file not found; train the model again with this mlpipe`);
    throw new ConfigError(`${join(modelDir, MODEL_FILES.compiled)}: unreadable (${messageOf(err)})`);
  }
  const forest = CompiledForest.fromBinary(compiledBytes);
  if (forest.width !== transformer.width) throw new ConfigError(`${modelDir}: the model expects ${forest.width} features but the featurizer makes ${transformer.width}`);

  const store = await openStore(artifacts);
  const files: Record<string, ManifestFile> = {};
  // report.json is optional: model folders trained before reports existed have none.
  const details = await readDetails(modelDir);
  const createdAt = new Date().toISOString();
  const dependencies = dependencyVersions();
  const commit = await gitCommit(options.cwd ?? process.cwd());
  // Golden records (the skew gate): inputs train kept, given outputs by the staged bundle's own predictor.
  const goldenInputs = await readGoldenInputs(modelDir);
  const goldenSkipped = goldenInputs === undefined ? `no golden inputs in ${modelDir} (trained by an older mlpipe)` : goldenUnavailable(pipeline);
  let goldenRecords = 0;
  let text = '';
  const version = await store.publish(name, {
    ...(options.version !== undefined ? { version: options.version } : {}),
    fill: async (tmp) => {
      for (const file of [...BUNDLE_FILES, ...(details ? [REPORT_FILES.data] : [])]) {
        await faultPoint(`package:copy:${file}`, join(tmp, file));
        await copyFile(join(modelDir, file), join(tmp, file));
        files[file] = { sha256: await sha256File(join(tmp, file)), bytes: (await stat(join(tmp, file))).size };
      }
    },
    prepare: async (tmp, version) => {
      // The bundle's report is rendered again, now that it has a name, a version and a creation time.
      const { renderReportHtml } = await import('../report/html.js');
      await faultPoint('package:report', join(tmp, REPORT_FILES.html));
      const html = await renderReportHtml({ ...reportHeader(createdAt), title: `${name}@${version}`, kind: 'bundle', path: bundleLocation(store, name, version), createdAt, training, metrics, details });
      await writeFile(join(tmp, REPORT_FILES.html), html);
      files[REPORT_FILES.html] = { sha256: sha256(html), bytes: Buffer.byteLength(html) };
      const described: Omit<Manifest, 'files' | 'manifestSha256'> = {
        format: BUNDLE_FORMAT,
        formatVersion: BUNDLE_FORMAT_VERSION,
        name,
        version,
        createdAt,
        task: training.task,
        target: training.target,
        ...(training.classes ? { classes: training.classes } : {}),
        model: { type: 'random-forest', engine: training.model.engine, params: training.model.params, file: MODEL_FILES.model, compiled: MODEL_FILES.compiled, featureCount: training.featureCount },
        featurizer: { file: MODEL_FILES.featurizer, steps: transformer.describe(), dropped: pipeline.dropped.map((d) => ({ column: d.column, reason: d.reason })) },
        ...(custom.length > 0 ? { customFeaturizers: custom } : {}),
        metrics,
        inputSchema,
        lineage: {
          ...(training.lineage ? { dataset: training.lineage } : {}),
          ...(training.configSha256 ? { configSha256: training.configSha256 } : {}),
          trainedAt: training.trainedAt,
          mlpipeVersion: training.mlpipeVersion,
          node: training.node,
          dependencies,
          ...(commit ? { gitCommit: commit } : {}),
        },
      };
      delete files[GOLDEN_FILE];
      if (goldenInputs !== undefined && goldenSkipped === undefined) {
        const golden = await recordStagedGolden(tmp, { ...described, files, manifestSha256: '' }, goldenInputs);
        const goldenText = prettyJson(golden);
        await writeFile(join(tmp, GOLDEN_FILE), goldenText);
        files[GOLDEN_FILE] = { sha256: sha256(goldenText), bytes: Buffer.byteLength(goldenText) };
        described.golden = { file: GOLDEN_FILE, records: golden.records.length, from: golden.from };
        goldenRecords = golden.records.length;
      }
      // The model card depends on the version too; it is one of the files the manifest lists.
      const card = renderModelCard(described, { ...(details ? { profile: details.profile } : {}), ...cardExample(described, details, pipeline, forest, inputSchema) });
      await writeFile(join(tmp, MODEL_CARD_FILE), card);
      files[MODEL_CARD_FILE] = { sha256: sha256(card), bytes: Buffer.byteLength(card) };
      text = serializeManifest({ ...described, files });
      await faultPoint('package:manifest', join(tmp, MANIFEST_FILE));
      await writeFile(join(tmp, MANIFEST_FILE), text);
    },
  });
  const manifest = JSON.parse(text) as Manifest;
  const ref = `${name}@${version}`;
  let signature: SignatureDoc | undefined;
  if (options.sign) {
    try {
      signature = await signPublished(store, name, version, manifest.manifestSha256, options.sign);
    } catch (err) {
      throw new ConfigError(`${ref} was published in ${store.location} but not signed (${messageOf(err)}); sign it with mlpipe bundles sign ${ref} --key ${options.sign.file}`);
    }
  }
  const dir = bundleLocation(store, name, version);
  return {
    dir,
    name,
    version,
    ref,
    report: store.kind === 'folder' ? join(dir, REPORT_FILES.html) : `${dir}/${REPORT_FILES.html}`,
    manifest,
    golden: { records: goldenRecords, ...(goldenSkipped !== undefined ? { skipped: goldenSkipped } : {}) },
    ...(signature ? { signature } : {}),
  };
}
