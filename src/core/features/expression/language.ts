/**
 * The expression language of derived columns (`features.derive` in pipeline.yaml): its operators and
 * functions, the tree a parsed expression becomes, and its errors. Parsing is in parse.ts, backtick
 * quoting of names in names.ts, evaluation in evaluate.ts; derive.ts computes derived columns with it.
 *
 * Grammar: numbers; input column names and earlier derived names (identifiers: letters, digits, `_`;
 * any other name in backticks, as in pandas' `DataFrame.eval`: `` `Miles per Gallon` / Weight ``, a
 * backtick inside one doubled: `` `a``b` `` is the column a`b);
 * `+ - * / % ^` (power), unary `-`/`+`; `== != < <= > >=` (1 or 0); `and`, `or`, `not` (non-zero is
 * true; 1 or 0); `log` (natural), `exp`, `sqrt`, `abs`, `round`, `floor`, `ceil` of one argument;
 * `min(a, b, …)`, `max(a, b, …)`; `if(condition, then, else)`. Precedence, loosest first:
 * `or`, `and`, comparisons, `+ -`, `* / %`, unary `- + not`, `^`.
 */

/** Longest expression accepted (characters): bounds parse time and recursion depth. */
export const MAX_EXPRESSION_LENGTH = 1000;

/** A unary operator or function of one argument. */
export type UnaryOp = '-' | '+' | 'not' | 'sqrt' | 'log' | 'abs' | 'ceil' | 'floor' | 'round' | 'exp';

type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

/** The operators and functions of one argument, by name. */
export const UNARY: Record<UnaryOp, (x: number) => number> = {
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

/** The operators of two arguments (`and` and `or` short-circuit, evaluate.ts has them). */
export const BINARY: Record<Exclude<BinaryOp, 'and' | 'or'>, (a: number, b: number) => number> = {
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
export const CALLS: Record<string, { min: number; max: number }> = {
  min: { min: 1, max: 100 },
  max: { min: 1, max: 100 },
  if: { min: 3, max: 3 },
};

/** Every function name (unary operators written as calls, and `min`/`max`/`if`). */
export const FUNCTION_NAMES: readonly string[] = [...Object.keys(UNARY).filter((k) => /^[a-z]/.test(k) && k !== 'not'), ...Object.keys(CALLS)];

/** Names the parser reserves: neither a column nor a derived column may be referenced by them. */
export const RESERVED = new Set([...FUNCTION_NAMES, 'not', 'and', 'or']);

/** Names of JavaScript object internals: refused outright, whatever the data holds. */
export const FORBIDDEN = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

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
