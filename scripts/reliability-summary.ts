/**
 * Adds up the reliability suite's counters (src/test-helpers/reliability.ts) for `make reliability`:
 * prints cases tried and passed, requests sent, 5xx answers seen, faults survived and the tests' own
 * pass/fail count, one line each check and one line in all. Exits 1 when a test failed, a case did not
 * pass or any 5xx was seen; 0 otherwise.
 *
 * Usage: node --import tsx scripts/reliability-summary.ts <counts.ndjson> <mocha-results.json> <mocha exit code>
 */
import { existsSync, readFileSync } from 'node:fs';

interface Line {
  check: string;
  cases?: number;
  passed?: number;
  requests?: number;
  fiveXx?: number;
  restarts?: number;
}

const [countsFile, resultsFile, mochaStatus] = process.argv.slice(2);
if (!countsFile || !resultsFile) {
  console.error('usage: reliability-summary.ts <counts.ndjson> <mocha-results.json> <mocha exit code>');
  process.exit(2);
}
const lines: Line[] = existsSync(countsFile)
  ? readFileSync(countsFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Line)
  : [];
const byCheck = new Map<string, Required<Omit<Line, 'check'>>>();
for (const l of lines) {
  const t = byCheck.get(l.check) ?? { cases: 0, passed: 0, requests: 0, fiveXx: 0, restarts: 0 };
  t.cases += l.cases ?? 0;
  t.passed += l.passed ?? 0;
  t.requests += l.requests ?? 0;
  t.fiveXx += l.fiveXx ?? 0;
  t.restarts += l.restarts ?? 0;
  byCheck.set(l.check, t);
}
const total = { cases: 0, passed: 0, requests: 0, fiveXx: 0, restarts: 0 };
console.log('\nreliability suite');
for (const [check, t] of [...byCheck].sort((a, b) => a[0].localeCompare(b[0]))) {
  for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += t[k];
  const parts = [`${t.passed}/${t.cases} cases passed`];
  if (t.requests) parts.push(`${t.requests} requests`, `${t.fiveXx} 5xx`);
  if (t.restarts) parts.push(`${t.restarts} faults survived`);
  console.log(`  ${check}: ${parts.join(', ')}`);
}
const results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { passes: number; failures: number }) : { passes: 0, failures: 0 };
console.log(
  `cases tried ${total.cases}, passed ${total.passed}; requests sent ${total.requests}; 5xx seen ${total.fiveXx}; restarts survived ${total.restarts}; tests ${results.passes} passed, ${results.failures} failed`,
);
const failed = Number(mochaStatus ?? 1) !== 0 || results.failures > 0 || total.passed < total.cases || total.fiveXx > 0 || lines.length === 0;
if (failed) console.log('reliability: FAILED');
process.exit(failed ? 1 : 0);
