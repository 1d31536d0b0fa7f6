/**
 * One linear pass over a request body's bytes, before `JSON.parse` sees it. It checks the JSON syntax
 * (a mistake is reported by line and column, which V8's messages do not say), and it bounds what makes
 * `JSON.parse` itself slow: V8 builds a hidden class per new property name, so a 10 MB body of 850,000
 * distinct names takes seconds to parse, blocking every other client. A body is refused, before it is
 * parsed, when one object has more than `maxFields` properties, when the whole body uses more than
 * `maxFields` distinct property names, or when it nests deeper than {@link MAX_SCAN_DEPTH}. The scan
 * is iterative (its stack is an array), so no body can overflow the call stack.
 */

/** Containers nested deeper than this are refused by the scan (records are held to less by flatten). */
export const MAX_SCAN_DEPTH = 1000;

/** Why a body was refused: `syntax` (not JSON), `fields` / `names` (too many), `depth`. */
export class JsonScanError extends Error {
  constructor(
    readonly kind: 'syntax' | 'fields' | 'names' | 'depth',
    message: string,
    /** JSON Pointer of the object or value at fault (not for syntax errors). */
    readonly pointer = '',
  ) {
    super(message);
    this.name = 'JsonScanError';
  }
}

/** What the scan learnt: where each element of a root `"records"` array lies, for chunked parsing. */
export interface JsonScan {
  /** Byte ranges [start, end) of the elements of the root object's `records` array, when it has one. */
  records?: { start: number; end: number }[];
}

interface Frame {
  array: boolean;
  /** Elements or properties seen so far. */
  count: number;
  /** The current property name's bytes (objects). */
  keyStart: number;
  keyEnd: number;
  /** The root's `records` array: its elements' ranges are kept. */
  records: boolean;
}

