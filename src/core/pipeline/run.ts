import { throwIfAborted } from '../abort.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type PackageResult, packageModel } from '../bundle/package.js';
import type { SigningKey } from '../bundle/signature.js';
import { checkName, checkVersion } from '../bundle/names.js';
import { type LoadOptions, type LoadResult, loadSource } from '../data/load.js';
import type { LoadProgress, OnBadRow } from '../data/type-chunks.js';
import type { SourceSpec } from '../data/sources/types.js';
import { specLabel } from '../data/sources/index.js';
import { ConfigError } from '../errors.js';
import type { Engine, ForestParams, Task } from '../models/forest-format.js';
import type { DeclaredType } from '../values.js';
import type { PipelineConfig } from './config.js';
import { type FeatureOptions, type FeaturizeResult, featurize, loadCustomModules } from './featurize.js';
import { type SearchOptions, type TrainProgress, type TrainResult, train } from './train.js';

/** Options of {@link runPipeline}: a config, and/or values that override it. */
export interface RunOptions {
  config?: PipelineConfig;
  /** A source given on the command line (a path, `-`, or any source spec); wins over the config's `source:`. */
  source?: string | SourceSpec;
  /** The format of a path given as `source`, or of a config's single file source. */
  format?: string;
  /** With `source`: declared column types, bad-row handling, inference rows and chunk size, as for load. */
  types?: Record<string, DeclaredType>;
  onBadRow?: OnBadRow;
  inferRows?: number;
  chunkRows?: number;
  target?: string;
  name?: string;
  task?: Task;
  seed?: number;
  model?: Partial<Omit<ForestParams, 'seed'>>;
  holdout?: number;
  version?: string;
  /** Bundle store given explicitly (`--artifacts`): wins over the config's `package.artifacts`. */
  artifacts?: string;
  /** Bundle store when neither the options nor the config name one (`MLPIPE_ARTIFACTS` or ./artifacts). */
  defaultArtifacts: string;
  /** Keep the intermediate dataset, features and model folders here (default: a temporary folder, removed). */
  workDir?: string;
  stdin?: Readable;
  /** Environment for `${NAME}` in database URLs, HTTP headers and tokens (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Rows read and written while loading. */
  onLoadProgress?: (p: LoadProgress) => void;
  /** Engine, worker threads and evaluation choices for `train` (command-line values win over the config's). */
  engine?: Engine;
  jobs?: number;
  cv?: number;
  oob?: boolean;
  search?: SearchOptions;
  /** Called as each step starts (done = total = 0) and after every tree. */
  onProgress?: (p: TrainProgress) => void;
  /**
   * Stops the run (an InterruptedError): the load as it reads, and between steps; the work folder and
   * the load's spool are removed, and no bundle is written.
   */
  signal?: AbortSignal;
  /** Signs the bundle once published (`--sign key.pem`; see PackageOptions.sign). */
  sign?: SigningKey;
}

/** Everything {@link runPipeline} produced. */
export interface RunResult {
  load: LoadResult;
  featurize: FeaturizeResult;
  train: TrainResult;
  package: PackageResult;
}

/**
 * Runs load → featurize → train → package. Command-line values override the config's. Intermediate
 * folders live in `workDir` when given, else in a temporary folder that is removed afterwards.
 */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const cfg = options.config;
  const target = options.target ?? cfg?.target;
  const name = options.name ?? cfg?.name;
  if (!options.source && !cfg) throw new ConfigError('source: no data source given');
  if (!target) throw new ConfigError('target: no target column given (--target or target: in the config)');
  if (!name) throw new ConfigError('name: no bundle name given (--name or name: in the config)');
  // Checked before any work: a bad name or version must not cost a training run.
  checkName(name);
  const version = options.version ?? cfg?.package.version;
  if (version !== undefined) checkVersion(version);
  const work = options.workDir ?? (await mkdtemp(join(tmpdir(), 'mlpipe-run-')));
  const stage = (name: string) => options.onProgress?.({ stage: name, done: 0, total: 0 });
  try {
    const { signal } = options;
    const common = { stdin: options.stdin, env: options.env, onProgress: options.onLoadProgress, signal };
    const loadOptions: LoadOptions = options.source
      ? {
          source: options.source,
          format: options.format,
          types: options.types ?? cfg?.source.types,
          onBadRow: options.onBadRow,
          inferRows: options.inferRows,
          chunkRows: options.chunkRows,
          ...common,
        }
      : {
          source: { sources: withFormat(cfg!.source.sources, options.format), combine: cfg!.source.combine },
          types: cfg!.source.types,
          onBadRow: cfg!.source.onBadRow,
          inferRows: cfg!.source.inferRows,
          chunkRows: cfg!.source.chunkRows,
          keyLocation: (i) => cfg!.source.keyLocations[i] ?? { path: `source[${i}].on` },
          ...common,
        };
    const what = options.source === undefined ? (cfg!.source.path ?? describeSpecs(cfg!)) : typeof options.source === 'string' ? options.source : specLabel(options.source);
    // A custom featurizer module that does not load is reported before the data is read.
    await loadCustomModules(cfg?.features);
    stage(`load ${what}`);
    const load = await loadSource(loadOptions);
    throwIfAborted(signal);
    stage('featurize');
    const features: FeatureOptions = cfg?.features ?? {};
    const featurized = await featurize({
      data: load,
      target,
      out: join(work, 'features'),
      features,
      task: options.task ?? cfg?.task,
      configSha256: cfg?.sha256,
      seed: options.seed ?? cfg?.seed,
      signal,
    });
    throwIfAborted(signal);
    const { type: _type, engine: configEngine, ...configModel } = cfg?.model ?? { type: 'random-forest' };
    const evaluation = cfg?.evaluation ?? {};
    const seed = options.seed ?? cfg?.seed;
    const trained = await train({
      features: join(work, 'features'),
      out: join(work, 'model'),
      task: options.task ?? cfg?.task,
      params: { ...configModel, ...options.model, ...(seed !== undefined ? { seed } : {}) },
      holdout: options.holdout ?? evaluation.holdout,
      engine: options.engine ?? configEngine,
      jobs: options.jobs,
      cv: options.cv ?? evaluation.cv,
      oob: options.oob ?? evaluation.oob,
      search: options.search ?? evaluation.search,
      permutationRepeats: evaluation.permutationRepeats,
      onProgress: options.onProgress,
    });
    throwIfAborted(signal);
    stage('package');
    const packaged = await packageModel({
      modelDir: join(work, 'model'),
      name,
      version,
      artifacts: options.artifacts ?? cfg?.package.artifacts ?? options.defaultArtifacts,
      ...(options.sign ? { sign: options.sign } : {}),
    });
    return { load, featurize: featurized, train: trained, package: packaged };
  } finally {
    if (!options.workDir) await rm(work, { recursive: true, force: true });
  }
}

/** A short name for a config's sources (URLs redacted). */
function describeSpecs(cfg: PipelineConfig): string {
  return cfg.source.sources.map(specLabel).join(', ');
}

/** `--format` on the command line overrides the format of a config's single file source (as before issue 5). */
function withFormat(sources: PipelineConfig['source']['sources'], format: string | undefined): PipelineConfig['source']['sources'] {
  const only = sources[0];
  if (format === undefined || sources.length !== 1 || only?.kind !== 'file') return sources;
  return [{ ...only, format: format.toLowerCase() as typeof only.format }];
}
