/**
 * A small English stop-word list for the text kinds (`stopWords: english`): pronouns, articles,
 * auxiliary and modal verbs, prepositions, conjunctions and the commonest adverbs and determiners —
 * words that say little about what a text is about. Lowercase, one token each (words of one letter
 * never become tokens, so they are not listed; contractions split at the apostrophe, so "don't" is
 * "don" — listed — and "t"). Written for mlpipe; not scikit-learn's list.
 */
export const ENGLISH_STOP_WORDS: readonly string[] = [
  'about', 'above', 'after', 'again', 'against', 'all', 'also', 'am', 'an', 'and', 'any', 'are', 'aren', 'as', 'at',
  'be', 'because', 'been', 'before', 'being', 'below', 'between', 'both', 'but', 'by',
  'can', 'cannot', 'could', 'couldn',
  'did', 'didn', 'do', 'does', 'doesn', 'doing', 'don', 'down', 'during',
  'each', 'either', 'else', 'ever', 'every',
  'few', 'for', 'from', 'further',
  'had', 'hadn', 'has', 'hasn', 'have', 'haven', 'having', 'he', 'her', 'here', 'hers', 'herself', 'him', 'himself', 'his', 'how',
  'if', 'in', 'into', 'is', 'isn', 'it', 'its', 'itself',
  'just',
  'll',
  'may', 'me', 'might', 'more', 'most', 'much', 'must', 'my', 'myself',
  'neither', 'no', 'nor', 'not', 'now',
  'of', 'off', 'on', 'once', 'only', 'or', 'other', 'our', 'ours', 'ourselves', 'out', 'over', 'own',
  're',
  'same', 'shall', 'shan', 'she', 'should', 'shouldn', 'so', 'some', 'such',
  'than', 'that', 'the', 'their', 'theirs', 'them', 'themselves', 'then', 'there', 'these', 'they', 'this', 'those', 'through', 'to', 'too',
  'under', 'until', 'up', 'upon', 'us',
  've', 'very',
  'was', 'wasn', 'we', 'were', 'weren', 'what', 'when', 'where', 'whether', 'which', 'while', 'who', 'whom', 'whose', 'why', 'will', 'with', 'within', 'without', 'won', 'would', 'wouldn',
  'yet', 'you', 'your', 'yours', 'yourself', 'yourselves',
];