const enum Expect {
  Value,
  FirstValue,
  After,
  Key,
  FirstKey,
  Colon,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const RECORDS = Buffer.from('"records"');

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isHex(b: number): boolean {
  return isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

/** `line L, column C` of a byte offset (columns count characters, both from 1). */
function lineColumn(buf: Uint8Array, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Characters, not bytes: continuation bytes (10xxxxxx) do not start a character.
  let column = 1;
  for (let i = lineStart; i < offset && i < buf.length; i++) if (((buf[i] as number) & 0xc0) !== 0x80) column++;
  return `line ${line}, column ${column}`;
}

/** A JSON Pointer token (RFC 6901) of a property name given by its quoted bytes. */
function keyToken(buf: Uint8Array, start: number, end: number): string {
  let name: string;
  try {
    name = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8')) as string;
  } catch {
    name = '?';
  }
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Scans `buf` (UTF-8 JSON, no BOM). Throws {@link JsonScanError} for a syntax error (with line and
 * column), an object with more than `maxFields` properties or a body with more than `maxFields`
 * distinct property names (with the JSON Pointer of the object), or nesting deeper than
 * {@link MAX_SCAN_DEPTH}. An empty body is a syntax error; callers say "empty" first.
 */
export function scanJson(buf: Uint8Array, maxFields: number): JsonScan {
  const n = buf.length;
  const stack: Frame[] = [];
  // Distinct names, by a 32-bit hash of their bytes: a collision only lets a body through sooner.
  const names = new Set<number>();
  let records: { start: number; end: number }[] | undefined;
  let elementStart = -1;
  let expect = Expect.Value;
  let i = 0;
  // An object over the limit: scanned to its end to count its fields for the message.
  let over: { frame: Frame; pointer: string } | undefined;
  let tooManyNames: { frame: Frame; pointer: string } | undefined;

  const pointer = (levels: number): string => {
    let p = '';
    for (let k = 0; k < levels; k++) {
      const f = stack[k] as Frame;
      p += f.array ? `/${f.count - 1}` : `/${keyToken(buf, f.keyStart, f.keyEnd)}`;
    }
    return p;
  };
  const syntax = (at: number, problem: string): JsonScanError =>
    new JsonScanError('syntax', `the request body is not valid JSON: ${problem} at ${lineColumn(buf, at)} (byte ${at})`);
  const found = (at: number): string => {
    if (at >= n) return 'the end of the body';
    const b = buf[at] as number;
    return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
  };

  const tooMany = (count: number): JsonScanError =>
    new JsonScanError('fields', `has ${count} fields; the limit is ${maxFields} (--max-fields): a record holds the model's input fields and a few more`, over?.pointer);

  /** Index after the string starting at `start` (a quote). */
  const string = (start: number): number => {
    let j = start + 1;
    for (;;) {
      if (j >= n) throw syntax(start, 'a string that is never closed');
      const b = buf[j] as number;
      if (b === QUOTE) return j + 1;
      if (b === BACKSLASH) {
        const e = buf[j + 1];
        if (e === 0x75 /* u */) {
          for (let k = 2; k < 6; k++) if (!isHex(buf[j + k] ?? 0)) throw syntax(j, 'a \\u escape without four hex digits');
          j += 6;
          continue;
        }
        if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          j += 2;
          continue;
        }
        throw syntax(j, `an invalid escape ${found(j + 1) === 'the end of the body' ? '' : `\\${String.fromCharCode(e ?? 0x3f)} `}in a string`);
      }
      if (b < 0x20) throw syntax(j, 'a control character (escape it) in a string');
      j++;
    }
  };

  const number = (start: number): number => {
    let j = start;
    if (buf[j] === 0x2d) j++;
    if (buf[j] === 0x30) j++;
    else if (isDigit(buf[j] ?? 0)) while (isDigit(buf[j] ?? 0)) j++;
    else throw syntax(start, 'a number without digits');
    if (buf[j] === 0x2e) {
      j++;
      if (!isDigit(buf[j] ?? 0)) throw syntax(j, 'a number with no digit after its decimal point');
      while (isDigit(buf[j] ?? 0)) j++;
    }
    if (buf[j] === 0x65 || buf[j] === 0x45) {
      j++;
      if (buf[j] === 0x2b || buf[j] === 0x2d) j++;
      if (!isDigit(buf[j] ?? 0)) throw syntax(j, 'a number with no digit in its exponent');
      while (isDigit(buf[j] ?? 0)) j++;
    }
    return j;
  };

  const literal = (start: number, word: string): number => {
    for (let k = 0; k < word.length; k++) if (buf[start + k] !== word.charCodeAt(k)) throw syntax(start, `unexpected ${found(start)} (a value is a string, number, object, array, true, false or null)`);
    return start + word.length;
  };

  /** A value (scalar, or a container's close) ended at `end`. */
  const valueDone = (end: number): void => {
    expect = Expect.After;
    if (over && stack.length === 0) throw tooMany(over.frame.count);
    if (elementStart >= 0 && stack.length === 2 && (stack[1] as Frame).records) {
      (records as { start: number; end: number }[]).push({ start: elementStart, end });
      elementStart = -1;
    }
  };

  for (;;) {
    while (i < n && isWhitespace(buf[i] as number)) i++;
    if (i >= n) {
      if ((expect as Expect) === Expect.After && stack.length === 0) break;
      throw syntax(i, stack.length === 0 && expect === Expect.Value ? 'no value' : 'the body ends in the middle of a value');
    }
    const c = buf[i] as number;
    switch (expect) {
      case Expect.Value:
      case Expect.FirstValue: {
        const top = stack[stack.length - 1];
        if (expect === Expect.FirstValue && c === 0x5d /* ] */) {
          stack.pop();
          i++;
          valueDone(i);
          break;
        }
        if (top?.array) top.count++;
        if (stack.length === 2 && (stack[1] as Frame).records) elementStart = i;
        if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
          if (stack.length >= MAX_SCAN_DEPTH) throw new JsonScanError('depth', `nested more than ${MAX_SCAN_DEPTH} levels deep`, pointer(stack.length));
          const array = c === 0x5b;
          const isRecords = array && stack.length === 1 && !(stack[0] as Frame).array && keyIs(buf, stack[0] as Frame, RECORDS);
          if (isRecords) records = [];
          stack.push({ array, count: 0, keyStart: 0, keyEnd: 0, records: isRecords });
          i++;
          expect = array ? Expect.FirstValue : Expect.FirstKey;
          break;
        }
        if (c === QUOTE) i = string(i);
        else if (c === 0x2d || isDigit(c)) i = number(i);
        else if (c === 0x74) i = literal(i, 'true');
        else if (c === 0x66) i = literal(i, 'false');
        else if (c === 0x6e) i = literal(i, 'null');
        else throw syntax(i, `unexpected ${found(i)} where a value should be`);
        valueDone(i);
        break;
      }
      case Expect.After as Expect: {
        const top = stack[stack.length - 1];
        if (!top) throw syntax(i, `unexpected ${found(i)} after the end of the JSON value`);
        if (c === 0x2c /* , */) {
          i++;
          expect = top.array ? Expect.Value : Expect.Key;
        } else if (c === (top.array ? 0x5d : 0x7d)) {
          if (over?.frame === top) throw tooMany(top.count);
          if (tooManyNames?.frame === top) {
            throw new JsonScanError('names', `the request uses more than ${maxFields} different field names (--max-fields); records of one request share their field names`, tooManyNames.pointer);
          }
          stack.pop();
          i++;
          valueDone(i);
        } else {
          throw syntax(i, `expected ',' or '${top.array ? ']' : '}'}' after ${top.array ? 'an array element' : 'a property value'}, found ${found(i)}`);
        }
        break;
      }
      case Expect.Key:
      case Expect.FirstKey: {
        const top = stack[stack.length - 1] as Frame;
        if (c === 0x7d /* } */ && expect === Expect.FirstKey) {
          stack.pop();
          i++;
          valueDone(i);
          break;
        }
        if (c !== QUOTE) throw syntax(i, `expected a property name in double quotes, found ${found(i)}`);
        const end = string(i);
        top.keyStart = i;
        top.keyEnd = end;
        // A later "records" wins, as in JSON.parse: forget the ranges of an earlier one.
        if (stack.length === 1 && records && keyIs(buf, top, RECORDS)) records = undefined;
        if (++top.count > maxFields && !over) over = { frame: top, pointer: pointer(stack.length - 1) };
        if (!over) names.add(hash(buf, i, end));
        // Reported when this object closes, unless it has too many fields itself (the plainer message).
        if (names.size > maxFields && !over && !tooManyNames) tooManyNames = { frame: top, pointer: pointer(stack.length - 1) };
        i = end;
        expect = Expect.Colon;
        break;
      }
      case Expect.Colon:
        if (c !== 0x3a /* : */) throw syntax(i, `expected ':' after a property name, found ${found(i)}`);
        i++;
        expect = Expect.Value;
        break;
    }
  }
  return records ? { records } : {};
}

function keyIs(buf: Uint8Array, frame: Frame, quoted: Uint8Array): boolean {
  if (frame.keyEnd - frame.keyStart !== quoted.length) return false;
  for (let k = 0; k < quoted.length; k++) if (buf[frame.keyStart + k] !== quoted[k]) return false;
  return true;
}

/** FNV-1a over a byte range. */
function hash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let k = start; k < end; k++) h = Math.imul(h ^ (buf[k] as number), 0x01000193);
  return h >>> 0;
}
