/**
 * Writes bench/accuracy/reference.json, the scikit-learn scores test/accuracy.test.ts compares
 * mlpipe with (`make accuracy-reference`; needs Debian's python3-sklearn: `make bench-deps`).
 *
 *   node --import tsx bench/accuracy/reference.ts            the reference, then mlpipe beside it
 *   node --import tsx bench/accuracy/reference.ts --compare  only mlpipe beside the committed reference
 *
 * For each table and seed it computes the holdout split `mlpipe run --seed <seed>` makes (mlpipe's
 * own loader and holdoutSplit, as train.ts calls it) and hands the row numbers to
 * bench/accuracy/sklearn_reference.py, which reads the table with pandas, fits the scikit-learn
 * equivalent of mlpipe's automatic featurizers on the training rows and scores a RandomForest with
 * mlpipe's default parameters once per forest seed. The test never runs Python: it reads the JSON.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultForestParams } from '../../src/core/models/params.js';
import { ROOT } from '../../src/test-helpers/fixtures.js';
import {
  type AccuracyDataset,
  HOLDOUT,
  REFERENCE_FILE,
  type Reference,
  type ReferenceDataset,
  VEGA_DATA,
  loadTable,
  mlpipeHoldoutScore,
  mlpipeSplit,
  readReference,
  rowsSha256,
} from '../../src/test-helpers/accuracy.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'bench', 'accuracy', 'sklearn_reference.py');
/**
 * Split seeds: each is one `mlpipe run --seed N` in the test, and its mean over them is compared.
 * Three for the small tables (one row of penguins' 69 test rows is 1.4 points); fewer for the big
 * ones, whose test sets are larger (birdstrikes 2,000 rows, movies 598) and whose runs are slower
 * (birdstrikes ~4 s; movies ~9 s: 100 regression trees over 111 features, grown twice, for the
 * holdout and the final model).
 */
const SEEDS = [1, 2, 3];
/** scikit-learn forests per split: their mean is the reference, so its own forest noise is small. */
const FOREST_SEEDS = [0, 1, 2, 3, 4];

const DATASETS: AccuracyDataset[] = [
  {
    id: 'penguins',
    file: 'penguins.json',
    target: 'Species',
    seeds: SEEDS,
    dates: {},
    covers: 'multiclass (3); missing values; column names with spaces and parentheses; a stray "." category',
  },
  {
    id: 'weather-location',
    file: 'weather.csv',
    target: 'location',
    seeds: SEEDS,
    dates: { date: '%Y-%m-%d' },
    covers: 'binary (Seattle or New York from a day\'s weather); a date column',
  },
  {
    id: 'seattle-weather',
    file: 'seattle-weather.csv',
    target: 'weather',
    seeds: SEEDS,
    dates: { date: '%Y-%m-%d' },
    covers: 'multiclass (5, imbalanced: 53 drizzle, 101 fog days); a date column',
  },
  {
    id: 'cars-mpg',
    file: 'cars.json',
    target: 'Miles_per_Gallon',
    seeds: SEEDS,
    dates: { Year: '%Y-%m-%d' },
    covers: 'regression; missing targets (8 rows) and inputs; a date; a category of 311 values (Name)',
  },
  {
    id: 'birdstrikes-size',
    file: 'birdstrikes.csv',
    target: 'Wildlife Size',
    seeds: [1],
    dates: { 'Flight Date': '%Y-%m-%d' },
    covers:
      'multiclass (3) decided by a category: the species (37 values; without the categories scikit-learn scores 0.54); categories of 225, 50 and 46 values; names like "Cost Total $"; a date; 28% of a column missing',
  },
  {
    id: 'movies-imdb',
    file: 'movies.json',
    target: 'IMDB Rating',
    seeds: [1],
    dates: { 'Release Date': '%b %d %Y' },
    covers:
      'regression; missing targets (213 rows) and inputs (up to 82% of a column); categories of 174 and 550 values; dates like "Jun 12 1998"; names with spaces',
  },
];

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface PythonDataset {
  id: string;
  metric: 'accuracy' | 'r2';
  plan: ReferenceDataset['sklearnPlan'];
  splits: { seed: number; trainRows: number; testRows: number; features: number; scores: number[]; mean: number; std: number }[];
}

