import { expect } from 'chai';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, ROOT, cleanupTempDirs, packagedExample, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { byScale, countReliability } from '../../test-helpers/reliability.js';
import { pathExists } from '../fs-util.js';
import { LOCK_DIR, LOCK_OWNER_FILE, TEMP_OWNER_FILE, cleanLeftovers } from './leftovers.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import { listVersions, readAliases } from './store.js';
import { verifyBundle } from './verify.js';

/**
 * Issue 11, problem 10: `kill -9` during `package` or `promote`. The process is paused at a named
 * step by the test seam (MLPIPE_TEST_FAULT=pause:<step>:<marker>, src/core/test-seam.ts) so the kill
 * lands there, then killed; the store must show no partial bundle, the alias file must be the old or
 * the new one, and the next `package` or `bundles gc` must remove what was left.
 */
describe('kill -9 during package and promote (reliability)', function () {
  this.timeout(600_000);
  let pristine: string;
  let modelDir: string;
  let cases = 0;
  let passed = 0;
  let restarts = 0;

  before(async () => {
    ({ artifacts: pristine, modelDir } = await packagedExample('k'));
    const { updateAliases } = await import('./store.js');
    await updateAliases(pristine, 'k', () => ({ production: '1.0.0' }));
  });
  after(async () => {
    countReliability('kill -9 during package and promote', { cases, passed, restarts });
    await cleanupTempDirs();
  });

  async function freshStore(): Promise<string> {
    const artifacts = await tempDir();
    await cp(pristine, artifacts, { recursive: true });
    return artifacts;
  }

  /** Starts `mlpipe args…` paused at `step`, waits until it is there, and kills it with SIGKILL. */
  async function killAt(args: string[], step: string): Promise<void> {
    const marker = join(await tempDir(), 'paused');
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MLPIPE_TEST_FAULT: `pause:${step}:${marker}` }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const deadline = Date.now() + 240_000;
    while (!(await pathExists(marker))) {
      if (child.exitCode !== null) throw new Error(`mlpipe ${args.join(' ')} ended (exit ${child.exitCode}) before reaching ${step}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`mlpipe never reached ${step}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');
    restarts++;
  }

  /** Nothing partial is visible: the versions are the old ones or the old ones and a complete new one, each verifies, the aliases are old or new. */
  async function expectConsistent(artifacts: string, name: string, versionsBefore: string[], aliasesAllowed: Record<string, string>[]): Promise<void> {
    const versions = await listVersions(artifacts, name);
    expect(versions.slice(0, versionsBefore.length)).to.deep.equal(versionsBefore);
    expect(versions.length - versionsBefore.length).to.be.at.most(1);
    for (const v of versions) await verifyBundle(join(artifacts, name, v));
    if (versions.length > 0) {
      const model = await loadPredictor(name, artifacts);
      expect(versions).to.include(model.version);
    }
    const aliasesText = await readFile(join(artifacts, name, 'aliases.json'), 'utf8').catch(() => undefined);
    if (aliasesText !== undefined) expect(aliasesAllowed).to.deep.include(JSON.parse(aliasesText));
    else expect(aliasesAllowed).to.deep.include({});
    const list = (await readdir(join(artifacts, name)).catch(() => [] as string[])).filter((e) => !e.startsWith('.'));
    expect(list.filter((e) => e !== 'aliases.json' && e !== 'alias-history.ndjson').sort()).to.deep.equal(versions.slice().sort());
  }

  function leftoversIn(entries: string[]): string[] {
    return entries.filter((e) => e.startsWith('.bundle.tmp-') || e.startsWith('.aliases.json.tmp-') || e === LOCK_DIR);
  }

  interface Scenario {
    what: string;
    name: string;
    step: string;
    args: (artifacts: string) => string[];
    /** How the leftovers go: the next package of the name, or bundles gc. */
    then: 'package' | 'gc';
    aliasesAllowed: Record<string, string>[];
  }
  const production = { production: '1.0.0' };
  const all: Scenario[] = [
    { what: 'package, copying model.bin', name: 'k', step: 'package:copy:model.bin', args: (a) => ['package', modelDir, '--name', 'k', '--artifacts', a], then: 'package', aliasesAllowed: [production] },
    { what: 'promote, holding the alias lock', name: 'k', step: 'aliases:locked', args: (a) => ['bundles', 'promote', 'k@1.0.0', '--alias', 'staging', '--artifacts', a], then: 'gc', aliasesAllowed: [production] },
    { what: 'package, just after the temporary folder', name: 'k', step: 'package:tmp', args: (a) => ['package', modelDir, '--name', 'k', '--artifacts', a], then: 'gc', aliasesAllowed: [production] },
    { what: 'package, rendering the report', name: 'k', step: 'package:report', args: (a) => ['package', modelDir, '--name', 'k', '--artifacts', a], then: 'package', aliasesAllowed: [production] },
    { what: 'package, before renaming the bundle into place', name: 'k', step: 'package:rename', args: (a) => ['package', modelDir, '--name', 'k', '--artifacts', a], then: 'gc', aliasesAllowed: [production] },
    { what: 'package of a new name, holding the alias lock', name: 'fresh', step: 'aliases:locked', args: (a) => ['package', modelDir, '--name', 'fresh', '--artifacts', a], then: 'package', aliasesAllowed: [{}] },
    { what: 'package of a new name, the alias file written but not renamed', name: 'fresh', step: 'rename:aliases.json', args: (a) => ['package', modelDir, '--name', 'fresh', '--artifacts', a], then: 'gc', aliasesAllowed: [{}] },
    { what: 'promote, the alias file written but not renamed', name: 'k', step: 'rename:aliases.json', args: (a) => ['bundles', 'promote', 'k@1.0.0', '--alias', 'staging', '--artifacts', a], then: 'package', aliasesAllowed: [production, { ...production, staging: '1.0.0' }] },
  ];
  const scenarios = byScale(all.slice(0, 2), all);

  for (const s of scenarios) {
    it(`${s.what}: nothing partial is visible, and ${s.then === 'package' ? 'the next package' : 'bundles gc'} removes the leftovers`, async () => {
      cases++;
      const artifacts = await freshStore();
      const before = await listVersions(artifacts, s.name);
      await killAt(s.args(artifacts), s.step);
      await expectConsistent(artifacts, s.name, before, s.aliasesAllowed);
      const left = leftoversIn(await readdir(join(artifacts, s.name)));
      expect(left, 'the kill left something to clean').to.not.be.empty;

      if (s.then === 'package') {
        const run = await runCli(['package', modelDir, '--name', s.name, '--artifacts', artifacts, '--json']);
        expect(run.code, run.stderr).to.equal(0);
        const after = await listVersions(artifacts, s.name);
        expect(after.length).to.equal(before.length + 1);
      } else {
        const dry = await runCli(['bundles', 'gc', '--dry-run', '--artifacts', artifacts]);
        expect(dry.code, dry.stderr).to.equal(0);
        for (const l of left) expect(dry.stdout, `${dry.stdout} / left: ${left.join(", ")}`).to.contain(`would remove`).and.to.contain(join(artifacts, s.name, l));
        expect(leftoversIn(await readdir(join(artifacts, s.name)))).to.deep.equal(left);
        const gc = await runCli(['bundles', 'gc', '--artifacts', artifacts]);
        expect(gc.code, gc.stderr).to.equal(0);
        for (const l of left) expect(gc.stdout).to.contain(`removed`).and.to.contain(join(artifacts, s.name, l));
        expect(await listVersions(artifacts, s.name)).to.deep.equal(before);
      }
      const entries = await readdir(join(artifacts, s.name));
      expect(leftoversIn(entries), 'leftovers after cleaning').to.deep.equal([]);
      expect(entries).to.not.include(LOCK_OWNER_FILE);
      await expectConsistent(artifacts, s.name, await listVersions(artifacts, s.name), s.aliasesAllowed.concat([production, {}]));
      passed++;
    });
  }

  if (byScale(false, true)) {
    it('kill -9 after a random short delay, several times: never a partial bundle, and the next package cleans up', async () => {
      for (let run = 0; run < 5; run++) {
        cases++;
        const artifacts = await freshStore();
        const child = spawn(process.execPath, [BIN, 'package', modelDir, '--name', 'k', '--artifacts', artifacts], { cwd: ROOT, stdio: 'ignore' });
        const exited = new Promise((resolve) => child.on('exit', resolve));
        await new Promise((r) => setTimeout(r, 1500 + Math.random() * 3000));
        child.kill('SIGKILL');
        await exited;
        restarts++;
        await expectConsistent(artifacts, 'k', ['1.0.0'], [production]);
        const next = await runCli(['package', modelDir, '--name', 'k', '--artifacts', artifacts]);
        expect(next.code, next.stderr).to.equal(0);
        expect(leftoversIn(await readdir(join(artifacts, 'k')))).to.deep.equal([]);
        passed++;
      }
    });
  }

  describe('staleness: by owner and by age', () => {
    let gonePid: number;
    before(() => {
      gonePid = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid as number;
    });

    async function leftover(artifacts: string, entry: string, owner: object | undefined, ageHours = 0): Promise<string> {
      const dir = join(artifacts, 'k', entry);
      await mkdir(dir);
      if (owner) await writeFile(join(dir, TEMP_OWNER_FILE), JSON.stringify(owner));
      if (ageHours > 0) {
        const t = new Date(Date.now() - ageHours * 3_600_000);
        await utimes(dir, t, t);
      }
      return dir;
    }

    it('removes a leftover whose owner is gone or that is older than 24 hours, keeps one whose owner is alive', async () => {
      const artifacts = await freshStore();
      const { hostname } = await import('node:os');
      const gone = await leftover(artifacts, '.bundle.tmp-1-aa', { pid: gonePid, hostname: hostname(), startedAt: '' });
      const alive = await leftover(artifacts, '.bundle.tmp-2-bb', { pid: process.ppid, hostname: hostname(), startedAt: '' });
      const oldElsewhere = await leftover(artifacts, '.bundle.tmp-3-cc', { pid: 1, hostname: 'another-host', startedAt: '' }, 25);
      const freshElsewhere = await leftover(artifacts, '.bundle.tmp-4-dd', { pid: 1, hostname: 'another-host', startedAt: '' });
      const dry = await cleanLeftovers(artifacts, 'k', { dryRun: true });
      expect(dry.map((l) => [l.path, l.action])).to.deep.equal([
        [gone, 'removed'],
        [alive, 'kept'],
        [oldElsewhere, 'removed'],
        [freshElsewhere, 'kept'],
      ]);
      for (const p of [gone, alive, oldElsewhere, freshElsewhere]) expect(await pathExists(p)).to.equal(true);
      const done = await cleanLeftovers(artifacts, 'k');
      expect(done.find((l) => l.path === gone)?.reason).to.contain(`process ${gonePid}`).and.to.contain('is gone');
      expect(done.find((l) => l.path === oldElsewhere)?.reason).to.contain('older than 24 hours');
      expect(await pathExists(gone)).to.equal(false);
      expect(await pathExists(oldElsewhere)).to.equal(false);
      expect(await pathExists(alive)).to.equal(true);
      expect(await pathExists(freshElsewhere)).to.equal(true);
      expect(await readAliases(artifacts, 'k')).to.deep.equal(production);
      cases++;
      passed++;
    });
  });
});
