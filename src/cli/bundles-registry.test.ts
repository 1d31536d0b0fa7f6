/**
 * The registry and the CI quality gate through the real CLI (bin/mlpipe as a process, a folder store):
 * promote / rollback / history, gc, diff, compare, promote --if-better, and the golden records' skew
 * gate in bundles verify and serve.
 */
import { expect } from 'chai';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { skewIslandCategories } from '../test-helpers/bundle.js';
import type { AliasEvent } from '../core/bundle/store.js';
import type { BundleDiff } from '../core/bundle/diff.js';
import type { CompareResult } from '../core/pipeline/compare.js';
import { expectOneLineError } from '../test-helpers/expect-cli.js';

const PENGUINS = join(EXAMPLES, 'penguins', 'penguins.csv');


describe('bundles registry and quality gate (real process)', function () {
  this.timeout(240_000);
  let dir: string;
  let artifacts: string;
  const cli = (args: string[], user = 'alice', env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_USER: user, ...env } });
  const ok = async (args: string[], user?: string) => {
    const r = await cli(args, user);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r;
  };
  const aliases = async () => JSON.parse(await readFile(join(artifacts, 'penguins', 'aliases.json'), 'utf8')) as Record<string, string>;
  const history = async () => (JSON.parse((await ok(['bundles', 'history', 'penguins', '--json'])).stdout) as { events: AliasEvent[] }).events;

  before(async () => {
    dir = await tempDir();
    artifacts = join(dir, 'store');
    // 1.0.0 and 1.0.1: good forests with different parameters; 1.0.2: deliberately worse (1 tree of depth 1).
    await ok(['run', PENGUINS, '--target', 'Species', '--name', 'penguins', '--trees', '10', '--seed', '1']);
    await ok(['run', PENGUINS, '--target', 'Species', '--name', 'penguins', '--trees', '20', '--seed', '2']);
    await ok(['run', PENGUINS, '--target', 'Species', '--name', 'penguins', '--trees', '1', '--max-depth', '1', '--seed', '3']);
    // A featurizer change: Island ordinal instead of one-hot, Sex dropped.
    await writeFile(
      join(dir, 'changed.yaml'),
      `name: penguins-changed\nsource: ${JSON.stringify(PENGUINS)}\ntarget: Species\nseed: 1\nfeatures:\n  drop: [Sex]\n  columns:\n    Island: {kind: ordinal}\nmodel:\n  trees: 10\n`,
    );
    await ok(['run', 'changed.yaml']);
  });
  after(cleanupTempDirs);

  describe('promote, rollback, history', () => {
    it('promote takes the alias as an argument or --alias; each change is in the history, in order, with who made it', async () => {
      expect((await ok(['bundles', 'promote', 'penguins@1.0.0', 'production'], 'alice')).stdout.trim()).to.equal('penguins@production → 1.0.0');
      expect((await ok(['bundles', 'promote', 'penguins@1.0.1', '--alias', 'production'], 'bob')).stdout.trim()).to.equal('penguins@production → 1.0.1 (was 1.0.0)');
      expect((await ok(['bundles', 'promote', 'penguins@1.0.1', 'staging'], 'carol')).stdout.trim()).to.equal('penguins@staging → 1.0.1');
      // the same target again: nothing written, nothing in the history
      expect((await ok(['bundles', 'promote', 'penguins@1.0.1', 'staging'], 'carol')).stdout.trim()).to.equal('penguins@staging → 1.0.1 (already)');
      expect(await aliases()).to.deep.equal({ production: '1.0.1', staging: '1.0.1' });
      const events = await history();
      expect(events.map((e) => [e.by, e.alias, e.from, e.to, e.action])).to.deep.equal([
        ['alice', 'production', null, '1.0.0', 'promote'],
        ['bob', 'production', '1.0.0', '1.0.1', 'promote'],
        ['carol', 'staging', null, '1.0.1', 'promote'],
      ]);
      expect(Date.parse(events[0]!.at)).to.be.at.most(Date.parse(events[2]!.at));
      const table = await ok(['bundles', 'history', 'penguins', '--alias', 'production']);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).to.match(/when\s+who\s+alias\s+from\s+to\s+action/);
      expect(lines).to.have.length(3);
      expect(lines[1]).to.match(/alice\s+production\s+—\s+1\.0\.0\s+promote/);
      expect(lines[2]).to.match(/bob\s+production\s+1\.0\.0\s+1\.0\.1\s+promote/);
    });

    it('promote refuses bad input with one line (or a usage error) and changes nothing', async () => {
      const before = await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8');
      expectOneLineError(await cli(['bundles', 'promote', join(artifacts, 'penguins', '1.0.0'), 'production']), 'only bundles inside the store');
      expectOneLineError(await cli(['bundles', 'promote', 'penguins@9.9.9', 'production']), 'no version 9.9.9');
      expectOneLineError(await cli(['bundles', 'promote', 'penguins@1.0.0', '1.0.0']), 'not a valid alias');
      expect((await cli(['bundles', 'promote', 'penguins@1.0.0', 'production', '--alias', 'staging'])).code).to.equal(2);
      expect((await cli(['bundles', 'promote', 'penguins@1.0.0'])).code).to.equal(2);
      expect((await cli(['bundles', 'promote', 'penguins@1.0.0', 'production', '--on', PENGUINS])).code).to.equal(2);
      expect(await aliases()).to.deep.equal({ production: '1.0.1', staging: '1.0.1' });
      expect(await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8')).to.equal(before);
    });

    it('rollback points the alias back to its previous target, recorded as rollback; a second one goes further back or says there is nothing', async () => {
      await ok(['bundles', 'promote', 'penguins@1.0.2', 'production'], 'bob');
      expect((await ok(['bundles', 'rollback', 'penguins', 'production'], 'dave')).stdout.trim()).to.equal('penguins@production → 1.0.1 (rolled back from 1.0.2)');
      expect((await ok(['bundles', 'rollback', 'penguins', 'production'], 'dave')).stdout.trim()).to.equal('penguins@production → 1.0.0 (rolled back from 1.0.1)');
      expect((await aliases()).production).to.equal('1.0.0');
      const last = (await history()).slice(-2);
      expect(last.map((e) => [e.by, e.alias, e.from, e.to, e.action])).to.deep.equal([
        ['dave', 'production', '1.0.2', '1.0.1', 'rollback'],
        ['dave', 'production', '1.0.1', '1.0.0', 'rollback'],
      ]);
      const before = await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8');
      expectOneLineError(await cli(['bundles', 'rollback', 'penguins', 'production']), 'penguins@production → 1.0.0: nothing to roll back to', 'first set to 1.0.0 (promote by alice');
      expectOneLineError(await cli(['bundles', 'rollback', 'penguins', 'canary']), 'penguins@canary: no such alias', 'aliases: production, staging');
      expectOneLineError(await cli(['bundles', 'rollback', 'pengiuns', 'production']), 'no bundle named "pengiuns"', 'did you mean "penguins"');
      expect(await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8')).to.equal(before);
      const json = JSON.parse((await ok(['bundles', 'promote', 'penguins@1.0.1', 'production', '--json'], 'erin')).stdout) as { promoted: boolean; from: string; to: string };
      expect(json).to.include({ promoted: true, from: '1.0.0', to: '1.0.1' });
    });
  });

  describe('diff', () => {
    it('shows the parameters, metrics, lineage and files of two bundles trained with different parameters', async () => {
      const r = await ok(['bundles', 'diff', 'penguins@1.0.0', 'penguins@1.0.1']);
      expect(r.stdout).to.contain('parameters:\n  trees: 10 → 20\n  seed: 1 → 2\n');
      expect(r.stdout).to.match(/model\s+accuracy\s+\S+\s+\S+\s+\S+/);
      expect(r.stdout).to.match(/baseline\s+accuracy\s+\S+\s+\S+/);
      expect(r.stdout).to.contain('featurizers: same');
      expect(r.stdout).to.contain('input schema: same');
      expect(r.stdout).to.match(/dataset fingerprint: same \(sha256:[0-9a-f]{64}\)/);
      expect(r.stdout).to.match(/files: \d+ same, \d+ changed, 0 added, 0 removed/);
      const d = JSON.parse((await ok(['bundles', 'diff', 'penguins@1.0.0', join(artifacts, 'penguins', '1.0.1'), '--json'])).stdout) as BundleDiff;
      expect(d.a.ref).to.equal('penguins@1.0.0');
      expect(d.b.ref).to.equal('penguins@1.0.1');
      expect(d.params).to.deep.equal([
        { name: 'trees', a: 10, b: 20 },
        { name: 'seed', a: 1, b: 2 },
      ]);
      const accuracy = d.metrics.find((m) => m.of === 'model' && m.metric === 'accuracy')!;
      expect(accuracy.difference).to.be.closeTo(accuracy.b! - accuracy.a!, 1e-12);
      expect(d.files.changed).to.include.members(['model.bin', 'model.json', 'metrics.json', 'golden.json']);
      expect(d.files.same).to.include.members(['featurizer.json', 'input-schema.json']);
      expect(d.lineage.find((l) => l.name === 'rows')).to.deep.equal({ name: 'rows', a: 344, b: 344, same: true });
    });

    it('shows featurizers and input fields added, removed and changed', async () => {
      const d = JSON.parse((await ok(['bundles', 'diff', 'penguins@1.0.0', 'penguins-changed@1.0.0', '--json'])).stdout) as BundleDiff;
      expect(d.featurizers.removed.map((s) => s.column)).to.deep.equal(['Sex']);
      expect(d.featurizers.changed.find((c) => c.column === 'Island')?.what).to.include('kind');
      expect(d.featurizers.dropped.added).to.deep.equal(['Sex']);
      expect(d.inputSchema.removed).to.deep.equal([{ field: 'Sex', type: 'category', required: false }]);
      expect(d.lineage.find((l) => l.name === 'config sha256')?.same).to.equal(false);
      const r = await ok(['bundles', 'diff', 'penguins@1.0.0', 'penguins-changed@1.0.0']);
      expect(r.stdout).to.contain('  - Sex (category) → one-hot');
      expect(r.stdout).to.match(/ {2}~ Island: kind.*\n {6}a: Island \(category\) → one-hot.*\n {6}b: Island \(category\) → ordinal/);
      expect(r.stdout).to.contain('input schema:\n  - Sex (category)');
    });

    it('refuses an unknown reference with one line', async () => {
      expectOneLineError(await cli(['bundles', 'diff', 'penguins@1.0.0', 'penguins@7.0.0']), 'no version 7.0.0 of "penguins"');
    });
  });

  describe('compare (the quality gate)', () => {
    it('passes when the candidate is no worse, on a CSV and on a .arrow dataset, printing both and the difference', async () => {
      const r = await ok(['bundles', 'compare', 'penguins@1.0.0', 'penguins@1.0.2', '--on', PENGUINS]);
      expect(r.stdout).to.contain(`scored 344 of 344 rows of ${PENGUINS} (classification, target Species)`);
      expect(r.stdout).to.match(/metric\s+candidate penguins@1\.0\.0\s+baseline penguins@1\.0\.2\s+difference\s+better/);
      expect(r.stdout).to.match(/accuracy \*\s+\S+\s+\S+\s+\+\S+\s+higher/);
      expect(r.stdout).to.match(/logLoss\s+\S+\s+\S+\s+-\S+\s+lower/);
      expect(r.stdout).to.match(/gate accuracy \(higher is better\): .*: better by \S+; allowed drop 0 → pass/);
      await ok(['load', PENGUINS, '--out', 'eval.arrow']);
      const json = JSON.parse((await ok(['bundles', 'compare', 'penguins@1.0.0', 'penguins@1.0.2', '--on', 'eval.arrow', '--metric', 'log-loss', '--json'])).stdout) as CompareResult;
      expect(json.rows).to.equal(344);
      expect(json.gate).to.include({ metric: 'logLoss', better: 'lower', passed: true });
      expect(json.gate.drop).to.be.below(0);
      expect(json.candidate.metrics.support).to.equal(344);
    });

    it('fails (exit 1, one line) when the candidate is worse by more than --max-drop, direction-aware', async () => {
      const r = await cli(['bundles', 'compare', 'penguins@1.0.2', 'penguins@1.0.0', '--on', PENGUINS]);
      expectOneLineError(r, 'penguins@1.0.2 is worse than penguins@1.0.0 on accuracy over 344 rows', 'allowed 0');
      expect(r.stdout).to.contain('→ FAIL');
      const json = await cli(['bundles', 'compare', 'penguins@1.0.2', 'penguins@1.0.0', '--on', PENGUINS, '--metric', 'log-loss', '--json']);
      expect(json.code).to.equal(1);
      const doc = JSON.parse(json.stdout) as CompareResult;
      expect(doc.gate).to.include({ metric: 'logLoss', better: 'lower', passed: false });
      expect(doc.gate.drop).to.equal(doc.gate.candidate - doc.gate.baseline);
      // a drop within --max-drop passes
      const drop = (JSON.parse((await cli(['bundles', 'compare', 'penguins@1.0.2', 'penguins@1.0.0', '--on', PENGUINS, '--json'])).stdout) as CompareResult).gate.drop;
      await ok(['bundles', 'compare', 'penguins@1.0.2', 'penguins@1.0.0', '--on', PENGUINS, '--max-drop', String(drop + 0.001)]);
    });

    it('skips and counts rows with a missing target; refuses a source without the target, a metric of the other task, two tasks', async () => {
      const lines = (await readFile(PENGUINS, 'utf8')).trimEnd().split('\n');
      const edited = [lines[0], ...lines.slice(1, 31).map((l, i) => (i < 3 ? l.replace(/^[^,]+/, '') : l))].join('\n');
      await writeFile(join(dir, 'eval-gaps.csv'), `${edited}\n`);
      const doc = JSON.parse((await ok(['bundles', 'compare', 'penguins@1.0.0', 'penguins@1.0.1', '--on', 'eval-gaps.csv', '--json'])).stdout) as CompareResult;
      expect(doc).to.include({ rowsRead: 30, rows: 27, missingTarget: 3 });
      await writeFile(join(dir, 'no-target.csv'), `${lines.map((l) => l.replace(/^[^,]*,/, '')).join('\n')}\n`);
      expectOneLineError(await cli(['bundles', 'compare', 'penguins@1.0.0', 'penguins@1.0.1', '--on', 'no-target.csv']), 'no-target.csv: no column "Species"');
      expectOneLineError(await cli(['bundles', 'compare', 'penguins@1.0.0', 'penguins@1.0.1', '--on', PENGUINS, '--metric', 'rmse']), 'rmse is not a classification metric');
      expectOneLineError(await cli(['bundles', 'compare', 'penguins@1.0.0', 'penguins@1.0.1', '--on', PENGUINS, '--metric', 'precision']), 'unknown metric "precision"');
      expect((await cli(['bundles', 'compare', 'penguins@1.0.0', 'penguins@1.0.1'])).code).to.equal(2);
    });
  });

  describe('promote --if-better', () => {
    it('refuses a worse candidate (exit 1, alias and history unchanged) and promotes a better one', async () => {
      await ok(['bundles', 'promote', 'penguins@1.0.1', 'production']);
      const before = await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8');
      const worse = await cli(['bundles', 'promote', 'penguins@1.0.2', 'production', '--if-better', 'penguins@production', '--on', PENGUINS]);
      expectOneLineError(worse, 'penguins@1.0.2 is worse than penguins@production (1.0.1) on accuracy', 'not promoted, production unchanged');
      expect(worse.stdout).to.contain('→ FAIL');
      expect((await aliases()).production).to.equal('1.0.1');
      expect(await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8')).to.equal(before);
      await ok(['bundles', 'promote', 'penguins@1.0.2', 'production']);
      const better = await ok(['bundles', 'promote', 'penguins@1.0.0', 'production', '--if-better', 'penguins@production', '--on', PENGUINS], 'frank');
      expect(better.stdout).to.contain('→ pass');
      expect(better.stdout.trimEnd().split('\n').pop()).to.equal('penguins@production → 1.0.0 (was 1.0.2)');
      expect((await history()).pop()).to.include({ by: 'frank', alias: 'production', from: '1.0.2', to: '1.0.0', action: 'promote' });
    });

    it('a baseline alias that does not exist yet (first release) promotes without a gate, saying so', async () => {
      const r = await ok(['bundles', 'promote', 'penguins@1.0.2', 'canary', '--if-better', 'penguins@canary', '--on', PENGUINS]);
      expect(r.stdout).to.contain('no baseline: penguins@canary does not exist yet (a first release); promoting without a gate');
      expect((await aliases()).canary).to.equal('1.0.2');
      const json = JSON.parse((await ok(['bundles', 'promote', 'penguins-changed@1.0.0', 'production', '--if-better', 'penguins-changed@production', '--on', PENGUINS, '--json'])).stdout) as { promoted: boolean; firstRelease: boolean; compare: unknown };
      expect(json).to.deep.include({ promoted: true, firstRelease: true, compare: null });
    });
  });

  describe('gc <name> --keep N', () => {
    it('keeps the N newest and every aliased version, removes the rest, and never an aliased one', async () => {
      await ok(['run', PENGUINS, '--target', 'Species', '--name', 'penguins', '--trees', '2', '--seed', '4']); // 1.0.3
      await ok(['bundles', 'promote', 'penguins@1.0.1', 'staging']);
      expect(await aliases()).to.deep.equal({ production: '1.0.0', staging: '1.0.1', canary: '1.0.2' });
      const historyBefore = await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8');
      const dry = await ok(['bundles', 'gc', 'penguins', '--keep', '0', '--dry-run']);
      expect(dry.stdout).to.contain('would remove penguins@1.0.3: not one of the 0 newest, no alias');
      expect(dry.stdout).to.contain('kept penguins@1.0.0: alias production');
      expect(dry.stdout).to.contain('1 version(s) to remove, 3 kept (3 for an alias)');
      expect((await ok(['bundles', 'list', '--json'])).stdout).to.contain('"version": "1.0.3"');
      const r = JSON.parse((await ok(['bundles', 'gc', 'penguins', '--keep', '0', '--json'])).stdout) as { versions: { version: string; action: string; aliases: string[] }[] };
      expect(r.versions).to.deep.equal([
        { version: '1.0.3', action: 'removed', reason: 'not one of the 0 newest, no alias', aliases: [] },
        { version: '1.0.2', action: 'kept', reason: 'alias canary', aliases: ['canary'] },
        { version: '1.0.1', action: 'kept', reason: 'alias staging', aliases: ['staging'] },
        { version: '1.0.0', action: 'kept', reason: 'alias production', aliases: ['production'] },
      ]);
      const verify = await ok(['bundles', 'verify', 'penguins@production', 'penguins@staging', 'penguins@canary']);
      expect(verify.stdout.trimEnd().split('\n')).to.have.length(3);
      expect(await readFile(join(artifacts, 'penguins', 'alias-history.ndjson'), 'utf8')).to.equal(historyBefore);
      // --keep 1 keeps the newest left (1.0.2, also aliased) and the aliased ones: nothing to remove
      expect((await ok(['bundles', 'gc', 'penguins', '--keep', '1'])).stdout).to.contain('0 version(s) removed, 3 kept (2 for an alias)');
      expect((await cli(['bundles', 'gc', 'penguins'])).code).to.equal(2);
      expect((await cli(['bundles', 'gc', '--keep', '1'])).code).to.equal(2);
      expectOneLineError(await cli(['bundles', 'gc', 'nosuch', '--keep', '1']), 'no bundle named "nosuch"');
    });

    it('a rollback to a version gc removed says so', async () => {
      const ref = (await ok(['run', PENGUINS, '--target', 'Species', '--name', 'penguins', '--trees', '2', '--seed', '5'])).stdout.trimEnd().split('\n').pop()!;
      await ok(['bundles', 'promote', ref, 'canary']);
      await ok(['bundles', 'promote', 'penguins@1.0.1', 'canary']);
      await ok(['bundles', 'gc', 'penguins', '--keep', '0']);
      expectOneLineError(await cli(['bundles', 'rollback', 'penguins', 'canary']), `its previous target ${ref.split('@')[1]} no longer exists`);
    });
  });

  describe('golden records in verify and serve', () => {
    it('a featurizer change with its checksums redone: verify names the golden record, serve refuses to start (exit 1)', async () => {
      const store = join(dir, 'skewed');
      await cp(join(artifacts, 'penguins', '1.0.1'), join(store, 'penguins', '1.0.1'), { recursive: true });
      const good = await ok(['bundles', 'verify', '--artifacts', store]);
      expect(good.stdout.trim()).to.equal('ok penguins@1.0.1 (11 files, 20 golden records identical)');
      await skewIslandCategories(join(store, 'penguins', '1.0.1'));
      const verify = await cli(['bundles', 'verify', '--artifacts', store]);
      expectOneLineError(verify, `penguins@1.0.1: ${join(store, 'penguins', '1.0.1', 'golden.json')}: record `, ', the bundle recorded ');
      expect(verify.stderr).to.match(/record \d+, (prediction|probabilities\.\w+): got /);
      const serve = await runCli(['serve', 'penguins@1.0.1', '--port', '0', '--artifacts', store], { cwd: dir, timeoutMs: 30_000 });
      expectOneLineError(serve, 'penguins@1.0.1', 'golden.json: record ');
      expect(serve.stdout).not.to.contain('listening');
    });
  });
});
