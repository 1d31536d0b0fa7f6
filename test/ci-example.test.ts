import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, EXAMPLES, cleanupTempDirs, runCli, tempDir } from '../src/test-helpers/fixtures.js';
import { type S3Server, startS3Server } from '../src/test-helpers/s3.js';

/** Runs `make -C examples/ci <target> VAR=value…` as CI would; resolves with its exit code and output. */
function make(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['--no-print-directory', '-C', join(EXAMPLES, 'ci'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('examples/ci: the CI/CD targets end to end against s3rver', function () {
  this.timeout(600_000);
  let s3: S3Server;
  let env: NodeJS.ProcessEnv;
  let vars: string[];
  const store = 's3://models/ci-example';

  before(async () => {
    s3 = await startS3Server();
    env = { ...s3.env, MLPIPE_CACHE: await tempDir(), MLPIPE_USER: 'ci-bot' };
    vars = [`MLPIPE=${process.execPath} ${BIN}`, `STORE=${store}`, `LOCAL=${await tempDir()}`, 'TRAIN_FLAGS=--trees 20'];
  });
  after(async () => {
    await s3.close();
    await cleanupTempDirs();
  });

  const aliases = async (): Promise<Record<string, string[]>> => {
    const list = await runCli(['bundles', 'list', '--artifacts', store, '--json'], { env });
    const out: Record<string, string[]> = {};
    for (const b of (JSON.parse(list.stdout) as { bundles: { version: string; aliases: string[] }[] }).bundles) out[b.version] = b.aliases;
    return out;
  };

  it('the first build trains, passes the gate as a first release, pushes and promotes to staging; release moves it to production', async () => {
    const ci = await make(['ci', 'BUILD_NUMBER=1', ...vars], env);
    expect(ci.code, ci.out).to.equal(0);
    expect(ci.out).to.contain('first release');
    expect(ci.out).to.contain(`copied penguins@1.0.1 from`);
    expect(ci.out).to.contain('penguins@staging → 1.0.1');
    expect(await aliases()).to.deep.equal({ '1.0.1': ['staging'] });
    const release = await make(['release', ...vars], env);
    expect(release.code, release.out).to.equal(0);
    expect(release.out).to.contain('penguins@production → 1.0.1');
    expect(await aliases()).to.deep.equal({ '1.0.1': ['staging', 'production'] });
  });

  it('a second build no worse than production goes to staging; pushing it again is a no-op', async () => {
    const ci = await make(['ci', 'BUILD_NUMBER=2', ...vars], env);
    expect(ci.code, ci.out).to.equal(0);
    expect(ci.out).to.match(/gate accuracy .*→ pass/);
    expect(await aliases()).to.deep.equal({ '1.0.1': ['production'], '1.0.2': ['staging'] });
    const again = await make(['push', 'BUILD_NUMBER=2', ...vars], env);
    expect(again.code, again.out).to.equal(0);
    expect(again.out).to.contain('penguins@1.0.2 is already in s3://models/ci-example (identical)');
  });

  it('a worse model fails the gate: make stops with exit 2, nothing is pushed, the aliases are unchanged', async () => {
    const bad = await make(['ci', 'BUILD_NUMBER=3', ...vars.filter((v) => !v.startsWith('TRAIN_FLAGS=')), 'TRAIN_FLAGS=--trees 1 --max-depth 1'], env);
    expect(bad.code, bad.out).to.equal(2);
    expect(bad.out, bad.out).to.match(/mlpipe: .*penguins@1\.0\.3 is worse than penguins@production \(1\.0\.1\) on accuracy/);
    expect(bad.out).to.not.contain('bundles push');
    expect(await aliases()).to.deep.equal({ '1.0.1': ['production'], '1.0.2': ['staging'] });
    const history = await runCli(['bundles', 'history', 'penguins', '--artifacts', store, '--json'], { env });
    const events = JSON.parse(history.stdout) as { alias: string; to: string; by: string }[] | { events: { alias: string; to: string; by: string }[] };
    const list = Array.isArray(events) ? events : events.events;
    expect(list.map((e) => `${e.alias}→${e.to} by ${e.by}`)).to.deep.equal(['staging→1.0.1 by ci-bot', 'production→1.0.1 by ci-bot', 'staging→1.0.2 by ci-bot']);
  });
});
