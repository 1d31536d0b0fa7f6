/**
 * A process that writes one chunk of predictions into an SQL table with sqlSink, for the test that
 * kills it mid-run (sql-sink.test.ts). Run with `npx tsx sql-sink-child.ts <url> <table> <mode>`:
 * mode `finish` commits and exits; mode `hang` prints `wrote` after its first chunk and waits to be killed.
 */
import { sqlSink } from '../core/predictor/sql-sink.js';

const [url, table, mode] = process.argv.slice(2);
if (!url || !table || (mode !== 'finish' && mode !== 'hang')) {
  process.stderr.write('usage: sql-sink-child.ts <url> <table> finish|hang\n');
  process.exit(2);
}

const sink = sqlSink({ url, table, env: process.env, columns: { classes: ['no', 'yes'], labels: ['no', 'yes'], task: 'classification', withErrors: false } });
await sink.write({
  first: 1,
  size: 3,
  good: [0, 1, 2],
  records: [{}, {}, {}],
  outputs: { values: Float64Array.of(0, 1, 1), proba: Float64Array.of(0.9, 0.1, 0.2, 0.8, 0.4, 0.6) },
  bad: new Map(),
});
if (mode === 'finish') {
  await sink.finish();
  process.stdout.write('finished\n');
} else {
  process.stdout.write('wrote\n');
  setInterval(() => {}, 60_000);
}
