/**
 * Column names in expressions. A name that is not a plain identifier is written in backticks; before
 * the parsing library sees the text, each backtick-quoted name is replaced by a placeholder identifier
 * of exactly the same length (`_0_`, `_1___` …, none occurring in the text), and mapped back to the
 * real name in the tree and in messages: every character position the parser reports is a position
 * in the text as written.
 */
import { ExpressionError, FORBIDDEN, RESERVED } from './language.js';

/** A name written as it is: letters, digits and `_`, not starting with a digit. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `name` can be referenced in an expression as it is (an identifier that is no function or operator name). */
export function isReferenceableName(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name) && !FORBIDDEN.has(name);
}

/** A column name as an expression writes it: as is when it is a plain identifier, else in backticks (`` ` `` doubled). */
export function referenceOf(name: string): string {
  return isReferenceableName(name) ? name : `\`${name.replace(/`/g, '``')}\``;
}

/** Backtick-quoted names of an expression, by the placeholder that stands for each in the parsed text. */
export interface Quoted {
  /** The text with every quoted name replaced by its placeholder: same length, same positions. */
  text: string;
  /** placeholder → name */
  names: Map<string, string>;
  /** name → placeholder */
  words: Map<string, string>;
}

/** A character that continues a name for the library's tokenizer (letters of any script, digits, `_`, `$`). */
function isNameChar(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{N}_$]/u.test(c);
}

/**
 * Replaces each backtick-quoted name (`` `Miles per Gallon` ``, a backtick inside doubled) by an
 * identifier of the same length that does not occur in the text: `_` + a base-36 counter, padded with
 * `_`. Throws ExpressionError at the opening backtick for one that is not closed or an empty name,
 * and where a quoted name touches a name or number without an operator between them.
 */
export function unquote(text: string): Quoted {
  const quoted: Quoted = { text, names: new Map(), words: new Map() };
  if (!text.includes('`')) return quoted;
  let out = '';
  let counter = 0;
  let i = 0;
  for (let open = text.indexOf('`'); open >= 0; open = text.indexOf('`', i)) {
    out += text.slice(i, open);
    let name = '';
    let j = open + 1;
    let closed = false;
    while (j < text.length) {
      const c = text.charAt(j);
      if (c === '`') {
        if (text.charAt(j + 1) !== '`') {
          closed = true;
          break;
        }
        name += '`';
        j += 2;
        continue;
      }
      name += c;
      j++;
    }
    if (!closed) throw new ExpressionError('syntax error: "`" is not closed (a name in backticks ends with another `)', open + 1);
    if (name === '') throw new ExpressionError('syntax error: empty name in backticks', open + 1);
    if (isNameChar(text.charAt(open - 1) || undefined)) throw new ExpressionError('syntax error: unexpected text (a missing operator?)', open + 1);
    if (isNameChar(text.charAt(j + 1) || undefined)) throw new ExpressionError('syntax error: unexpected text (a missing operator?)', j + 2);
    const length = j + 1 - open;
    let word = quoted.words.get(name);
    if (word === undefined) {
      do {
        const digits = (counter++).toString(36);
        if (digits.length > length - 1) throw new ExpressionError('too many names in backticks', open + 1);
        word = `_${digits}`.padEnd(length, '_');
      } while (text.includes(word));
      quoted.words.set(name, word);
      quoted.names.set(word, name);
    }
    out += word;
    i = j + 1;
  }
  quoted.text = out + text.slice(i);
  return quoted;
}
