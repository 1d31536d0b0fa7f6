import { ConfigError } from '../errors.js';
import { suggest } from '../suggest.js';
import { bin } from './bin.js';
import { boolean } from './boolean.js';
import { clip } from './clip.js';
import { datetimeCyclic } from './datetime-cyclic.js';
import { datetimeParts } from './datetime-parts.js';
import { daysSince } from './days-since.js';
import { frequency } from './frequency.js';
import { hashing } from './hashing.js';
import { log1p } from './log1p.js';
import { minMax } from './min-max.js';
import { numeric } from './numeric.js';
import { oneHot } from './one-hot.js';
import { ordinal } from './ordinal.js';
import { robustScale } from './robust-scale.js';
import { standardScale } from './standard-scale.js';
import { target } from './target-encoder.js';
import { tfidf } from './tfidf.js';
import type { FeaturizerKind } from './types.js';

/** Every featurizer kind mlpipe knows, by name. The contract test runs each of them. */
export const FEATURIZER_KINDS: ReadonlyMap<string, FeaturizerKind> = new Map<string, FeaturizerKind>(
  (
    [
      numeric,
      oneHot,
      boolean,
      datetimeParts,
      // numbers
      standardScale,
      minMax,
      robustScale,
      log1p,
      clip,
      bin,
      // categories
      ordinal,
      frequency,
      target,
      // dates
      datetimeCyclic,
      daysSince,
      // text
      hashing,
      tfidf,
    ] as unknown as FeaturizerKind[]
  ).map((k) => [k.kind, k]),
);

/** Names a custom featurizer kind may have: lower-case letters, digits and `-`, starting with a letter. */
export const CUSTOM_KIND_NAME = /^[a-z][a-z0-9-]*$/;

/** A custom featurizer kind loaded in this process (custom.ts), with what identifies its module. */
export interface CustomKind {
  kind: FeaturizerKind;
  /** sha256 (hex) of the module file's bytes, as loaded. */
  sha256: string;
  /** The module's file name, without its folder: what featurizer.json and the manifest record. */
  module: string;
  /** The absolute path it was loaded from (messages and features.json only; never in a bundle). */
  path: string;
}

/**
 * Custom kinds of this process, by name. One module per name: a process that trained or serves with
 * `zip-prefix` from one file cannot also use another file under that name (see registerCustomKind).
 */
const CUSTOM_KINDS = new Map<string, CustomKind>();

/**
 * Registers a custom featurizer kind for this process; returns the registered entry. Registering the
 * same name again with the same sha256 keeps the first entry (the same bytes: loading twice changes
 * nothing). Throws ConfigError for a name that is not {@link CUSTOM_KIND_NAME}, that of a built-in
 * kind, or one already registered from a module with another sha256.
 */
export function registerCustomKind(name: string, kind: FeaturizerKind, origin: { sha256: string; module: string; path: string }): CustomKind {
  if (!CUSTOM_KIND_NAME.test(name)) throw new ConfigError(`custom featurizer "${name}": invalid name: use lower-case letters, digits and -, starting with a letter (e.g. zip-prefix)`);
  if (FEATURIZER_KINDS.has(name)) throw new ConfigError(`custom featurizer "${name}": "${name}" is a built-in featurizer; choose another name`);
  const existing = CUSTOM_KINDS.get(name);
  if (existing) {
    if (existing.sha256 === origin.sha256) return existing;
    throw new ConfigError(
      `custom featurizer "${name}": this process already loaded it from ${existing.path} (sha256 ${existing.sha256}); ${origin.path} (sha256 ${origin.sha256}) is a different module: one module per name`,
    );
  }
  const entry: CustomKind = { kind, sha256: origin.sha256, module: origin.module, path: origin.path };
  CUSTOM_KINDS.set(name, entry);
  return entry;
}

/** The custom kind registered under a name in this process, if any. */
export function customKind(name: string): CustomKind | undefined {
  return CUSTOM_KINDS.get(name);
}

/**
 * Forgets a custom kind (tests, and long-lived hosts that load another version of a module). Pipelines
 * already prepared keep the kind they resolved. Returns false when the name was not registered.
 */
export function unregisterCustomKind(name: string): boolean {
  return CUSTOM_KINDS.delete(name);
}

function unknownKind(name: string, path: string, known: string[]): ConfigError {
  const hint = suggest(name, known);
  return new ConfigError(`${path}: unknown featurizer "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${known.join(', ')}`);
}

/**
 * Looks up a featurizer kind to fit: a built-in, else a custom kind registered in this process.
 * Throws a ConfigError with a suggestion for a misspelt name.
 */
export function getKind(name: string, path = 'kind'): FeaturizerKind {
  const kind = FEATURIZER_KINDS.get(name) ?? CUSTOM_KINDS.get(name)?.kind;
  if (!kind) throw unknownKind(name, path, [...FEATURIZER_KINDS.keys(), ...CUSTOM_KINDS.keys()]);
  return kind;
}

/**
 * Looks up a built-in kind only: what a fitted step without a `custom` record may name (a saved custom
 * step is resolved by its name and sha256, never by its name alone). ConfigError when unknown.
 */
export function builtinKind(name: string, path = 'kind'): FeaturizerKind {
  const kind = FEATURIZER_KINDS.get(name);
  if (!kind) throw unknownKind(name, path, [...FEATURIZER_KINDS.keys()]);
  return kind;
}
