/** The population stability index (PSI) and how it reads. */
/** Bins without data count as this share in PSI (the usual floor; ln(0) has no value). */
const PSI_FLOOR = 1e-4;
/** The usual reading of PSI: below 0.1 no drift, 0.1–0.25 moderate, above 0.25 major. */
const PSI_MODERATE = 0.1;
const PSI_MAJOR = 0.25;

/** Population stability index of two distributions over the same bins (counts; each normalized, floored). */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  const e = expected.reduce((a, b) => a + b, 0);
  const a = actual.reduce((x, y) => x + y, 0);
  if (e <= 0 || a <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const p = Math.max(PSI_FLOOR, (expected[i] as number) / e);
    const q = Math.max(PSI_FLOOR, (actual[i] as number) / a);
    sum += (q - p) * Math.log(q / p);
  }
  return sum;
}

/** How a PSI reads: none (< 0.1), moderate (0.1–0.25) or major (> 0.25). */
export function driftLevel(value: number): 'none' | 'moderate' | 'major' {
  return value > PSI_MAJOR ? 'major' : value >= PSI_MODERATE ? 'moderate' : 'none';
}