async function buildReference(): Promise<Reference> {
  const trees = defaultForestParams('classification').trees;
  if (defaultForestParams('regression').trees !== trees) throw new Error('the default tree counts of the two tasks differ: give each table its own');
  const prepared = [];
  for (const d of DATASETS) {
    const table = await loadTable(d);
    const splits = d.seeds.map((seed) => ({ seed, ...mlpipeSplit(table, seed) }));
    prepared.push({ d, table, splits });
  }
  const work = await mkdtemp(join(tmpdir(), 'mlpipe-accuracy-'));
  try {
    const spec = {
      trees,
      forestSeeds: FOREST_SEEDS,
      datasets: prepared.map(({ d, table, splits }) => ({
        id: d.id,
        path: join(VEGA_DATA, d.file),
        rows: table.rows,
        target: d.target,
        task: table.task,
        dates: d.dates,
        splits,
      })),
    };
    const specFile = join(work, 'spec.json');
    await writeFile(specFile, JSON.stringify(spec));
    console.log(`scikit-learn: ${DATASETS.length} tables × ${SEEDS.length} or fewer splits × ${FOREST_SEEDS.length} forests of ${trees} trees …`);
    const run = spawnSync(PYTHON, [SCRIPT, specFile], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
    if (run.error) throw new Error(`${PYTHON}: ${run.error.message} (make bench-deps installs Debian's python3-sklearn)`);
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean; error?: string; versions: Record<string, string>; datasets: PythonDataset[] };
    if (!out.ok) throw new Error(`sklearn_reference.py: ${out.error}`);
    const pkg = JSON.parse(await readFile(join(ROOT, 'node_modules', 'vega-datasets', 'package.json'), 'utf8')) as { version: string };
    const datasets: ReferenceDataset[] = prepared.map(({ d, table, splits }, k) => {
      const py = out.datasets[k]!;
      if (py.id !== d.id) throw new Error(`sklearn_reference.py answered ${py.id} for ${d.id}`);
      const refSplits = splits.map((s, j) => {
        const ps = py.splits[j]!;
        if (ps.seed !== s.seed || ps.testRows !== s.test.length) throw new Error(`${d.id} seed ${s.seed}: Python scored another split`);
        return {
          seed: s.seed,
          trainRows: s.train.length,
          testRows: s.test.length,
          testSha256: rowsSha256(s.test),
          sklearn: { scores: ps.scores.map(round4), mean: round4(ps.mean), std: round4(ps.std), features: ps.features },
        };
      });
      return {
        ...d,
        task: table.task,
        metric: py.metric,
        rows: table.rows,
        rowsWithTarget: table.withTarget.length,
        sklearnPlan: py.plan,
        splits: refSplits,
        sklearnMean: round4(py.splits.reduce((a, s) => a + s.mean, 0) / py.splits.length),
      };
    });
    return {
      about:
        "scikit-learn's holdout scores on the splits `mlpipe run --seed N` makes, with the scikit-learn equivalent of mlpipe's automatic featurizers and mlpipe's default forest; test/accuracy.test.ts compares mlpipe with them",
      command: 'make accuracy-reference  (node --import tsx bench/accuracy/reference.ts; needs make bench-deps)',
      generated: new Date().toISOString().slice(0, 10),
      versions: {
        python: out.versions.python!,
        sklearn: out.versions.sklearn!,
        numpy: out.versions.numpy!,
        pandas: out.versions.pandas!,
        vegaDatasets: pkg.version,
        mlpipeCommit: git(['describe', '--always', '--dirty']),
      },
      holdout: HOLDOUT,
      trees,
      forestSeeds: FOREST_SEEDS,
      datasets,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** mlpipe beside the reference, per seed and on average: the README's table. */
async function compare(reference: Reference): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mlpipe-accuracy-'));
  try {
    const rows: string[] = [];
    for (const d of reference.datasets) {
      const mine: number[] = [];
      const perSeed: string[] = [];
      const started = Date.now();
      for (const s of d.splits) {
        const m = await mlpipeHoldoutScore(d, s.seed, work);
        mine.push(m.score);
        perSeed.push(`seed ${s.seed}: ${m.score.toFixed(4)} vs ${s.sklearn.mean.toFixed(4)} (± ${s.sklearn.std.toFixed(4)})`);
      }
      const mean = mine.reduce((a, b) => a + b, 0) / mine.length;
      console.log(`${d.id} (${((Date.now() - started) / 1000).toFixed(1)} s): ${perSeed.join('; ')}; mean ${mean.toFixed(4)} vs ${d.sklearnMean.toFixed(4)} (${signed(mean - d.sklearnMean)})`);
      rows.push(`| ${d.id} | ${d.task} | ${d.rowsWithTarget} | ${d.metric} | ${mean.toFixed(4)} | ${d.sklearnMean.toFixed(4)} | ${signed(mean - d.sklearnMean)} |`);
    }
    console.log('\n| table | task | rows | metric | mlpipe | scikit-learn | difference |\n|---|---|---|---|---|---|---|');
    console.log(rows.join('\n'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
}

async function main(): Promise<void> {
  const compareOnly = process.argv.includes('--compare');
  let reference: Reference;
  if (compareOnly) {
    reference = await readReference();
  } else {
    reference = await buildReference();
    await writeFile(REFERENCE_FILE, `${JSON.stringify(reference, null, 2)}\n`);
    console.log(`wrote ${REFERENCE_FILE} (scikit-learn ${reference.versions.sklearn})`);
  }
  await compare(reference);
}

await main();
