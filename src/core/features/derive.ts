/**
 * Derived columns (`features.derive` in pipeline.yaml): new numeric columns computed from a record's
 * input columns by a small expression language, e.g. `ratio: "income / (debt + 1)"`.
 *
 * Expressions are parsed once with expr-eval-fork, restricted to the operators and functions below,
 * then turned into a small tree of our own that is evaluated by walking it. Nothing is ever compiled
 * to JavaScript (no `toJSFunction`, no `eval`, no `new Function`), no property of any object is read,
 * and a fitted featurizer stores the expressions as text, re-parsed on load: a bundle stays data.
 *
 * Grammar: numbers; input column names and earlier derived names (identifiers: letters, digits, `_`;
 * any other name in backticks, as in pandas' `DataFrame.eval`: `` `Miles per Gallon` / Weight ``, a
 * backtick inside one doubled: `` `a``b` `` is the column a`b);
 * `+ - * / % ^` (power), unary `-`/`+`; `== != < <= > >=` (1 or 0); `and`, `or`, `not` (non-zero is
 * true; 1 or 0); `log` (natural), `exp`, `sqrt`, `abs`, `round`, `floor`, `ceil` of one argument;
 * `min(a, b, …)`, `max(a, b, …)`; `if(condition, then, else)`. Precedence, loosest first:
 * `or`, `and`, comparisons, `+ -`, `* / %`, unary `- + not`, `^`.
 *
 * Values: numbers and integers as they are, booleans as 1/0, datetimes as days since 1970-01-01 UTC
 * (fractional). A derived value is missing when a column it reads is missing, and when any step gives
 * a number that is not finite (division by zero, `log(0)`, `sqrt(-1)`).
 *
 * Backtick-quoted names are replaced, before the library sees the text, by placeholder identifiers of
 * exactly the same length (`_0_`, `_1___` …, none occurring in the text), and mapped back to the real
 * names in the tree and in messages: every character position the parser reports is a position in the
 * text as written. The expressions stay stored as text (featurizer format 2), quotes included, and
 * are parsed by this same code when a bundle is loaded, so the same text gives the same values in
 * `featurize`, `predict` and `serve`. (An mlpipe without backtick quoting refuses such a bundle at
 * load with a syntax error; it can never compute something else from it.)
 */
import { Parser } from 'expr-eval-fork';
import { suggest } from '../suggest.js';
import type { Cell, ColumnType } from '../values.js';

/** Longest expression accepted (characters): bounds parse time and recursion depth. */
export const MAX_EXPRESSION_LENGTH = 1000;

/** One derived column as written in a config and saved in `featurizer.json`. */
export interface DeriveSpec {
  /** The derived column's name (an identifier). */
  name: string;
  /** The expression, as written. */
  expression: string;
}

/** Column types an expression can read. */
export const DERIVE_INPUT_TYPES: readonly ColumnType[] = ['number', 'integer', 'boolean', 'datetime'];

const MS_PER_DAY = 86_400_000;

type UnaryOp = '-' | '+' | 'not' | 'sqrt' | 'log' | 'abs' | 'ceil' | 'floor' | 'round' | 'exp';
type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

const UNARY: Record<UnaryOp, (x: number) => number> = {
  '-': (x) => -x,
  '+': (x) => x,
  not: (x) => (x === 0 ? 1 : 0),
  sqrt: Math.sqrt,
  log: Math.log,
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  round: Math.round,
  exp: Math.exp,
};

const BINARY: Record<Exclude<BinaryOp, 'and' | 'or'>, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '^': (a, b) => a ** b,
  '==': (a, b) => (a === b ? 1 : 0),
  '!=': (a, b) => (a !== b ? 1 : 0),
  '<': (a, b) => (a < b ? 1 : 0),
  '<=': (a, b) => (a <= b ? 1 : 0),
  '>': (a, b) => (a > b ? 1 : 0),
  '>=': (a, b) => (a >= b ? 1 : 0),
};

/** Functions called with parentheses, and how many arguments each takes. */
const CALLS: Record<string, { min: number; max: number }> = {
  min: { min: 1, max: 100 },
  max: { min: 1, max: 100 },
  if: { min: 3, max: 3 },
};

/** Every function name (unary operators written as calls, and `min`/`max`/`if`). */
export const FUNCTION_NAMES: readonly string[] = [...Object.keys(UNARY).filter((k) => /^[a-z]/.test(k) && k !== 'not'), ...Object.keys(CALLS)];

