import type { ExprNode } from './language.js';

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
