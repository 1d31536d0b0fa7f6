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
import { target } from './target.js';
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