/** Names the parser reserves: neither a column nor a derived column may be referenced by them. */
const RESERVED = new Set([...FUNCTION_NAMES, 'not', 'and', 'or']);

/** Names of JavaScript object internals: refused outright, whatever the data holds. */
const FORBIDDEN = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** A parsed expression: our own tree, evaluated by {@link evaluate}. */
export type ExprNode =
  | { t: 'num'; v: number }
  | { t: 'var'; name: string; slot: number }
  | { t: 'un'; f: (x: number) => number; a: ExprNode }
  | { t: 'bin'; f: (a: number, b: number) => number; a: ExprNode; b: ExprNode }
  | { t: 'and' | 'or'; a: ExprNode; b: ExprNode }
  | { t: 'if'; c: ExprNode; a: ExprNode; b: ExprNode }
  | { t: 'min' | 'max'; args: ExprNode[] };

/** A problem in an expression; `position` is the 1-based character in the expression when known. */
export class ExpressionError extends Error {
  readonly problem: string;
  readonly position: number | undefined;
  constructor(problem: string, position?: number) {
    super(position !== undefined ? `${problem} at character ${position}` : problem);
    this.problem = problem;
    this.position = position;
  }
}

/** A parsed expression: its tree and the names it reads, in order of first use. */
export interface ParsedExpression {
  text: string;
  root: ExprNode;
  names: string[];
}

/** A plain object without a prototype: `'constructor' in o` is false. */
function bare<T extends object>(o: T): T {
  return Object.assign(Object.create(null) as T, o);
}

/**
 * The restricted parser. Operators the library has but we do not allow are switched off by option
 * (the tokenizer then refuses them: `=`, `[`, `||`, `!`, `?`, `in`), member access is off, and the
 * operator, function and constant tables are replaced by prototype-free ones holding only our names,
 * so `constructor`, `toString` or `sin` are plain names that our checks refuse.
 */
function makeParser(): Parser {
  const parser = new Parser({
    allowMemberAccess: false,
    operators: { assignment: false, fndef: false, concatenate: false, conditional: false, factorial: false, in: false, length: false, random: false } as never,
  });
  const options = (parser as unknown as { options: { operators: Record<string, boolean> } }).options;
  options.operators.array = false; // not in the typings, read by the tokenizer for `[`
  // The tables are only read by the tokenizer (which names are operators); we never evaluate through the library.
  const placeholder = () => Number.NaN;
  parser.unaryOps = bare(Object.fromEntries(Object.keys(UNARY).map((k) => [k, placeholder])));
  (parser as unknown as { binaryOps: object }).binaryOps = bare(Object.fromEntries([...Object.keys(BINARY), 'and', 'or'].map((k) => [k, placeholder])));
  (parser as unknown as { ternaryOps: object }).ternaryOps = bare({});
  parser.functions = bare(Object.fromEntries(Object.keys(CALLS).map((k) => [k, placeholder])));
  parser.consts = bare({});
  return parser;
}

const PARSER = makeParser();

interface Instruction {
  type: string;
  value: unknown;
}

/** 1-based position of the first whole-word use of `name` in `text`, if any. */
function positionOf(text: string, name: string): number | undefined {
  const re = new RegExp(`(^|[^A-Za-z0-9_$])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_])`);
  const m = re.exec(text);
  return m ? m.index + m[1]!.length + 1 : undefined;
}

