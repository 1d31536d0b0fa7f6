import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, ConflictError, NotFoundError, messageOf } from '../errors.js';
import { customRequirements } from '../features/custom.js';
import { FeatureTransformer } from '../features/pipeline.js';
import type { FittedPipeline } from '../features/types.js';
import { pathExists, readJsonFile, sha256, sha256File, tempPathBeside } from '../fs-util.js';
import { faultPoint } from '../test-seam.js';
import { TEMP_OWNER_FILE, cleanLeftovers, writeOwner } from './leftovers.js';
import { CompiledForest } from '../models/compiled-forest.js';
import { MODEL_FILES, type MetricsReport, type TrainingInfo } from '../models/model-dir.js';
import { REPORT_FILES, readDetails, reportHeader } from '../report/data.js';
import { dependencyVersions } from '../version.js';
import { ALIASES_FILE, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, MANIFEST_FILE, type Manifest, type ManifestFile, SELF_HASH_PLACEHOLDER } from './manifest.js';
import { checkName, checkVersion, listVersions, nextPatch, updateAliases } from './store.js';
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
}

/** What {@link packageModel} wrote. */
export interface PackageResult {
  dir: string;
  name: string;
  version: string;
  /** `name@version` */
  ref: string;
  manifest: Manifest;
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

  const nameDir = join(artifacts, name);
  // A new name's folder is removed again when packaging fails: the store is left as it was.
  const newName = !(await pathExists(nameDir));
  await faultPoint('package:mkdir', nameDir);
  await mkdir(nameDir, { recursive: true });
  // Leftovers of a packager killed earlier (its owner gone, or a day old) go first.
  await cleanLeftovers(artifacts, name);
  const existing = await listVersions(artifacts, name);
  if (options.version !== undefined && existing.includes(options.version)) {
    throw new ConflictError(`${name}@${options.version} already exists in ${artifacts}; bundles are immutable, choose another --version`);
  }

  const tmp = tempPathBeside(join(nameDir, 'bundle'));
  try {
    await mkdir(tmp);
    await writeOwner(join(tmp, TEMP_OWNER_FILE));
    await faultPoint('package:tmp', tmp);
    const files: Record<string, ManifestFile> = {};
    // report.json is optional: model folders trained before reports existed have none.
    const details = await readDetails(modelDir);
    for (const file of [...BUNDLE_FILES, ...(details ? [REPORT_FILES.data] : [])]) {
      await faultPoint(`package:copy:${file}`, join(tmp, file));
      await copyFile(join(modelDir, file), join(tmp, file));
      files[file] = { sha256: await sha256File(join(tmp, file)), bytes: (await stat(join(tmp, file))).size };
    }
    const createdAt = new Date().toISOString();
    // The bundle's report is rendered again, now that it has a name, a version and a creation time.
    const { renderReportHtml } = await import('../report/html.js');
    const writeReport = async (version: string): Promise<void> => {
      await faultPoint('package:report', join(tmp, REPORT_FILES.html));
      const html = await renderReportHtml({ ...reportHeader(createdAt), title: `${name}@${version}`, kind: 'bundle', path: join(nameDir, version), createdAt, training, metrics, details });
      await writeFile(join(tmp, REPORT_FILES.html), html);
      files[REPORT_FILES.html] = { sha256: sha256(html), bytes: Buffer.byteLength(html) };
    };
    const dependencies = dependencyVersions();
    const commit = await gitCommit(options.cwd ?? process.cwd());
    const build = (version: string): string =>
      serializeManifest({
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
        files,
      });
    // Another packager may take a version between our listing and our rename: then try the next one.
    let version = options.version ?? nextPatch(existing[existing.length - 1]);
    // aliases.json exists from the first version on, so stores always have the same shape; it is
    // written before the bundle appears, so the rename below is the last step.
    if (!(await pathExists(join(nameDir, ALIASES_FILE)))) await updateAliases(artifacts, name, (aliases) => aliases);
    for (let attempt = 0; ; attempt++) {
      await writeReport(version);
      const text = build(version);
      await faultPoint('package:manifest', join(tmp, MANIFEST_FILE));
      await writeFile(join(tmp, MANIFEST_FILE), text);
      await rm(join(tmp, TEMP_OWNER_FILE), { force: true });
      try {
        await faultPoint('package:rename', join(nameDir, version));
        await rename(tmp, join(nameDir, version));
        return { dir: join(nameDir, version), name, version, ref: `${name}@${version}`, manifest: JSON.parse(text) as Manifest };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || options.version !== undefined || attempt >= 20) {
          if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new ConflictError(`${name}@${version} already exists in ${artifacts}; bundles are immutable, choose another --version`);
          throw err;
        }
        const now = await listVersions(artifacts, name);
        version = nextPatch(now[now.length - 1]);
      }
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (newName) await removeIfUnused(artifacts, name);
    throw err;
  }
}

/** Removes a name's folder that holds no version (packaging its first version failed). */
async function removeIfUnused(artifacts: string, name: string): Promise<void> {
  if ((await listVersions(artifacts, name)).length > 0) return;
  const dir = join(artifacts, name);
  await rm(join(dir, ALIASES_FILE), { force: true });
  // rmdir, not rm -r: another packager that has just started on this name keeps its folder.
  await rmdir(dir).catch(() => undefined);
}
