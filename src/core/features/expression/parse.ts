/**
 * Parsing an expression (the language of language.ts): with expr-eval-fork, restricted to our
 * operators and functions, then turned into a tree of our own ({@link ExprNode}) that is evaluated by
 * walking it. Nothing is ever compiled to JavaScript (no `toJSFunction`, no `eval`, no `new Function`)
 * and no property of any object is read.
 */
import { Parser } from 'expr-eval-fork';
import { suggest } from '../../suggest.js';
import {
  BINARY,
  CALLS,
  type ExprNode,
  ExpressionError,
  FORBIDDEN,
  FUNCTION_NAMES,
  MAX_EXPRESSION_LENGTH,
  type ParsedExpression,
  UNARY,
  type UnaryOp,
} from './language.js';
import { IDENTIFIER, type Quoted, referenceOf, unquote } from './names.js';

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

/**
 * Parses an expression of the language described in language.ts. Throws ExpressionError
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
