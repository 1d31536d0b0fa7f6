/**
 * YAML text with comments, as `mlpipe init` writes it: each line is rendered by the yaml library (so
 * every key and value is quoted as YAML needs); comments are added and aligned here.
 */
import { Document, isCollection, type YAMLMap } from 'yaml';

const TO_STRING = { lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false, nullStr: 'null', indentSeq: true } as const;

/** `key: value` on one line, a collection value in flow style (`{kind: numeric, …}`). */
export function pairText(key: string, value: unknown): string {
  const doc = new Document(new Map([[key, value]]));
  const pair = (doc.contents as YAMLMap).items[0];
  if (pair && isCollection(pair.value)) pair.value.flow = true;
  const text = doc.toString(TO_STRING).replace(/\n$/, '');
  // JSON is YAML: the fallback for anything the library would spread over several lines.
  return text.includes('\n') ? `${JSON.stringify(key)}: ${JSON.stringify(value)}` : text;
}

/** `- value` on one line. */
export function itemText(value: unknown): string {
  const doc = new Document([value]);
  const text = doc.toString(TO_STRING).replace(/\n$/, '');
  return text.includes('\n') ? `- ${JSON.stringify(value)}` : text;
}

/** A comment's text on one line (newlines would end the comment). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * One line of a group: code with an optional trailing comment, a comment line, or code written as a
 * comment (`# cv: 5  # …`: uncommenting it is all it takes to use it).
 */
export type Line = { code: string; comment?: string; disabled?: boolean } | { comment: string; code?: undefined };

/**
 * Lines whose trailing comments are aligned one column after the longest code (code longer than
 * `maxColumn` just gets two spaces).
 */
export function renderGroup(lines: Line[], indent = '', maxColumn = 56): string[] {
  const codeOf = (l: Line) => (l.code === undefined ? undefined : `${indent}${'disabled' in l && l.disabled ? '# ' : ''}${l.code}`);
  const width = Math.min(maxColumn, Math.max(0, ...lines.map((l) => codeOf(l)?.length ?? 0)));
  return lines.map((l) => {
    const code = codeOf(l);
    if (code === undefined) return `${indent}# ${oneLine(l.comment ?? '')}`;
    if (l.comment === undefined) return code;
    return `${code.padEnd(width)}  # ${oneLine(l.comment)}`;
  });
}

/** Splits text at spaces into lines of at most `width` characters (longer words stay whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
