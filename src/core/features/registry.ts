import { ConfigError } from '../errors.js';
import { suggest } from '../suggest.js';
import { boolean } from './boolean.js';
import { datetimeParts } from './datetime-parts.js';
import { numeric } from './numeric.js';
import { oneHot } from './one-hot.js';
import type { FeaturizerKind } from './types.js';

/** Every featurizer kind mlpipe knows, by name. The contract test runs each of them. */
export const FEATURIZER_KINDS: ReadonlyMap<string, FeaturizerKind> = new Map<string, FeaturizerKind>(
  ([numeric, oneHot, boolean, datetimeParts] as unknown as FeaturizerKind[]).map((k) => [k.kind, k]),
);

/** Looks up a featurizer kind; throws a ConfigError with a suggestion for a misspelt name. */
export function getKind(name: string, path = 'kind'): FeaturizerKind {
  const kind = FEATURIZER_KINDS.get(name);
  if (!kind) {
    const hint = suggest(name, FEATURIZER_KINDS.keys());
    throw new ConfigError(
      `${path}: unknown featurizer "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${[...FEATURIZER_KINDS.keys()].join(', ')}`,
    );
  }
  return kind;
}