/** Turns expr-eval's messages into ours, with the position in the expression (`text`: with placeholders). */
function syntaxError(text: string, err: unknown, quoted: Quoted): ExpressionError {
  const message = err instanceof Error ? err.message : String(err);
  const located = /^parse error \[(\d+):(\d+)\]: (.*)$/.exec(message);
  if (located) {
    const [, line, column, what] = located as unknown as [string, string, string, string];
    // The library counts lines within the expression; turn line:column into one character offset.
    let offset = 0;
    for (let l = 1; l < Number(line); l++) offset = text.indexOf('\n', offset) + 1;
    const position = offset + Number(column);
    const unknownChar = /^Unknown character "(.*)"$/.exec(what);
    if (unknownChar) {
      const c = unknownChar[1];
      const why: Record<string, string> = {
        '=': '"=" is not allowed (no assignment; compare with ==)',
        '[': '"[" is not allowed (no arrays)',
        '|': '"|" is not allowed (use or)',
        '!': '"!" is not allowed (use not, or != to compare)',
        '?': '"?" is not allowed (use if(condition, then, else))',
        ':': '":" is not allowed (use if(condition, then, else))',
      };
      return new ExpressionError(`syntax error: ${why[c ?? ''] ?? `unexpected character "${c}"`}`, position);
    }
    // For "Expected …" the library stands just after the token it did not expect: point at that token's start.
    let start = position;
    if (position <= text.length || what === 'Expected EOF') {
      start = position - 1;
      while (start > 1 && /[A-Za-z0-9_.$]/.test(text.charAt(start - 1)) && /[A-Za-z0-9_.$]/.test(text.charAt(start - 2))) start--;
    }
    if (what === 'Expected EOF') return new ExpressionError('syntax error: unexpected text (a missing operator?)', start);
    if (what === 'Expected )') return new ExpressionError('syntax error: expected ")"', start);
    return new ExpressionError(`syntax error: ${what}`, position);
  }
  if (/member access is not permitted/.test(message)) return new ExpressionError('syntax error: "." is not allowed (no member access)', text.indexOf('.') + 1);
  if (/^unexpected TEOF/.test(message)) return new ExpressionError('syntax error: the expression ends too soon', text.length + 1);
  const token = /^unexpected T[A-Z]+: (.*)$/.exec(message);
  if (token) {
    const value = token[1]!;
    // The library does not say where: the first place where parsing up to this token fails the same way.
    let position: number | undefined;
    for (let j = text.indexOf(value); j >= 0; j = text.indexOf(value, j + 1)) {
      try {
        PARSER.parse(text.slice(0, j + value.length));
      } catch (e) {
        if (e instanceof Error && e.message === message) {
          position = j + 1;
          break;
        }
      }
    }
    return new ExpressionError(`syntax error: unexpected ${quoted.names.has(value) ? referenceOf(quoted.names.get(value)!) : `"${value}"`}`, position);
  }
  return new ExpressionError(`syntax error: ${message}`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `name` can be referenced in an expression as it is (an identifier that is no function or operator name). */
export function isReferenceableName(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name) && !FORBIDDEN.has(name);
}

/** A column name as an expression writes it: as is when it is a plain identifier, else in backticks (`` ` `` doubled). */
export function referenceOf(name: string): string {
  return isReferenceableName(name) ? name : `\`${name.replace(/`/g, '``')}\``;
}

