import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

/**
 * The reliability suite's counters (issue 11). Each reliability test adds what it did to one file,
 * `$MLPIPE_RELIABILITY_COUNTS` (one JSON object a line); `scripts/reliability-summary.ts` adds them up
 * for `make reliability`. Outside that target the counts go nowhere and the tests run as usual.
 */
export interface ReliabilityCounts {
  /** Generated or hand-made cases tried (property-test runs, fault scenarios, hostile inputs). */
  cases?: number;
  /** Of those, the ones whose outcome was what mlpipe promises. */
  passed?: number;
  /** HTTP requests sent to a server under test. */
  requests?: number;
  /** Answers with a 5xx status among those requests. */
  fiveXx?: number;
  /** Faults survived: a process killed, a database connection cut, a server restarted. */
  restarts?: number;
}

/** Adds counts for the named check (a test or a group of them) to the run's tally. */
export function countReliability(check: string, counts: ReliabilityCounts): void {
  const out = process.env.MLPIPE_RELIABILITY_COUNTS;
  if (!out) return;
  appendFileSync(out, `${JSON.stringify({ check, ...counts })}\n`);
}

/**
 * How hard the reliability tests push: `full` under `make reliability` (MLPIPE_RELIABILITY=full: the
 * issue's sizes, e.g. 10,000 fuzzed requests and 60 s of load), `quick` inside `make test`, sized so
 * the whole suite stays well inside CI's time.
 */
export function reliabilityScale(): 'full' | 'quick' {
  return process.env.MLPIPE_RELIABILITY === 'full' ? 'full' : 'quick';
}

/** `quick` in `make test`, `full` under `make reliability`. */
export function byScale<T>(quick: T, full: T): T {
  return reliabilityScale() === 'full' ? full : quick;
}

/**
 * Property tests (fast-check) draw from a fixed seed in `make test`, so CI runs the same cases every
 * time; `make reliability` draws a new seed each run to explore further (a failure prints its seed and
 * path; MLPIPE_PROPERTY_SEED=<seed> replays it).
 */
const seed = process.env.MLPIPE_PROPERTY_SEED ? Number(process.env.MLPIPE_PROPERTY_SEED) : reliabilityScale() === 'quick' ? 20261207 : undefined;
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
