import { resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { type DeclaredType, declaredTypeProblem } from '../core/values.js';
import { dict } from '../core/records/dict.js';

/** Commander argument parsers: each rejects a bad value with a message naming what was expected. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

export function fraction(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/**
 * `--on-bad-row`: the one definition of the flag for every command that reads rows. Each command
 * gives its own choices, what they mean, and its default (load: `error|skip`, default error;
 * predict: `null|skip|fail`, default null).
 */
export function onBadRowOption<T extends string>(choices: readonly T[], description: string, defaultValue?: T): Option {
  const option = new Option(`--on-bad-row <${choices.join('|')}>`, description).argParser(oneOf(choices));
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** A size like `10mb`, `512kb` or a byte count. */
export function size(value: string): string {
  if (!/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i.test(value.trim())) throw new InvalidArgumentError(`expected a size like 10mb, 512kb or a byte count, got "${value}"`);
  return value.trim();
}

/** `--types zip=category,price=number,day=datetime:dmy`: declared column types. */
export function columnTypes(value: string): Record<string, DeclaredType> {
  const out = dict<DeclaredType>(); // keyed by column names
  for (const part of value.split(',')) {
    const eq = part.lastIndexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    const type = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (!name || !type) throw new InvalidArgumentError(`expected column=type[,column=type...], got "${value}"`);
    const problem = declaredTypeProblem(type);
    if (problem) throw new InvalidArgumentError(`column "${name}": ${problem}`);
    out[name] = type as DeclaredType;
  }
  return out;
}

/** A custom featurizer module given on the command line (`--featurizer-module name=path`). */
export interface FeaturizerModuleFlag {
  name: string;
  /** Absolute (resolved against the current folder). */
  path: string;
  /** How it was given, for messages: `--featurizer-module zip-prefix=zip.ts`. */
  origin: string;
}

/**
 * `--featurizer-module name=path`, repeatable: the name of a custom featurizer kind and the module
 * to load it from. A name given twice is refused.
 */
export function featurizerModule(value: string, previous: FeaturizerModuleFlag[] | undefined): FeaturizerModuleFlag[] {
  const eq = value.indexOf('=');
  const name = eq < 0 ? '' : value.slice(0, eq).trim();
  const path = eq < 0 ? '' : value.slice(eq + 1).trim();
  if (!name || !path) throw new InvalidArgumentError(`expected name=path (a custom featurizer's name and its module), got "${value}"`);
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new InvalidArgumentError(`"${name}" is not a featurizer name (lower-case letters, digits and -, starting with a letter)`);
  if (previous?.some((m) => m.name === name)) throw new InvalidArgumentError(`"${name}" is given twice`);
  return [...(previous ?? []), { name, path: resolve(path), origin: `--featurizer-module ${value}` }];
}

/** A repeatable option: every value, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--artifacts`: the bundle store of every command that reads or writes one. */
export const ARTIFACTS_OPTION = ['--artifacts <store>', 'bundle store: a folder, s3://bucket/prefix or https://host/path/ (default: $MLPIPE_ARTIFACTS or ./artifacts)'] as const;
