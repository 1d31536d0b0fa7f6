import { expect } from 'chai';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { cp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../core/bundle/manifest.js';
import { serializeManifest } from '../core/bundle/package.js';
import type { SignatureDoc } from '../core/bundle/signature-format.js';
import { sha256 } from '../core/fs-util.js';
import { BIN, EXAMPLES, type CliRun, cleanupTempDirs, packagedExample, runCli, tempDir } from '../test-helpers/fixtures.js';
import { expectOneLineError } from '../test-helpers/expect-cli.js';


/** Every file under a folder, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(path)));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

describe('signed bundles from the CLI (real processes)', function () {
  this.timeout(180_000);
  let dir: string;
  let artifacts: string;
  let modelDir: string;
  let releaseId: string;
  let otherId: string;
  /** Every process output of this file: the private keys must appear in none. */
  const outputs: CliRun[] = [];
  const children: ChildProcessWithoutNullStreams[] = [];

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    const run = await runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_REQUIRE_SIGNATURE: undefined, ...env } });
    outputs.push(run);
    return run;
  }

  before(async () => {
    dir = await tempDir();
    ({ artifacts, modelDir } = await packagedExample('peng'));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await cleanupTempDirs();
  });

  it('keys generate writes the pair, prints the key id, and refuses to overwrite either file', async () => {
    const r = await cli(['keys', 'generate', '--out', 'release']);
    expect(r.code, r.stderr).to.equal(0);
    const id = /^key id ([0-9a-f]{16})$/m.exec(r.stdout)?.[1];
    expect(id, r.stdout).to.be.a('string');
    releaseId = id!;
    expect(r.stdout).to.contain('wrote release.key.pem (private key, mode 0600: keep it secret, never commit it)\nwrote release.pub.pem (public key');
    expect((await stat(join(dir, 'release.key.pem'))).mode & 0o777).to.equal(0o600);
    const other = await cli(['keys', 'generate', '--out', 'other', '--json']);
    expect(other.code, other.stderr).to.equal(0);
    otherId = (JSON.parse(other.stdout) as { keyId: string }).keyId;
    expect(JSON.parse(other.stdout)).to.deep.equal({ keyId: otherId, privateKeyFile: 'other.key.pem', publicKeyFile: 'other.pub.pem' });
    const id2 = await cli(['keys', 'id', 'release.pub.pem']);
    expect(id2.stdout).to.equal(`${releaseId} (public key, release.pub.pem)\n`);
    const before = await readFile(join(dir, 'release.key.pem'), 'utf8');
    expectOneLineError(await cli(['keys', 'generate', '--out', 'release']), 'release.key.pem: already exists; refusing to overwrite a key');
    expect(await readFile(join(dir, 'release.key.pem'), 'utf8')).to.equal(before);
  });

  it('a file that is not an ed25519 PEM key is one line naming it, and nothing is published', async () => {
    await writeFile(join(dir, 'bad.pem'), 'not a key at all\n');
    const message = 'bad.pem: not an ed25519 key in PEM form';
    expectOneLineError(await cli(['bundles', 'verify', '--key', 'bad.pem']), message);
    expectOneLineError(await cli(['bundles', 'sign', 'peng', '--key', 'bad.pem']), message);
    expectOneLineError(await cli(['serve', 'peng', '--port', '0', '--require-signature', 'release.pub.pem,bad.pem']), message);
    expectOneLineError(await cli(['package', modelDir, '--name', 'peng', '--sign', 'bad.pem']), message);
    expectOneLineError(await cli(['package', modelDir, '--name', 'peng', '--sign', 'release.pub.pem']), 'release.pub.pem: a public key; signing needs the private key');
    expectOneLineError(await cli(['bundles', 'verify', '--key', 'missing.pub.pem']), 'missing.pub.pem: key file not found');
    expect(await readdir(join(artifacts, 'peng'))).to.deep.equal(['1.0.0', 'aliases.json']);
  });

  it('package --sign signs right after publishing; show and verify --key report it', async () => {
    const r = await cli(['package', modelDir, '--name', 'peng', '--sign', 'release.key.pem']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`\\nsigned with key ${releaseId} \\(release.key.pem\\)\\npeng@1.0.1\\n$`));
    const verify = await cli(['bundles', 'verify', 'peng@1.0.1', '--key', 'release.pub.pem']);
    expect(verify.code, verify.stderr).to.equal(0);
    expect(verify.stdout).to.equal(`ok peng@1.0.1 (12 files, 20 golden records identical, signed by ${releaseId})\n`);
    const show = await cli(['bundles', 'show', 'peng@1.0.1']);
    expect(show.stdout).to.match(new RegExp(`\\nsigned by ${releaseId} at \\d{4}-\\d\\d-\\d\\dT`));
    expect(show.stdout).to.contain('  README.md  ');
    expect((await cli(['bundles', 'show', 'peng@1.0.0'])).stdout).to.match(/\nunsigned\n/);
    const plain = await cli(['bundles', 'verify']);
    expect(plain.stdout).to.equal(`ok peng@1.0.0 (11 files, 20 golden records identical)\nok peng@1.0.1 (12 files, 20 golden records identical, signed by ${releaseId}: not checked, give --key)\n`);
  });

  it('bundles verify --key fails an unsigned bundle and one signed by another key', async () => {
    const r = await cli(['bundles', 'verify', '--key', 'release.pub.pem']);
    expectOneLineError(r, `peng@1.0.0 (${join(artifacts, 'peng', '1.0.0')}): not signed (no signature.json); only bundles signed by key ${releaseId} (release.pub.pem) are accepted`);
    expect(r.stdout).to.equal(`ok peng@1.0.1 (12 files, 20 golden records identical, signed by ${releaseId})\n`);
    expectOneLineError(await cli(['bundles', 'verify', 'peng@1.0.1', '--key', 'other.pub.pem']), `signed by key ${releaseId}, which is not a trusted key (trusted: ${otherId} (other.pub.pem))`);
    const json = await cli(['bundles', 'verify', 'peng@1.0.1', '--key', 'other.pub.pem,release.pub.pem', '--json']);
    expect(json.code, json.stderr).to.equal(0);
    const doc = JSON.parse(json.stdout) as { ok: boolean; keys: unknown[]; bundles: { signature: { keyId: string; checked: boolean } }[] };
    expect(doc.ok).to.equal(true);
    expect(doc.keys).to.deep.equal([{ file: 'other.pub.pem', keyId: otherId }, { file: 'release.pub.pem', keyId: releaseId }]);
    expect(doc.bundles[0]!.signature).to.include({ keyId: releaseId, checked: true });
  });

  it('bundles sign: signs, is a no-op with the same key, refuses another key naming both ids unless --force', async () => {
    const r = await cli(['bundles', 'sign', 'peng@1.0.0', '--key', 'other.key.pem']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`signed peng@1.0.0 with key ${otherId} (other.key.pem)\n`);
    const again = await cli(['bundles', 'sign', 'peng@1.0.0', '--key', 'other.key.pem']);
    expect(again.stdout).to.match(new RegExp(`^peng@1.0.0 is already signed by key ${otherId} \\(at .*\\); nothing to do\\n$`));
    expectOneLineError(await cli(['bundles', 'sign', 'peng@1.0.0', '--key', 'release.key.pem']), `peng@1.0.0: already signed by key ${otherId}; release.key.pem is key ${releaseId}: refusing to replace the signature (--force replaces it)`);
    const forced = await cli(['bundles', 'sign', 'peng@1.0.0', '--key', 'release.key.pem', '--force', '--json']);
    expect(JSON.parse(forced.stdout)).to.include({ bundle: 'peng@1.0.0', status: 'replaced', keyId: releaseId, previousKeyId: otherId });
    // Back to the other key, for the serve tests below.
    expect((await cli(['bundles', 'sign', 'peng@1.0.0', '--key', 'other.key.pem', '--force'])).stdout).to.contain(`replacing key ${releaseId}'s signature`);
  });

  it('run --sign trains, packages and signs', async () => {
    const r = await cli(['run', join(EXAMPLES, 'penguins', 'pipeline.yaml'), '--name', 'peng', '--trees', '3', '--sign', 'release.key.pem']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`signed with key ${releaseId} \\(release.key.pem\\)\\npeng@1.0.2\\n$`));
    expect((await cli(['bundles', 'verify', 'peng@1.0.2', '--key', 'release.pub.pem'])).code).to.equal(0);
  });

  describe('serve --require-signature (and predict)', () => {
    /** A store copy whose peng@1.0.1 (signed by release) was changed after signing, its manifest rewritten consistently. */
    async function tamperedStore(also?: (dir: string, manifest: Manifest) => Promise<void>): Promise<string> {
      const copy = await tempDir();
      await cp(artifacts, copy, { recursive: true });
      const b = join(copy, 'peng', '1.0.1');
      const text = (await readFile(join(b, 'input-schema.json'), 'utf8')).replace('"title": "', '"title": "forged ');
      await writeFile(join(b, 'input-schema.json'), text);
      const m = JSON.parse(await readFile(join(b, 'manifest.json'), 'utf8')) as Manifest;
      m.files['input-schema.json'] = { sha256: sha256(text), bytes: Buffer.byteLength(text) };
      const { manifestSha256: _old, ...rest } = m;
      await writeFile(join(b, 'manifest.json'), serializeManifest(rest));
      await also?.(b, JSON.parse(await readFile(join(b, 'manifest.json'), 'utf8')) as Manifest);
      return copy;
    }

    it('refuses, before listening, an unsigned bundle, one signed by another key, one changed after signing, a broken signature', async () => {
      const unsigned = await cli(['package', modelDir, '--name', 'plain']);
      expect(unsigned.code, unsigned.stderr).to.equal(0);
      const cases: [string[], NodeJS.ProcessEnv, string][] = [
        [['plain'], {}, `plain@1.0.0 (${join(artifacts, 'plain', '1.0.0')}): not signed (no signature.json); only bundles signed by key ${releaseId} (release.pub.pem) are accepted`],
        [['peng@1.0.0'], {}, `peng@1.0.0 (${join(artifacts, 'peng', '1.0.0')}): signed by key ${otherId}, which is not a trusted key (trusted: ${releaseId} (release.pub.pem))`],
        // Every bundle is checked: the good first one does not let the second through.
        [['peng@1.0.1', 'plain'], {}, 'plain@1.0.0'],
      ];
      for (const [refs, env, message] of cases) {
        const r = await cli(['serve', ...refs, '--port', '0', '--require-signature', 'release.pub.pem'], env);
        expectOneLineError(r, message);
        expect(r.stdout, refs.join(' ')).not.to.contain('listening');
      }
      // From the environment, as a container sets it.
      const fromEnv = await cli(['serve', 'plain', '--port', '0'], { MLPIPE_REQUIRE_SIGNATURE: 'release.pub.pem' });
      expectOneLineError(fromEnv, 'plain@1.0.0', 'not signed');
      expect(fromEnv.stdout).to.equal('');

      const changed = await tamperedStore();
      const c = await cli(['serve', 'peng@1.0.1', '--port', '0', '--require-signature', 'release.pub.pem'], { MLPIPE_ARTIFACTS: changed });
      expectOneLineError(c, `peng@1.0.1 (${join(changed, 'peng', '1.0.1')}) was changed after it was signed by key ${releaseId}: signature.json signs manifest sha256`);
      expect(c.stdout).to.equal('');
      // The forger also rewrote signature.json's manifestSha256: the signature does not verify.
      const forged = await tamperedStore(async (b, m) => {
        const doc = JSON.parse(await readFile(join(b, 'signature.json'), 'utf8')) as SignatureDoc;
        await writeFile(join(b, 'signature.json'), JSON.stringify({ ...doc, manifestSha256: m.manifestSha256 }));
      });
      const f = await cli(['serve', 'peng@1.0.1', '--port', '0'], { MLPIPE_ARTIFACTS: forged, MLPIPE_REQUIRE_SIGNATURE: 'release.pub.pem' });
      expectOneLineError(f, `peng@1.0.1 (${join(forged, 'peng', '1.0.1')}): the signature by key ${releaseId} does not verify`);
      expect(f.stdout).to.equal('');

      const p = await cli(['predict', 'plain', '--input', join(EXAMPLES, 'penguins', 'penguins.csv'), '--require-signature', 'release.pub.pem']);
      expectOneLineError(p, 'plain@1.0.0', 'not signed');
      expect(p.stdout).to.equal('');
    });

    it('serves a bundle signed by a required key, and says who signed it', async () => {
      const child = spawn(process.execPath, [BIN, 'serve', 'peng@1.0.1', '--port', '0', '--require-signature', 'other.pub.pem,release.pub.pem'], {
        cwd: dir,
        env: { ...process.env, MLPIPE_ARTIFACTS: artifacts },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
          if (m) {
            clearInterval(timer);
            resolve(Number(m[1]));
          } else if (child.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`serve exited: ${stderr}`));
          }
        }, 50);
      });
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/peng/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Island: 'Biscoe' }) });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { model: unknown }).model).to.deep.equal({ name: 'peng', version: '1.0.1' });
      expect(stderr).to.contain(`serving peng@1.0.1 (classification, predicts Species; signed by key ${releaseId})`);
      child.kill('SIGTERM');
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).to.equal(0);
      outputs.push({ code: 0, signal: null, stdout, stderr });
    });
  });

  it('a private key given where a public one is expected is used for its public key, with a note naming only the file', async () => {
    const r = await cli(['bundles', 'verify', 'peng@1.0.1', '--key', 'release.key.pem']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal(`note: release.key.pem is a private key; only its public key (key ${releaseId}) is used: give the .pub.pem file instead, a checker never needs the private key\n`);
  });

  // Last (mocha runs a suite's own tests before its nested suites): every output above is collected by now.
  describe('afterwards', () => {
    it('no private key ever appears in any output, bundle or store file', async () => {
      expect(outputs.length).to.be.greaterThan(20);
      const secrets: string[] = [];
      for (const name of ['release', 'other']) {
        const pem = await readFile(join(dir, `${name}.key.pem`), 'utf8');
        const body = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
        expect(body.length).to.be.greaterThan(40);
        secrets.push(body, body.slice(0, 24), Buffer.from(body, 'base64').subarray(16).toString('hex'));
      }
      for (const o of outputs) {
        for (const s of secrets) {
          expect(o.stdout).not.to.contain(s);
          expect(o.stderr).not.to.contain(s);
        }
        expect(o.stdout + o.stderr).not.to.contain('PRIVATE KEY');
      }
      for (const file of await filesUnder(artifacts)) {
        const text = await readFile(file, 'latin1');
        for (const s of secrets) expect(text, file).not.to.contain(s);
        expect(text, file).not.to.contain('PRIVATE KEY');
      }
    });
  });
});
