import { join } from 'node:path';
import { ConfigError, VerificationError, messageOf } from '../errors.js';
import { type CustomModuleSpec, type CustomRequirement, customRequirements, loadCustomKind } from '../features/custom.js';
import type { JsonSchema } from '../features/input-schema.js';
import type { FittedPipeline } from '../features/types.js';
import { CompiledForest } from '../models/compiled-forest.js';
import type { Manifest } from '../bundle/manifest.js';
import { type TrustedKey, checkSignature } from '../bundle/signature.js';
import { resolveRef } from '../bundle/store.js';
import { readBundleFile, verifyBundle } from '../bundle/verify.js';
import { Predictor } from './predictor.js';

/** Loads, from the modules given, the custom kinds a bundle needs, refusing a module with another sha256. */
async function loadCustomModules(ref: string, dir: string, needed: readonly CustomRequirement[], given: readonly CustomModuleSpec[]): Promise<void> {
  for (const need of needed) {
    const spec = given.find((g) => g.name === need.name);
    if (!spec) {
      throw new ConfigError(
        `${ref} (${dir}) uses the custom featurizer "${need.name}" (module ${need.module}, sha256 ${need.sha256}); a bundle never contains code: give the module with --featurizer-module ${need.name}=<path to ${need.module}>`,
      );
    }
    await loadCustomKind(spec, { sha256: need.sha256, recordedBy: `${ref} (${dir})`, fix: `give the ${need.module} that ${ref} was trained with, or train again with this one` });
  }
}

/**
 * The custom kinds the loaded models use, each once: what `--featurizer-module` must name (see
 * {@link checkModulesUsed} in features/custom.ts).
 */
export function customKindsUsed(models: readonly Predictor[]): CustomRequirement[] {
  return models.flatMap((m) => customRequirements(m.transformer.pipeline));
}

async function readBundleJson<T>(dir: string, file: string): Promise<T> {
  try {
    return JSON.parse((await readBundleFile(dir, file)).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw new VerificationError(file, `${join(dir, file)}: unreadable (${messageOf(err)})`);
  }
}

/** Options of {@link loadPredictor}. */
export interface LoadPredictorOptions {
  /**
   * Custom featurizer modules given on the command line (`--featurizer-module name=path`): the only
   * place a custom kind's code is loaded from, and only for a bundle whose featurizer needs that kind.
   */
  featurizers?: readonly CustomModuleSpec[];
  /**
   * Public keys one of which must have signed the bundle (`--require-signature`): an unsigned bundle,
   * one signed by another key or changed after signing is refused (VerificationError naming
   * signature.json, the bundle and the key ids) before anything else of it is read.
   */
  requireSignature?: readonly TrustedKey[];
}

/**
 * Resolves a bundle reference, verifies every checksum and loads the model. A bundle is data only:
 * nothing in it is executed. A bundle whose featurizer uses a custom kind needs that kind's module in
 * `options.featurizers`, with the sha256 the bundle recorded: the hash is checked before the module
 * is imported, and nothing the bundle says is ever imported. Throws NotFoundError or
 * VerificationError naming the file, ConfigError for a custom featurizer with no module given.
 */
export async function loadPredictor(ref: string, artifacts: string, options: LoadPredictorOptions = {}): Promise<Predictor> {
  const { dir, verified } = await resolveRef(ref, artifacts);
  // A remote bundle was verified on its way into the cache just now; a folder's is verified here.
  const manifest = verified ?? (await verifyBundle(dir));
  const signature = options.requireSignature ? await checkSignature(dir, manifest, options.requireSignature) : undefined;
  const model = await loadPredictorFiles(dir, manifest, options);
  if (signature) model.signature = signature;
  return model;
}

/**
 * Loads the predictor of a bundle folder whose manifest was read already, without verifying its
 * checksums again: for {@link loadPredictor} after {@link verifyBundle}, and for `package`, which builds
 * the staged bundle's predictor to record its golden records. With `customKinds: 'loaded'` the custom
 * featurizer kinds the bundle needs must already be registered in this process (ConfigError
 * otherwise); by default they are loaded from `options.featurizers` as in {@link loadPredictor}.
 */
export async function loadPredictorFiles(dir: string, manifest: Manifest, options: LoadPredictorOptions & { customKinds?: 'given' | 'loaded' } = {}): Promise<Predictor> {
  const pipeline = await readBundleJson<FittedPipeline>(dir, manifest.featurizer.file);
  if (options.customKinds !== 'loaded') {
    await loadCustomModules(`${manifest.name}@${manifest.version}`, dir, customRequirements(pipeline, join(dir, manifest.featurizer.file)), options.featurizers ?? []);
  }
  const schema = await readBundleJson<JsonSchema>(dir, 'input-schema.json');
  try {
    // The compiled form, not model.json: it loads without parsing (both are checksummed).
    const forest = CompiledForest.fromBinary(await readBundleFile(dir, manifest.model.compiled));
    return new Predictor(dir, manifest, pipeline, forest, schema);
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw new VerificationError(manifest.model.compiled, `${dir}: cannot load the model (${messageOf(err)})`);
  }
}
