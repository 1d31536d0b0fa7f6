import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, NotFoundError, VerificationError, messageOf } from '../errors.js';
import { sha256 } from '../fs-util.js';
import { suggest } from '../suggest.js';
import { COLUMN_TYPES } from '../values.js';
import { CUSTOM_KIND_NAME, type CustomKind, FEATURIZER_KINDS, customKind, registerCustomKind } from './registry.js';
import type { FeaturizerKind, FittedPipeline } from './types.js';

/**
 * Custom featurizer kinds: a project's own {@link FeaturizerKind}, in a module the pipeline config
 * names (`features.custom: {zip-prefix: zip-prefix.ts}`). Loading one runs its code, so it happens
 * only from a path the user gave — the config at training time, `--featurizer-module NAME=PATH` at
 * serving time — and never from anything a bundle says: a bundle records the kind's name, the
 * module's file name and its sha256, and a module whose bytes hash differently is refused before it
 * is imported.
 */

/** File extensions a custom featurizer module may have (TypeScript through tsx, or JavaScript). */
export const CUSTOM_MODULE_EXTENSIONS: readonly string[] = ['.ts', '.mts', '.js', '.mjs'];

/** A custom featurizer module to load: the kind's name, its file, and where it was named. */
export interface CustomModuleSpec {
  name: string;
  /** The module file: absolute, or relative to the current folder. */
  path: string;
  /**
   * Who named it, the start of every message about it: `pipeline.yaml: features.custom.zip-prefix`,
   * `--featurizer-module zip-prefix=zip.ts`. Default: `custom featurizer "<name>"`.
   */
  origin?: string;
  /** The config line, appended to messages as `(line 7)`. */
  line?: number;
}

/** What a module must match before it is imported: a recorded sha256, and who recorded it. */
export interface ExpectedModule {
  sha256: string;
  /** `penguins@1.0.0 (/store/penguins/1.0.0)`, `features/features.json`: said in the mismatch message. */
  recordedBy: string;
  /** The way out, ending the mismatch message: `train again with this module`. */
  fix?: string;
}

/** A custom kind a fitted pipeline needs: its name, module file name and sha256. */
export interface CustomRequirement {
  name: string;
  sha256: string;
  module: string;
}

function message(spec: CustomModuleSpec, problem: string): string {
  return `${spec.origin ?? `custom featurizer "${spec.name}"`}: ${problem}${spec.line !== undefined ? ` (line ${spec.line})` : ''}`;
}

/**
 * Loads a custom featurizer module and registers its kind for this process under `spec.name` (the
 * name the config or the command line gives wins over the module's own `kind`). The module's sha256
 * is computed from its bytes first; with `expected`, a different hash is refused (VerificationError,
 * both hashes in the message) before any of its code runs. A kind already registered under the name
 * with the same hash is returned as is. `.ts` and `.mts` modules are compiled by tsx, imported only
 * here, so nothing else pays for it.
 *
 * Throws NotFoundError for a missing file, ConfigError for a bad name, extension, a module that does
 * not load or does not export a featurizer (default export, or an export named `featurizer`), and for
 * a name already taken in this process by a module with another hash.
 */
export async function loadCustomKind(spec: CustomModuleSpec, expected?: ExpectedModule): Promise<CustomKind> {
  if (!CUSTOM_KIND_NAME.test(spec.name)) throw new ConfigError(message(spec, `invalid name "${spec.name}": use lower-case letters, digits and -, starting with a letter (e.g. zip-prefix)`));
  if (FEATURIZER_KINDS.has(spec.name)) throw new ConfigError(message(spec, `"${spec.name}" is a built-in featurizer; choose another name`));
  const path = resolve(spec.path);
  const ext = extname(path).toLowerCase();
  if (!CUSTOM_MODULE_EXTENSIONS.includes(ext)) throw new ConfigError(message(spec, `${path}: a custom featurizer is a ${CUSTOM_MODULE_EXTENSIONS.join(', ')} module`));
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NotFoundError(message(spec, `${path}: ${code === 'ENOENT' ? 'file not found' : messageOf(err)}`));
  }
  const hash = sha256(bytes);
  if (expected && hash !== expected.sha256) {
    throw new VerificationError(
      path,
      message(spec, `${path} has sha256 ${hash}, but ${expected.recordedBy} was made with the module whose sha256 is ${expected.sha256}: refusing to load a different module${expected.fix ? `; ${expected.fix}` : ''}`),
    );
  }
  const existing = customKind(spec.name);
  if (existing?.sha256 === hash) return existing;
  if (existing) {
    throw new ConfigError(message(spec, `this process already loaded "${spec.name}" from ${existing.path} (sha256 ${existing.sha256}); ${path} (sha256 ${hash}) is a different module: one module per name`));
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = await importModule(path, ext);
  } catch (err) {
    throw new ConfigError(message(spec, `${path}: cannot load the module (${messageOf(err).split('\n')[0]})`));
  }
  const kind = checkedKind(spec, namespace, path);
  return registerCustomKind(spec.name, kind, { sha256: hash, module: basename(path), path });
}

async function importModule(path: string, ext: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (ext === '.ts' || ext === '.mts') {
    // tsx is imported here only: `mlpipe --help`, the server and every command without a custom
    // featurizer never load it. No tsconfig: the module compiles the same from any working folder.
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, { parentURL: import.meta.url, tsconfig: false })) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

