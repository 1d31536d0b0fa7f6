import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { EXAMPLES, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { CliContext } from './context.js';
import { createProgram } from './program.js';
import { expectOneLineError } from '../test-helpers/expect-cli.js';

const PENGUINS = join(EXAMPLES, 'penguins', 'penguins.csv');


describe('CLI (real process)', function () {
  this.timeout(180_000);
  let dir: string;
  let artifacts: string;
  const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts }, input });

  before(async () => {
    dir = await tempDir();
    artifacts = join(dir, 'store');
  });
  after(cleanupTempDirs);

  describe('happy paths, step by step', () => {
    it('load writes a typed dataset and a profile', async () => {
      const r = await cli(['load', PENGUINS, '--out', 'penguins.arrow', '--profile', 'profile.json']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('wrote penguins.arrow: 344 rows × 7 columns (Species: category, Island: category, Beak Length (mm): number');
      const profile = JSON.parse(await readFile(join(dir, 'profile.json'), 'utf8')) as { rows: number; columns: { name: string; missing: number }[] };
      expect(profile.rows).to.equal(344);
      expect(profile.columns.find((c) => c.name === 'Sex')?.missing).to.equal(10);
      const json = await cli(['load', PENGUINS, '--out', 'p2.arrow', '--json']);
      const doc = JSON.parse(json.stdout) as { rows: number; lineage: { source: { kind: string; sha256: string } } };
      expect(doc.rows).to.equal(344);
      expect(doc.lineage.source.kind).to.equal('file');
    });

    it('featurize says what it picked and writes the features folder', async () => {
      const r = await cli(['featurize', 'penguins.arrow', '--target', 'Species', '--out', 'features']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('target Species: classification with 3 classes');
      expect(r.stdout).to.contain('Island (category) → one-hot');
      expect(r.stdout).to.contain('Beak Length (mm) (number) → numeric: missing → median 44.45 + missing indicator');
      expect(r.stdout).to.contain('344 rows → 16 features');
      const schema = JSON.parse(await readFile(join(dir, 'features', 'input-schema.json'), 'utf8')) as { required: string[] };
      expect(schema.required).to.deep.equal([]);
    });

    it('featurize with a config takes target and feature choices from it', async () => {
      const r = await cli(['featurize', PENGUINS, '--config', join(EXAMPLES, 'penguins', 'pipeline.yaml'), '--out', 'features2', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const doc = JSON.parse(r.stdout) as { target: { name: string }; featureCount: number };
      expect(doc.target.name).to.equal('Species');
      expect(doc.featureCount).to.equal(16);
    });

    it('train reports holdout metrics against a baseline and writes the model folder', async () => {
      const r = await cli(['train', 'features', '--out', 'model', '--trees', '8', '--seed', '3']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/accuracy\s+(0\.\d+|1)\s+0\.\d+/);
      expect(r.stdout).to.contain('baseline (majority class)');
      expect(r.stdout).to.contain('confusion matrix');
      expect(r.stdout).to.contain('wrote model (8 trees, engine hist, seed 3');
      const metrics = JSON.parse(await readFile(join(dir, 'model', 'metrics.json'), 'utf8')) as { holdout: { testRows: number } };
      expect(metrics.holdout.testRows).to.equal(69);
    });

    it('train --cv --search --oob --json reports cross-validation, every trial and the out-of-bag score', async () => {
      const r = await cli(['train', 'features', '--out', 'model-cv', '--trees', '10', '--seed', '3', '--cv', '3', '--search', 'random', '--search-trials', '2', '--oob', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const doc = JSON.parse(r.stdout) as { engine: string; params: Record<string, unknown>; metrics: { crossValidation: { folds: number; perFold: unknown[]; summary: Record<string, { mean: number; std: number }> }; search: { trials: { params: Record<string, unknown> }[]; best: Record<string, unknown> }; oobScore: number } };
      expect(doc.engine).to.equal('hist');
      expect(doc.metrics.crossValidation.folds).to.equal(3);
      expect(doc.metrics.crossValidation.perFold).to.have.length(3);
      expect(doc.metrics.crossValidation.summary.accuracy!.mean).to.be.within(0.8, 1);
      expect(doc.metrics.search.trials).to.have.length(2);
      // the best trial's parameters are the ones trained with
      for (const [k, v] of Object.entries(doc.metrics.search.best)) expect(doc.params[k], k).to.deep.equal(v);
      expect(doc.metrics.oobScore).to.be.within(0.8, 1);
    });

    it('train --engine mljs trains with ml-random-forest itself', async () => {
      const r = await cli(['train', 'features', '--out', 'model-mljs', '--engine', 'mljs', '--trees', '5', '--seed', '3']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('engine mljs');
      const model = JSON.parse(await readFile(join(dir, 'model-mljs', 'model.json'), 'utf8')) as { engine: string; mljs: { name: string } };
      expect(model.engine).to.equal('mljs');
      expect(model.mljs.name).to.equal('RFClassifier');
    });

    it('package prints the path and the reference, versions go up, an existing version is refused', async () => {
      const r = await cli(['package', 'model', '--name', 'peng']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trimEnd().split('\n').pop()).to.equal('peng@1.0.0');
      expect((await cli(['package', 'model', '--name', 'peng'])).stdout.trimEnd().split('\n').pop()).to.equal('peng@1.0.1');
      expectOneLineError(await cli(['package', 'model', '--name', 'peng', '--version', '1.0.0']), 'peng@1.0.0 already exists');
    });

    it('bundles list, show, verify and promote', async () => {
      const list = await cli(['bundles', 'list']);
      expect(list.code, list.stderr).to.equal(0);
      expect(list.stdout).to.match(/peng@1\.0\.0\s+classification\s+Species/);
      const show = await cli(['bundles', 'show', 'peng@1.0.0']);
      expect(show.stdout).to.contain('task classification: predicts Species (category); classes Adelie, Chinstrap, Gentoo');
      expect(show.stdout).to.contain('model.json');
      const verify = await cli(['bundles', 'verify']);
      expect(verify.code, verify.stderr).to.equal(0);
      expect(verify.stdout).to.contain('ok peng@1.0.0 (11 files, 20 golden records identical)');
      const promote = await cli(['bundles', 'promote', 'peng@1.0.0', '--alias', 'production']);
      expect(promote.stdout.trim()).to.equal('peng@production → 1.0.0');
      const json = JSON.parse((await cli(['bundles', 'list', '--json'])).stdout) as { bundles: { version: string; aliases: string[] }[] };
      expect(json.bundles.find((b) => b.version === '1.0.0')?.aliases).to.deep.equal(['production']);
    });

    it('predict writes CSV with proba columns, JSON, NDJSON to stdout, and reads stdin', async () => {
      const csv = await cli(['predict', 'peng@production', '--input', PENGUINS, '--out', 'out.csv']);
      expect(csv.code, csv.stderr).to.equal(0);
      expect(csv.stderr).to.contain('predicted 344 rows with peng@1.0.0 → out.csv');
      const lines = (await readFile(join(dir, 'out.csv'), 'utf8')).trimEnd().split('\n');
      expect(lines[0]).to.equal('prediction,proba_Adelie,proba_Chinstrap,proba_Gentoo');
      expect(lines).to.have.length(345);
      const json = await cli(['predict', 'peng', '--input', PENGUINS, '--out', 'out.json', '--id', 'Island']);
      expect(json.code, json.stderr).to.equal(0);
      const records = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as { Island: string; prediction: string; probabilities: Record<string, number> }[];
      expect(records).to.have.length(344);
      expect(records[0]).to.have.keys(['Island', 'prediction', 'probabilities']);
      const first = (await readFile(PENGUINS, 'utf8')).split('\n').slice(0, 2).join('\n');
      const stdin = await cli(['predict', 'peng', '--input', '-'], first);
      expect(stdin.code, stdin.stderr).to.equal(0);
      const one = JSON.parse(stdin.stdout.trim()) as { prediction: string };
      expect(one.prediction).to.equal(records[0]?.prediction);
    });
  });

  describe('run', () => {
    it('runs a pipeline.yaml and prints the bundle reference last', async () => {
      const r = await cli(['run', join(EXAMPLES, 'cars', 'pipeline.yaml'), '--trees', '5']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trimEnd().split('\n').pop()).to.equal('cars-mpg@1.0.0');
      expect(r.stdout).to.contain('Name: dropped (dropped by the config)');
      expect(r.stdout).to.match(/r2\s+0\.\d+/);
    });

    it('runs a plain data file with --target and --name, --json gives the bundle', async () => {
      const r = await cli(['run', PENGUINS, '--target', 'Species', '--name', 'quick', '--trees', '3', '--seed', '1', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const doc = JSON.parse(r.stdout) as { bundle: string; task: string; params: { seed: number } };
      expect(doc.bundle).to.equal('quick@1.0.0');
      expect(doc.task).to.equal('classification');
      expect(doc.params.seed).to.equal(1);
    });
  });

  describe('errors', () => {
    it('a missing file: exit 1, one line, names the file', async () => {
      expectOneLineError(await cli(['load', 'nope.csv', '--out', 'x.arrow']), 'nope.csv: file not found');
    });

    it('an unknown target column: exit 1, suggests the right one', async () => {
      expectOneLineError(await cli(['featurize', 'penguins.arrow', '--target', 'species', '--out', 'f']), 'no column "species"', 'did you mean "Species"?');
    });

    it('a malformed CSV row: exit 1, names file, row, line and column, writes nothing', async () => {
      await writeFile(join(dir, 'bad.csv'), 'a,b,c\n1,2,3\n4,5\n7,8,9\n');
      expectOneLineError(await cli(['load', 'bad.csv', '--out', 'bad.arrow']), 'bad.csv: row 2 (line 3), column "c": expected 3 fields like the header, found 2');
      const again = await cli(['run', 'bad.csv', '--target', 'a', '--name', 'bad']);
      expectOneLineError(again, 'bad.csv: row 2 (line 3), column "c"');
    });

    it('a bad value in a predict input names its row and column (--on-bad-row fail)', async () => {
      const lines = (await readFile(PENGUINS, 'utf8')).split('\n');
      lines[3] = lines[3]!.replace(/,40\.3,/, ',forty,');
      await writeFile(join(dir, 'bad-input.csv'), lines.join('\n'));
      expectOneLineError(await cli(['predict', 'peng', '--input', 'bad-input.csv', '--on-bad-row', 'fail']), 'bad-input.csv: row 3 (line 4), column "Beak Length (mm)": expected a number, got "forty"');
    });

    it('an invalid config: exit 1 with the config path and line', async () => {
      await writeFile(join(dir, 'bad.yaml'), 'source: x.csv\ntarget: y\nmodel:\n  tress: 5\n');
      expectOneLineError(await cli(['run', 'bad.yaml']), 'model.tress: unknown setting (did you mean "trees"?)', '(line 4)');
    });

    it('a tampered bundle: verify exits 1 naming the file', async () => {
      const file = join(artifacts, 'peng', '1.0.1', 'metrics.json');
      const original = await readFile(file);
      await writeFile(file, Buffer.concat([original, Buffer.from(' ')]));
      try {
        expectOneLineError(await cli(['bundles', 'verify', 'peng@1.0.1']), 'metrics.json');
        expectOneLineError(await cli(['predict', 'peng@1.0.1', '--input', PENGUINS]), 'metrics.json');
      } finally {
        await writeFile(file, original);
      }
    });

    it('bad flags and unknown commands exit 2 with one line', async () => {
      for (const args of [['train', 'features', '--out', 'm', '--trees', 'many'], ['trian'], ['train', 'features'], ['load', 'x.csv', '--out', 'x', '--bogus'], ['serve', '--port', '99999']]) {
        const r = await cli(args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
        expect(r.stderr.trimEnd().split('\n'), r.stderr).to.have.length(1);
      }
    });

    it('--verbose adds the stack trace', async () => {
      const r = await cli(['load', 'nope.csv', '--out', 'x.arrow', '--verbose']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/\n\s+at /);
    });

    it('--help and --version exit 0', async () => {
      const help = await cli(['--help']);
      expect(help.code).to.equal(0);
      for (const c of ['load', 'featurize', 'train', 'package', 'init', 'run', 'predict', 'bundles', 'serve', 'report']) expect(help.stdout).to.contain(c);
      const version = await cli(['--version']);
      expect(version.stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
    });
  });
});

describe('CLI argument parsing (argv → options)', () => {
  /** Parses argv with every action replaced by a recorder. */
  async function parse(argv: string[]): Promise<{ command: string; args: unknown[]; opts: Record<string, unknown> }> {
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
    const program = createProgram(new CliContext(io));
    let seen: { command: string; args: unknown[]; opts: Record<string, unknown> } | undefined;
    const hook = (cmd: Command, path: string) => {
      for (const sub of cmd.commands) {
        const name = path ? `${path} ${sub.name()}` : sub.name();
        sub.action((...args: unknown[]) => {
          const c = args[args.length - 1] as Command;
          seen = { command: name, args: args.slice(0, -2), opts: c.opts() };
        });
        hook(sub, name);
      }
    };
    hook(program, '');
    await program.parseAsync(argv, { from: 'user' });
    if (!seen) throw new Error('no action ran');
    return seen;
  }

  /** What `mlpipe serve` with no flags parses to. */
  const SERVE_DEFAULTS = {
    port: 8080,
    host: '127.0.0.1',
    rateLimit: 600,
    batchRateLimit: 60,
    maxBatchRows: 10000,
    bodyLimit: '10mb',
    trustProxy: 0,
    shutdownTimeout: 10000,
    requestTimeout: 120000,
    headersTimeout: 66000,
    keepAliveTimeout: 65000,
    logFormat: 'json',
    logLevel: 'info',
    pollInterval: 10000,
    rowsPerMinute: 600000,
    redisPrefix: 'mlpipe:',
    redisFailure: 'open',
    maxInflight: 256,
    requestDeadline: 30000,
    workers: 1,
    streamStallTimeout: 30000,
  };
  const table: [string[], string, unknown[], Record<string, unknown>][] = [
    [['load', 'a.csv', '-o', 'a.arrow'], 'load', ['a.csv'], { out: 'a.arrow' }],
    [['load', '-', '--out', 'a.arrow', '--format', 'ndjson', '--json'], 'load', ['-'], { out: 'a.arrow', format: 'ndjson', json: true }],
    [['featurize', 'd.arrow', '--target', 'y', '--out', 'f', '--task', 'regression'], 'featurize', ['d.arrow'], { target: 'y', out: 'f', task: 'regression' }],
    [['train', 'f', '-o', 'm', '--seed', '7', '--trees', '50', '--max-features', '0.5', '--max-depth', '6', '--holdout', '0.25'], 'train', ['f'], { out: 'm', seed: 7, trees: 50, maxFeatures: 0.5, maxDepth: 6, holdout: 0.25 }],
    [['train', 'f', '-o', 'm', '--max-features', 'sqrt'], 'train', ['f'], { out: 'm', maxFeatures: 'sqrt' }],
    [['package', 'm', '--name', 'x', '--version', '1.2.3'], 'package', ['m'], { name: 'x', version: '1.2.3' }],
    [['init', 'd.csv', '-t', 'y', '-o', 'p.yaml', '--name', 'm', '--force'], 'init', ['d.csv'], { target: 'y', out: 'p.yaml', name: 'm', force: true }],
    [['schema'], 'schema', [], {}],
    [['schema', '-o', 'pipeline.schema.json'], 'schema', [], { out: 'pipeline.schema.json' }],
    [['run', 'p.yaml', '--seed', '1'], 'run', ['p.yaml'], { seed: 1 }],
    [['run', 'p.yaml', '--max-samples', '0.5', '--min-samples-leaf', '3', '--min-samples-split', '4', '--max-features', 'log2'], 'run', ['p.yaml'], { maxSamples: 0.5, minSamplesLeaf: 3, minSamplesSplit: 4, maxFeatures: 'log2' }],
    [['run', 'd.csv', '-t', 'y', '-n', 'x', '--work-dir', 'w'], 'run', ['d.csv'], { target: 'y', name: 'x', workDir: 'w' }],
    [['predict', 'x@1.0.0', '-i', 'in.csv', '-o', 'out.csv', '--id', 'key'], 'predict', ['x@1.0.0'], { input: 'in.csv', out: 'out.csv', id: 'key', onBadRow: 'null' }],
    [['predict', 'x', '-i', '-'], 'predict', ['x'], { input: '-', out: '-', onBadRow: 'null' }],
    [['predict', 'x', '-i', 'in.csv', '-o', 'o.csv', '--on-bad-row', 'skip', '--json'], 'predict', ['x'], { input: 'in.csv', out: 'o.csv', onBadRow: 'skip', json: true }],
    [['load', 'a.csv', '-o', 'a.arrow', '--on-bad-row', 'skip'], 'load', ['a.csv'], { out: 'a.arrow', onBadRow: 'skip' }],
    [
      ['predict', 'x', '-i', 'in.csv', '--featurizer-module', 'zip-prefix=lib/zip.ts'],
      'predict',
      ['x'],
      { input: 'in.csv', out: '-', onBadRow: 'null', featurizerModule: [{ name: 'zip-prefix', path: join(process.cwd(), 'lib', 'zip.ts'), origin: '--featurizer-module zip-prefix=lib/zip.ts' }] },
    ],
    [['bundles', 'verify', 'a', 'b@1.0.0'], 'bundles verify', [['a', 'b@1.0.0']], {}],
    [['bundles', 'promote', 'a@1.0.0', '--alias', 'production'], 'bundles promote', ['a@1.0.0', undefined], { alias: 'production' }],
    [['bundles', 'promote', 'a@1.0.0', 'production', '--if-better', 'a@production', '--on', 'e.csv'], 'bundles promote', ['a@1.0.0', 'production'], { ifBetter: 'a@production', on: 'e.csv' }],
    [['bundles', 'rollback', 'a', 'production'], 'bundles rollback', ['a', 'production'], {}],
    [['bundles', 'history', 'a', '--alias', 'staging', '--json'], 'bundles history', ['a'], { alias: 'staging', json: true }],
    [['bundles', 'diff', 'a@1.0.0', 'b'], 'bundles diff', ['a@1.0.0', 'b'], {}],
    [['bundles', 'gc', 'a', '--keep', '2', '--dry-run'], 'bundles gc', ['a'], { keep: 2, dryRun: true }],
    [['bundles', 'gc'], 'bundles gc', [undefined], {}],
    [['bundles', 'compare', 'a', 'a@production', '--on', 'e.arrow', '--metric', 'rmse', '--max-drop', '0.5'], 'bundles compare', ['a', 'a@production'], { on: 'e.arrow', metric: 'rmse', maxDrop: 0.5 }],
    [
      ['serve', 'a', 'b', '--port', '0', '--rate-limit', '100', '--batch-rate-limit', '5', '--max-batch-rows', '50', '--body-limit', '1mb', '--trust-proxy', '1'],
      'serve',
      [['a', 'b']],
      { ...SERVE_DEFAULTS, port: 0, rateLimit: 100, batchRateLimit: 5, maxBatchRows: 50, bodyLimit: '1mb', trustProxy: 1 },
    ],
    [['client', 'churn', 'cars@1.0.0', '-o', '-', '--base-url', 'http://127.0.0.1:8080'], 'client', [['churn', 'cars@1.0.0']], { out: '-', baseUrl: 'http://127.0.0.1:8080' }],
    [['serve', '--workers', '4', '--stream-stall-timeout', '500'], 'serve', [[]], { ...SERVE_DEFAULTS, workers: 4, streamStallTimeout: 500 }],
    [['serve'], 'serve', [[]], SERVE_DEFAULTS],
    [
      ['serve', '--featurizer-module', 'zip-prefix=lib/zip.ts', '--featurizer-module', 'ratio-2=/opt/f/ratio.mjs'],
      'serve',
      [[]],
      {
        ...SERVE_DEFAULTS,
        featurizerModule: [
          { name: 'zip-prefix', path: join(process.cwd(), 'lib', 'zip.ts'), origin: '--featurizer-module zip-prefix=lib/zip.ts' },
          { name: 'ratio-2', path: '/opt/f/ratio.mjs', origin: '--featurizer-module ratio-2=/opt/f/ratio.mjs' },
        ],
      },
    ],
  ];
  for (const [argv, command, args, opts] of table) {
    it(argv.join(' '), async () => {
      const got = await parse(argv);
      expect(got.command).to.equal(command);
      expect(got.args).to.deep.equal(args);
      expect(got.opts).to.deep.equal(opts);
    });
  }

  it('forest flags refuse a value outside its declaration (core/models/params.ts), in its words', async () => {
    const cases: [string[], string][] = [
      [['train', 'f', '-o', 'm', '--max-samples', '1.5'], 'expected a fraction in (0, 1] or a whole count, got "1.5"'],
      [['run', 'p.yaml', '--max-features', '2.5'], 'expected sqrt, log2, all, a fraction in (0, 1) or a whole count, got "2.5"'],
      [['train', 'f', '-o', 'm', '--min-samples-split', '1'], 'expected a whole number ≥ 2, got "1"'],
      [['train', 'f', '-o', 'm', '--seed', '2147483648'], 'expected a whole number from 0 to 2147483647, got "2147483648"'],
      [['train', 'f', '-o', 'm', '--trees', ''], 'expected a whole number from 1 to 10000, got ""'],
    ];
    for (const [argv, message] of cases) {
      const err = await parse(argv).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message, argv.join(' ')).to.contain(message);
    }
  });

  it('init --name refuses a bundle name by the one rule (core/bundle/names.ts), length included', async () => {
    for (const [name, message] of [['a b', '"a b" is not a valid bundle name'], ['x'.repeat(101), 'is too long for a bundle name (at most 100 characters']]) {
      const err = await parse(['init', 'd.csv', '-t', 'y', '-o', 'p.yaml', '--name', name!]).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message, name).to.contain(message);
    }
  });

  it('serve limits also come from MLPIPE_* environment variables', async () => {
    const saved = { ...process.env };
    const env = {
      MLPIPE_RATE_LIMIT: '42',
      MLPIPE_MAX_BATCH_ROWS: '7',
      MLPIPE_BODY_LIMIT: '2mb',
      MLPIPE_PORT: '9999',
      MLPIPE_MAX_FIELDS: '300',
      MLPIPE_REQUEST_TIMEOUT: '30000',
      MLPIPE_HEADERS_TIMEOUT: '20000',
      MLPIPE_KEEP_ALIVE_TIMEOUT: '5000',
      MLPIPE_WORKERS: '3',
    };
    Object.assign(process.env, env);
    try {
      const got = await parse(['serve']);
      expect(got.opts).to.include({ rateLimit: 42, maxBatchRows: 7, bodyLimit: '2mb', port: 9999, maxFields: 300, requestTimeout: 30000, headersTimeout: 20000, keepAliveTimeout: 5000, workers: 3 });
    } finally {
      for (const k of Object.keys(env)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
