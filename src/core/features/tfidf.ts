import { type Column, cellAt } from '../table.js';
import { englishStopWords } from './hashing.js';
import { ParamError, param } from './params.js';
import { TokenCursor, TokenTable, tokenString } from './text.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link tfidf}. */
export type TfidfParams = {
  /** Keep at most this many words, the most frequent over the training texts (total count; ties by word). Default 100. */
  maxFeatures: number;
  /** Keep words in at least this many training rows (a whole number ≥ 1), or this share of them (0 < minDf < 1). Default 1. */
  minDf: number;
  /** Lowercase the text before tokenizing (default true). */
  lowercase: boolean;
  /** Leave out English stop words (`english`, stop-words.ts) or not (`none`, default). */
  stopWords: 'english' | 'none';
};
/** Fitted state: the vocabulary (alphabetical: the output order) with each word's idf, and the tokenizing options. */
export type TfidfState = { vocabulary: string[]; idf: number[]; lowercase: boolean; stopWords: 'english' | 'none' };

const cursor = new TokenCursor();
const tables = new WeakMap<TfidfState, TokenTable>();
function table(state: TfidfState): TokenTable {
  let t = tables.get(state);
  if (!t) {
    t = new TokenTable(state.vocabulary);
    tables.set(state, t);
  }
  return t;
}

function documents(column: Column): (string | null)[] {
  return Array.from({ length: column.values.length }, (_, i) => {
    const cell = cellAt(column, i);
    return cell === null ? null : String(cell);
  });
}

/**
 * TF-IDF, as scikit-learn's `TfidfVectorizer(max_features, min_df, lowercase, smooth_idf=True,
 * norm='l2')`: tokens `\b\w\w+\b` (lowercased by default); vocabulary = words in at least `minDf`
 * training rows, then the `maxFeatures` most frequent (total count over the training texts, ties by
 * word), in alphabetical order; idf(w) = ln((1 + n) / (1 + df(w))) + 1 with n training rows (a missing
 * text counts as an empty one); a row is its raw word counts × idf, divided by its Euclidean norm.
 * Words outside the vocabulary (unseen or cut) are ignored; a missing or empty text → all zeros.
 */
export const tfidf: FeaturizerKind<TfidfParams, TfidfState> = {
  kind: 'tfidf',
  description: 'TF-IDF of the most frequent words (maxFeatures 100; smooth idf, l2 norm, as scikit-learn); missing → zeros',
  accepts: ['text', 'category'],
  params(raw) {
    param.only(raw, ['maxFeatures', 'minDf', 'lowercase', 'stopWords']);
    const minDf = param.number(raw, 'minDf', 1, { above: 0 });
    if (minDf >= 1 && !Number.isInteger(minDf)) throw new ParamError('minDf', `must be a whole number of rows (≥ 1) or a share of them (between 0 and 1), got ${minDf}`);
    return {
      maxFeatures: param.number(raw, 'maxFeatures', 100, { min: 1, max: 100_000, integer: true }),
      minDf,
      lowercase: param.boolean(raw, 'lowercase', true),
      stopWords: param.oneOf(raw, 'stopWords', ['english', 'none'] as const, 'none'),
    };
  },
  fit(column, params) {
    const docs = documents(column);
    const n = docs.length;
    const stop = params.stopWords === 'english' ? englishStopWords() : undefined;
    const df = new Map<string, number>();
    const total = new Map<string, number>();
    const seen = new Set<string>();
    for (const text of docs) {
      if (text === null) continue;
      seen.clear();
      cursor.reset(text);
      while (cursor.next()) {
        if (stop && stop.find(text, cursor.start, cursor.end, params.lowercase) >= 0) continue;
        const word = tokenString(text, cursor.start, cursor.end, params.lowercase);
        total.set(word, (total.get(word) ?? 0) + 1);
        if (!seen.has(word)) {
          seen.add(word);
          df.set(word, (df.get(word) ?? 0) + 1);
        }
      }
    }
    cursor.reset('');
    const minCount = params.minDf >= 1 ? params.minDf : params.minDf * n;
    const kept = [...df.entries()]
      .filter(([, d]) => d >= minCount)
      .map(([word]) => word)
      .sort((a, b) => (total.get(b) as number) - (total.get(a) as number) || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, params.maxFeatures)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (kept.length === 0) {
      throw new ParamError('minDf', `leaves no word: no word of two or more letters${stop ? ' (stop words aside)' : ''} is in at least ${params.minDf >= 1 ? `${params.minDf} row(s)` : `${params.minDf} of the rows`}; lower minDf or drop the column`);
    }
    return {
      vocabulary: kept,
      idf: kept.map((w) => Math.log((1 + n) / (1 + (df.get(w) as number))) + 1),
      lowercase: params.lowercase,
      stopWords: params.stopWords,
    };
  },
  outputs(column, _params, state) {
    return state.vocabulary.map((w) => `${column}.${w}`);
  },
  transform(state, cell, out, offset) {
    const k = state.vocabulary.length;
    for (let j = 0; j < k; j++) out[offset + j] = 0;
    if (cell === null) return;
    const text = cell as string;
    const vocabulary = table(state);
    const stop = state.stopWords === 'english' ? englishStopWords() : undefined;
    cursor.reset(text);
    while (cursor.next()) {
      if (stop && stop.find(text, cursor.start, cursor.end, state.lowercase) >= 0) continue;
      const j = vocabulary.find(text, cursor.start, cursor.end, state.lowercase);
      if (j >= 0) out[offset + j] = (out[offset + j] as number) + 1;
    }
    cursor.reset('');
    let ss = 0;
    for (let j = 0; j < k; j++) {
      const v = (out[offset + j] as number) * (state.idf[j] as number);
      out[offset + j] = v;
      ss += v * v;
    }
    if (ss > 0) {
      const norm = Math.sqrt(ss);
      for (let j = 0; j < k; j++) out[offset + j] = (out[offset + j] as number) / norm;
    }
  },
  summary(params, state) {
    const shown = state.vocabulary.slice(0, 8).join(', ');
    return `${state.vocabulary.length} words [${shown}${state.vocabulary.length > 8 ? ', …' : ''}] (min df ${params.minDf}, at most ${params.maxFeatures}${state.lowercase ? ', lowercased' : ''}${state.stopWords === 'english' ? ', without English stop words' : ''}); smooth idf, l2 norm; missing → zeros`;
  },
};