/** Backtick-quoted names of an expression, by the placeholder that stands for each in the parsed text. */
interface Quoted {
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
function unquote(text: string): Quoted {
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

/**
 * Parses an expression of the language described at the top of this file. Throws ExpressionError
 * (with the character position when known) for a syntax error or anything outside the language;
 * nothing in the text is ever executed.
 */
export function parseExpression(text: string): ParsedExpression {
  if (typeof text !== 'string' || text.trim() === '') throw new ExpressionError('the expression is empty');
  if (text.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`the expression is ${text.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`);
  const quoted = unquote(text);
  let tokens: Instruction[];
  try {
    tokens = (PARSER.parse(quoted.text) as unknown as { tokens: Instruction[] }).tokens;
  } catch (err) {
    throw syntaxError(quoted.text, err, quoted);
  }
  const names: string[] = [];
  const root = toTree(tokens, quoted, names);
  return { text, root, names };
}

type Item = ExprNode | { t: 'fn'; name: string };

/**
 * Rebuilds a tree from expr-eval's postfix instructions, refusing every instruction outside our
 * language. Positions are looked up in the text with placeholders (`quoted.text`): the same as in the
 * text as written.
 */
function toTree(tokens: Instruction[], quoted: Quoted, names: string[]): ExprNode {
  const text = quoted.text;
  /** Position of a name's first use, quoted or not. */
  const at = (name: string) => positionOf(text, quoted.words.get(name) ?? name) ?? positionOf(text, name);
  const stack: Item[] = [];
  const node = (item: Item | undefined): ExprNode => {
    if (item === undefined) throw new ExpressionError('syntax error: incomplete expression');
    if (item.t === 'fn') throw new ExpressionError(`"${item.name}" is a function: call it with parentheses, e.g. ${item.name === 'if' ? 'if(age < 30, 1, 0)' : `${item.name}(x)`}`, positionOf(text, item.name));
    return item;
  };
  for (const tok of tokens) {
    switch (tok.type) {
      case 'INUMBER':
        if (typeof tok.value !== 'number') throw new ExpressionError('text in quotes is not allowed: expressions compute numbers', Math.max(0, Math.min(...['"', "'"].map((q) => text.indexOf(q)).filter((j) => j >= 0))) + 1);
        stack.push({ t: 'num', v: tok.value });
        break;
      case 'IVAR': {
        const word = String(tok.value);
        const name = quoted.names.get(word) ?? word;
        // A quoted name is always a column, even `log` (a column named like a function).
        if (!quoted.names.has(word) && (Object.hasOwn(UNARY, name) || Object.hasOwn(CALLS, name))) {
          stack.push({ t: 'fn', name });
          break;
        }
        if (FORBIDDEN.has(name)) throw new ExpressionError(`the name "${name}" is not allowed`, positionOf(text, word));
        if (!quoted.names.has(word) && !IDENTIFIER.test(name)) throw new ExpressionError(`"${name}" is not allowed here (write a name with other characters in backticks: ${referenceOf(name)})`, positionOf(text, word));
        if (!names.includes(name)) names.push(name);
        stack.push({ t: 'var', name, slot: -1 });
        break;
      }
      case 'IOP1': {
        const op = String(tok.value);
        if (!Object.hasOwn(UNARY, op)) throw new ExpressionError(`operator "${op}" is not allowed`, positionOf(text, op));
        stack.push({ t: 'un', f: UNARY[op as UnaryOp], a: node(stack.pop()) });
        break;
      }
      case 'IOP2': {
        const op = String(tok.value);
        const b = node(stack.pop());
        const a = node(stack.pop());
        if (op === 'and' || op === 'or') stack.push({ t: op, a, b });
        else if (Object.hasOwn(BINARY, op)) stack.push({ t: 'bin', f: BINARY[op as keyof typeof BINARY], a, b });
        else throw new ExpressionError(`operator "${op}" is not allowed`, text.indexOf(op) + 1 || undefined);
        break;
      }
      case 'IEXPR': {
        // The right side of and/or, kept apart by the library for short-circuiting.
        const inner = tok.value as Instruction[];
        if (inner.some((t) => t.type === 'IENDSTATEMENT')) throw new ExpressionError('";" is not allowed: one expression per derived column', text.indexOf(';') + 1 || undefined);
        stack.push(toTree(inner, quoted, names));
        break;
      }
      case 'IFUNCALL': {
        const count = Number(tok.value);
        const args: ExprNode[] = [];
        for (let k = 0; k < count; k++) args.unshift(node(stack.pop()));
        const callee = stack.pop();
        if (callee?.t === 'var') {
          const hint = suggest(callee.name, FUNCTION_NAMES);
          throw new ExpressionError(`unknown function "${callee.name}"${hint ? ` (did you mean "${hint}"?)` : ''}; functions: ${FUNCTION_NAMES.join(', ')}`, at(callee.name));
        }
        if (callee?.t !== 'fn') throw new ExpressionError('only functions can be called', undefined);
        const where = at(callee.name);
        if (Object.hasOwn(UNARY, callee.name)) {
          if (count !== 1) throw new ExpressionError(`${callee.name}() takes one argument, got ${count}`, where);
          stack.push({ t: 'un', f: UNARY[callee.name as UnaryOp], a: args[0]! });
          break;
        }
        const arity = CALLS[callee.name]!;
        if (count < arity.min || count > arity.max) {
          throw new ExpressionError(
            callee.name === 'if' ? `if() takes three arguments (condition, then, else), got ${count}` : `${callee.name}() takes 1 to ${arity.max} arguments, got ${count}`,
            where,
          );
        }
        if (callee.name === 'if') stack.push({ t: 'if', c: args[0]!, a: args[1]!, b: args[2]! });
        else stack.push({ t: callee.name as 'min' | 'max', args });
        break;
      }
      case 'IMEMBER':
        throw new ExpressionError('"." is not allowed (no member access)', text.indexOf('.') + 1 || undefined);
      case 'IENDSTATEMENT':
        throw new ExpressionError('";" is not allowed: one expression per derived column', text.indexOf(';') + 1 || undefined);
      case 'IFUNDEF':
        throw new ExpressionError('function definitions are not allowed');
      case 'IVARNAME':
        throw new ExpressionError('assignment is not allowed');
      case 'IARRAY':
        throw new ExpressionError('arrays are not allowed');
      default:
        throw new ExpressionError(`"${String(tok.value)}" is not allowed`);
    }
  }
  if (stack.length !== 1) throw new ExpressionError('syntax error: incomplete expression');
  return node(stack.pop());
}

/**
 * Evaluates a tree over `env` (values by slot; NaN = missing). Any step that is not a finite number
 * makes the result NaN (missing), so `1 / 0 > 5` is missing, not 1. `and`, `or` and `if` evaluate
 * only what they need.
 */
export function evaluate(n: ExprNode, env: Float64Array): number {
  let v: number;
  switch (n.t) {
    case 'num':
      return n.v;
    case 'var':
      return env[n.slot] as number;
    case 'un': {
      const a = evaluate(n.a, env);
      if (Number.isNaN(a)) return Number.NaN;
      v = n.f(a);
      break;
    }
    case 'bin': {
      const a = evaluate(n.a, env);
      if (Number.isNaN(a)) return Number.NaN;
      const b = evaluate(n.b, env);
      if (Number.isNaN(b)) return Number.NaN;
      v = n.f(a, b);
      break;
    }
    case 'and':
    case 'or': {
      const a = evaluate(n.a, env);
      if (Number.isNaN(a)) return Number.NaN;
      if (n.t === 'and' ? a === 0 : a !== 0) return n.t === 'and' ? 0 : 1;
      const b = evaluate(n.b, env);
      return Number.isNaN(b) ? Number.NaN : b !== 0 ? 1 : 0;
    }
    case 'if': {
      const c = evaluate(n.c, env);
      if (Number.isNaN(c)) return Number.NaN;
      return evaluate(c !== 0 ? n.a : n.b, env);
    }
    case 'min':
    case 'max': {
      v = n.t === 'min' ? Infinity : -Infinity;
      for (const arg of n.args) {
        const a = evaluate(arg, env);
        if (Number.isNaN(a)) return Number.NaN;
        v = n.t === 'min' ? Math.min(v, a) : Math.max(v, a);
      }
      break;
    }
  }
  return Number.isFinite(v) ? v : Number.NaN;
}

/** A cell of a readable column as an expression value: booleans 1/0, datetimes in days; NaN when missing. */
export function cellNumber(type: ColumnType, cell: Cell): number {
  if (cell === null) return Number.NaN;
  if (type === 'boolean') return cell === true ? 1 : 0;
  if (type === 'datetime') return (cell as number) / MS_PER_DAY;
  return typeof cell === 'number' ? cell : Number.NaN;
}

/** A problem with derived column `index` of a list; callers add the config path or file. */
export class DeriveError extends Error {
  readonly index: number;
  readonly problem: string;
  constructor(index: number, problem: string) {
    super(problem);
    this.index = index;
    this.problem = problem;
  }
}

/** An input column an expression reads. */
export interface DeriveInput {
  name: string;
  type: ColumnType;
}

interface Bound {
  spec: DeriveSpec;
  root: ExprNode;
  /** Slots of the values it reads: if any is missing, so is the result. */
  reads: number[];
}

/**
 * Checks a list of derived columns without the data (at config read time): names, syntax, the
 * functions used, no use of itself or of a later derived column. Throws DeriveError for the first
 * problem. Names that are neither derived nor functions are assumed to be input columns, checked
 * once the data is known ({@link Deriver}).
 */
export function checkDerivations(specs: readonly DeriveSpec[]): void {
  bind(specs, undefined);
}

function parseAt(spec: DeriveSpec, i: number): ParsedExpression {
  try {
    return parseExpression(spec.expression);
  } catch (err) {
    if (err instanceof ExpressionError) throw new DeriveError(i, `${err.problem}${err.position !== undefined ? ` at character ${err.position} of ${JSON.stringify(spec.expression)}` : ` in ${JSON.stringify(spec.expression)}`}`);
    throw err;
  }
}

function bind(specs: readonly DeriveSpec[], columns: ReadonlyMap<string, ColumnType> | undefined): { bound: Bound[]; inputs: DeriveInput[] } {
  const inputs: DeriveInput[] = [];
  const inputSlot = new Map<string, number>();
  const derivedAt = new Map(specs.map((s, i) => [s.name, i]));
  const parsed: ParsedExpression[] = [];
  specs.forEach((spec, i) => {
    if (!isReferenceableName(spec.name)) {
      throw new DeriveError(i, RESERVED.has(spec.name) ? `"${spec.name}" is a function or operator name; choose another name` : 'a derived column name is letters, digits and _ (not starting with a digit), so that expressions can use it');
    }
    if (columns?.has(spec.name)) throw new DeriveError(i, `"${spec.name}" is already a column of the data; give the derived column another name`);
    if (derivedAt.get(spec.name) !== i) throw new DeriveError(i, `"${spec.name}" is derived twice`);
    const p = parseAt(spec, i);
    for (const name of p.names) {
      const at = derivedAt.get(name);
      if (at === i) throw new DeriveError(i, `uses itself ("${name}")`);
      if (at !== undefined && at > i) throw new DeriveError(i, `uses "${name}", which is derived after it; a derived column may only use columns derived before it (move "${name}" up)`);
      if (at !== undefined || columns === undefined) continue;
      const type = columns.get(name);
      if (type === undefined) {
        const hint = suggest(name, [...columns.keys(), ...specs.slice(0, i).map((s) => s.name)]);
        // A name that needs backticks is suggested as it must be written.
        const written = hint === undefined ? '' : isReferenceableName(hint) ? ` (did you mean "${hint}"?)` : ` (did you mean ${referenceOf(hint)}?)`;
        throw new DeriveError(i, `no column "${name}" in the dataset${written}`);
      }
      if (!DERIVE_INPUT_TYPES.includes(type)) throw new DeriveError(i, `"${name}" is a ${type} column; expressions read number, integer, boolean and datetime columns`);
      if (!inputSlot.has(name)) {
        inputSlot.set(name, inputs.length);
        inputs.push({ name, type });
      }
    }
    parsed.push(p);
  });
  // Slots: the inputs first, then the derived columns in order.
  const slotOf = (name: string) => inputSlot.get(name) ?? inputs.length + (derivedAt.get(name) ?? 0);
  const bound = parsed.map((p, i) => {
    const assign = (n: ExprNode): void => {
      if (n.t === 'var') n.slot = slotOf(n.name);
      else if (n.t === 'un') assign(n.a);
      else if (n.t === 'bin' || n.t === 'and' || n.t === 'or') {
        assign(n.a);
        assign(n.b);
      } else if (n.t === 'if') {
        assign(n.c);
        assign(n.a);
        assign(n.b);
      } else if (n.t === 'min' || n.t === 'max') n.args.forEach(assign);
    };
    assign(p.root);
    return { spec: specs[i]!, root: p.root, reads: p.names.map(slotOf) };
  });
  return { bound, inputs };
}

/**
 * Computes derived columns from input cells: the one code path of training (over a table), featurize,
 * `mlpipe predict` and the server (one record). Built from the expressions' text, parsed once.
 */
export class Deriver {
  readonly specs: readonly DeriveSpec[];
  /** The input columns read, in order of first use, with their types. */
  readonly inputs: readonly DeriveInput[];
  /** Derived column names, in order. */
  readonly names: readonly string[];
  private readonly bound: Bound[];
  private readonly env: Float64Array;

  /**
   * Parses and checks the expressions against the input columns' types. Throws DeriveError naming
   * the derived column (index) for an unknown name (with a suggestion), a name clash, an unreadable
   * column type, a syntax error or a forward reference.
   */
  constructor(specs: readonly DeriveSpec[], columns: ReadonlyMap<string, ColumnType>) {
    const { bound, inputs } = bind(specs, columns);
    this.specs = specs;
    this.bound = bound;
    this.inputs = inputs;
    this.names = specs.map((s) => s.name);
    this.env = new Float64Array(inputs.length + specs.length);
  }

  /**
   * Writes the derived values (NaN when missing) into `out[0 .. names.length)`, from the normalized
   * cells of {@link inputs} in order (`cells[k]` belongs to `inputs[k]`).
   */
  derive(cells: readonly Cell[], out: Float64Array): void {
    const env = this.env;
    const n = this.inputs.length;
    for (let k = 0; k < n; k++) env[k] = cellNumber(this.inputs[k]!.type, cells[k] ?? null);
    for (let j = 0; j < this.bound.length; j++) {
      const b = this.bound[j]!;
      let v = Number.NaN;
      if (!b.reads.some((slot) => Number.isNaN(env[slot] as number))) v = evaluate(b.root, env);
      // -0 and 0 are the same feature value; keep matrices and JSON identical.
      if (v === 0) v = 0;
      env[n + j] = v;
      out[j] = v;
    }
  }
}