/** The exported featurizer: `export default`, else `export const featurizer` (also through CommonJS interop). */
function exportedValue(namespace: Record<string, unknown>): unknown {
  let ns = namespace;
  // A module compiled as CommonJS (no "type": "module" near a .ts file) arrives as { default: exports }.
  const inner = ns.default as Record<string, unknown> | undefined;
  if (inner !== null && typeof inner === 'object' && (inner.__esModule === true || ((inner.default !== undefined || inner.featurizer !== undefined) && typeof inner.fit !== 'function'))) ns = inner;
  return ns.default ?? ns.featurizer;
}

/**
 * Checks that a module exports a featurizer kind, and returns it under the configured name. The
 * methods are called on the module's own object, so a kind written as a class instance works too.
 */
function checkedKind(spec: CustomModuleSpec, namespace: Record<string, unknown>, path: string): FeaturizerKind {
  const value = exportedValue(namespace);
  const file = basename(path);
  if (value === undefined) {
    const names = Object.keys(namespace).filter((k) => k !== 'default');
    throw new ConfigError(
      message(spec, `${file} has no default export (or export named "featurizer")${names.length > 0 ? `; it exports ${names.join(', ')}` : ''}; export the featurizer object: export default { description, accepts, params, fit, outputs, transform, summary }`),
    );
  }
  if (value === null || typeof value !== 'object') throw new ConfigError(message(spec, `${file}: its export is ${value === null ? 'null' : `a ${typeof value}`}, not a featurizer object (description, accepts, params, fit, outputs, transform, summary)`));
  const k = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const fn of ['params', 'fit', 'outputs', 'transform', 'summary']) if (typeof k[fn] !== 'function') problems.push(`${fn} must be a function`);
  if (typeof k.description !== 'string') problems.push('description must be a string');
  const accepts = k.accepts;
  if (!Array.isArray(accepts) || accepts.length === 0 || !accepts.every((t) => (COLUMN_TYPES as readonly unknown[]).includes(t))) {
    problems.push(`accepts must be a non-empty list of column types (${COLUMN_TYPES.join(', ')})`);
  }
  if (k.kind !== undefined && typeof k.kind !== 'string') problems.push('kind must be a string (or left out: the configured name is used)');
  if (k.needsTarget !== undefined && typeof k.needsTarget !== 'boolean') problems.push('needsTarget must be true or false');
  if (k.outOfFold !== undefined && typeof k.outOfFold !== 'function') problems.push('outOfFold must be a function');
  if (k.needsTarget === true && typeof k.outOfFold !== 'function') problems.push('a kind with needsTarget: true must have outOfFold (see FeaturizerKind in src/core/features/types.ts)');
  if (problems.length > 0) throw new ConfigError(message(spec, `${file} does not export a featurizer: ${problems.join('; ')}`));
  const own = value as FeaturizerKind;
  const kind: FeaturizerKind = {
    kind: spec.name,
    description: own.description,
    accepts: Object.freeze([...own.accepts]),
    ...(own.needsTarget ? { needsTarget: true } : {}),
    params: (raw) => own.params(raw),
    fit: (column, params, context) => own.fit(column, params, context),
    ...(own.outOfFold ? { outOfFold: (column, params, context, out, stride, offset) => own.outOfFold!(column, params, context, out, stride, offset) } : {}),
    outputs: (column, params, state) => own.outputs(column, params, state),
    transform: (state, cell, out, offset) => own.transform(state, cell, out, offset),
    summary: (params, state) => own.summary(params, state),
  };
  return Object.freeze(kind);
}

/**
 * The custom kinds a fitted pipeline uses (from its steps' `custom` records), one per name. Throws
 * ConfigError for a malformed record or for one name recorded with two hashes.
 */
export function customRequirements(pipeline: FittedPipeline, file = 'featurizer.json'): CustomRequirement[] {
  const byName = new Map<string, CustomRequirement>();
  (pipeline.steps ?? []).forEach((step, i) => {
    const custom: unknown = step.custom;
    if (custom === undefined) return;
    const c = custom as Record<string, unknown>;
    if (c === null || typeof c !== 'object' || typeof c.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(c.sha256) || typeof c.module !== 'string') {
      throw new ConfigError(`${file}: steps[${i}].custom: must be {sha256, module, summary} (a custom featurizer's record)`);
    }
    const seen = byName.get(step.kind);
    if (seen && seen.sha256 !== c.sha256) throw new ConfigError(`${file}: steps[${i}]: custom featurizer "${step.kind}" is recorded with two different sha256 (${seen.sha256}, ${c.sha256})`);
    if (!seen) byName.set(step.kind, { name: step.kind, sha256: c.sha256, module: c.module });
  });
  return [...byName.values()];
}

/**
 * Throws ConfigError when a module given on the command line is not needed by any of the loaded
 * bundles: most likely a misspelt name, and a module that is not needed is never imported. With
 * `keepUnused` (a server following references whose next version may need it), such a module is
 * kept and its problem returned instead, unless its name is a near miss of a kind in use.
 */
export function checkModulesUsed(specs: readonly CustomModuleSpec[], used: readonly CustomRequirement[], bundles: string, options: { keepUnused?: boolean } = {}): string[] {
  const names = [...new Set(used.map((u) => u.name))];
  const kept: string[] = [];
  for (const spec of specs) {
    if (names.includes(spec.name)) continue;
    const hint = suggest(spec.name, names);
    const problem = message(spec, `no custom featurizer "${spec.name}" is used by ${bundles}${hint ? ` (did you mean "${hint}"?)` : ''}; ${names.length > 0 ? `used: ${names.join(', ')}` : 'none is used'}`);
    // A near miss of a kind in use is a misspelling, kept or not.
    if (!options.keepUnused || hint) throw new ConfigError(problem);
    kept.push(problem);
  }
  return kept;
}
