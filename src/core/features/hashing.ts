import { param } from './params.js';
import { ENGLISH_STOP_WORDS } from './stop-words.js';
import { TokenCursor, TokenTable, murmur3Token } from './text.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link hashing}. */
export type HashingParams = {
  /** Number of output columns (default 256). */
  width: number;
  /** Lowercase the text before counting (default true). */
  lowercase: boolean;
  /** Leave out English stop words (`english`, stop-words.ts) or not (`none`, default). */
  stopWords: 'english' | 'none';
};
/** Fitted state: the parameters (hashing learns nothing from the data). */
export type HashingState = HashingParams;

const cursor = new TokenCursor();
let stopTable: TokenTable | undefined;
/** The English stop words as a lookup table (built on first use). */
export function englishStopWords(): TokenTable {
  return (stopTable ??= new TokenTable(ENGLISH_STOP_WORDS));
}

/**
 * Token counts hashed into `width` columns: no vocabulary, so nothing is learnt and an unseen word
 * lands in some column like any other. Tokens as scikit-learn's (`\b\w\w+\b`, lowercased by default);
 * column of a token: `|murmurhash3_32(token)| mod width` over its UTF-8 bytes — the same columns and
 * counts as scikit-learn's `HashingVectorizer(n_features=width, alternate_sign=False, norm=None)`.
 * A missing text is an empty one: all zeros.
 */
export const hashing: FeaturizerKind<HashingParams, HashingState> = {
  kind: 'hashing',
  description: 'word counts hashed into width (256) columns; no vocabulary; missing → zeros',
  accepts: ['text', 'category'],
  params(raw) {
    param.only(raw, ['width', 'lowercase', 'stopWords']);
    return {
      width: param.number(raw, 'width', 256, { min: 1, max: 1 << 20, integer: true }),
      lowercase: param.boolean(raw, 'lowercase', true),
      stopWords: param.oneOf(raw, 'stopWords', ['english', 'none'] as const, 'none'),
    };
  },
  fit(_column, params) {
    return { width: params.width, lowercase: params.lowercase, stopWords: params.stopWords };
  },
  outputs(column, _params, state) {
    return Array.from({ length: state.width }, (_, j) => `${column}.hash${j}`);
  },
  transform(state, cell, out, offset) {
    const w = state.width;
    for (let j = 0; j < w; j++) out[offset + j] = 0;
    if (cell === null) return;
    const text = cell as string;
    const stop = state.stopWords === 'english' ? englishStopWords() : undefined;
    cursor.reset(text);
    while (cursor.next()) {
      if (stop && stop.find(text, cursor.start, cursor.end, state.lowercase) >= 0) continue;
      const h = murmur3Token(text, cursor.start, cursor.end, state.lowercase);
      // |−2^31| does not fit an int32; scikit-learn defines its column as 2^31 mod width.
      const j = h === -2147483648 ? 2147483648 % w : Math.abs(h) % w;
      out[offset + j] = (out[offset + j] as number) + 1;
    }
    cursor.reset('');
  },
  summary(_params, state) {
    return `word counts hashed into ${state.width} columns${state.lowercase ? ', lowercased' : ''}${state.stopWords === 'english' ? ', without English stop words' : ''}; missing → zeros`;
  },
};
