import { expect } from 'chai';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { cp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs, packagedExample, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError, ConflictError, NotFoundError, VerificationError } from '../errors.js';
import { sha256 } from '../fs-util.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import type { Manifest } from './manifest.js';
import { packageModel, serializeManifest } from './package.js';
import { SIGNATURE_DOMAIN, SIGNATURE_FILE, type SignatureDoc } from './signature-format.js';
import { checkSignature, generateKeyPair, keyIdOf, readSigningKey, readTrustedKeys, signBundle } from './signature.js';
import { verifyBundle } from './verify.js';

/** Expects `promise` to reject with `type`, and returns the error. */
async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (err) {
    expect(err, (err as Error).message).to.be.instanceOf(type);
    return err as T;
  }
  return expect.fail(`expected a ${type.name}`);
}

describe('bundle signatures', function () {
  this.timeout(120_000);
  let keys: string;
  let release: { keyId: string; privateKeyFile: string; publicKeyFile: string };
  let other: { keyId: string; privateKeyFile: string; publicKeyFile: string };
  /** A store with `signed@1.0.0` (unsigned until a test signs it), and its model folder. */
  let pristine: { artifacts: string; modelDir: string };

  before(async () => {
    keys = await tempDir();
    release = await generateKeyPair(join(keys, 'release'));
    other = await generateKeyPair(join(keys, 'other'));
    pristine = await packagedExample('signed');
  });
  after(cleanupTempDirs);

  /** A copy of the pristine store (tests change bundles). */
  async function freshStore(): Promise<{ artifacts: string; dir: string }> {
    const artifacts = await tempDir();
    await cp(pristine.artifacts, artifacts, { recursive: true });
    return { artifacts, dir: join(artifacts, 'signed', '1.0.0') };
  }

  describe('keys', () => {
    it('generate writes a PKCS8 private key (mode 0600) and an SPKI public key; the key id is sha256 of the SPKI DER, 16 hex', async () => {
      expect(release.privateKeyFile).to.equal(join(keys, 'release.key.pem'));
      expect(release.publicKeyFile).to.equal(join(keys, 'release.pub.pem'));
      expect((await stat(release.privateKeyFile)).mode & 0o777).to.equal(0o600);
      const privatePem = await readFile(release.privateKeyFile, 'utf8');
      const publicPem = await readFile(release.publicKeyFile, 'utf8');
      expect(privatePem).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(publicPem).to.match(/^-----BEGIN PUBLIC KEY-----\n/);
      const der = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
      expect(release.keyId).to.equal(createHash('sha256').update(der).digest('hex').slice(0, 16));
      expect(release.keyId).to.match(/^[0-9a-f]{16}$/);
      expect(other.keyId).not.to.equal(release.keyId);
    });

    it('generate refuses to overwrite either file, naming it, and changes nothing', async () => {
      const before = await readFile(release.privateKeyFile, 'utf8');
      const err = await rejection(generateKeyPair(join(keys, 'release')), ConflictError);
      expect(err.message).to.equal(`${release.privateKeyFile}: already exists; refusing to overwrite a key (choose another --out, or remove it first)`);
      expect(await readFile(release.privateKeyFile, 'utf8')).to.equal(before);
      // Only the public half there: refused too, and no private key is written beside it.
      await cp(release.publicKeyFile, join(keys, 'half.pub.pem'));
      const half = await rejection(generateKeyPair(join(keys, 'half.pem')), ConflictError);
      expect(half.message).to.contain(`${join(keys, 'half.pub.pem')}: already exists`);
      expect(await readdir(keys)).not.to.include('half.key.pem');
    });

    it('a private key given where a public one is expected gives its public key; a public key cannot sign', async () => {
      const [fromPrivate] = await readTrustedKeys([release.privateKeyFile]);
      expect(fromPrivate).to.include({ keyId: release.keyId, fromPrivate: true, file: release.privateKeyFile });
      expect(fromPrivate!.key.type).to.equal('public');
      const both = await readTrustedKeys([release.publicKeyFile, release.privateKeyFile, other.publicKeyFile]);
      expect(both.map((k) => k.keyId)).to.deep.equal([release.keyId, other.keyId]);
      const err = await rejection(readSigningKey(release.publicKeyFile), ConfigError);
      expect(err.message).to.equal(`${release.publicKeyFile}: a public key; signing needs the private key (the .key.pem file mlpipe keys generate wrote beside it)`);
    });

    it('a file that is not an ed25519 PEM key is one message naming the file, never its content', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const cases: [string, string, RegExp][] = [
        ['text.pem', 'hello, not a key\n', /: not an ed25519 key in PEM form/],
        ['broken.pem', '-----BEGIN PRIVATE KEY-----\nTUFOWSBTRUNSRVQgQllURVM=\n-----END PRIVATE KEY-----\n', /: not an ed25519 key in PEM form/],
        ['cert.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /: not an ed25519 key in PEM form/],
        ['rsa.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, /: an rsa key; mlpipe signs with ed25519 keys only/],
        ['rsa.pub.pem', rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string, /: an rsa key/],
        ['enc.pem', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n', /: an encrypted private key/],
      ];
      for (const [file, text, message] of cases) {
        const path = join(keys, file);
        await writeFile(path, text);
        for (const read of [() => readTrustedKeys([path]), () => readSigningKey(path)]) {
          const err = await rejection(read(), ConfigError);
          expect(err.message, file).to.match(message);
          expect(err.message.startsWith(`${path}: `), file).to.equal(true);
          const body = text.split('\n').find((l) => l.length > 8 && !l.startsWith('-----'));
          if (body) expect(err.message, file).not.to.contain(body);
        }
      }
      const missing = await rejection(readTrustedKeys([join(keys, 'nope.pub.pem')]), NotFoundError);
      expect(missing.message).to.equal(`${join(keys, 'nope.pub.pem')}: key file not found`);
    });
  });

  describe('signing and checking', () => {
    it('signs a bundle: signature.json over the domain-separated manifest sha256, verified by the public key', async () => {
      const { artifacts, dir } = await freshStore();
      const key = await readSigningKey(release.privateKeyFile);
      const r = await signBundle({ ref: 'signed@1.0.0', artifacts, key });
      expect(r).to.include({ ref: 'signed@1.0.0', status: 'signed', keyId: release.keyId });
      const manifest = await verifyBundle(dir);
      const doc = JSON.parse(await readFile(join(dir, SIGNATURE_FILE), 'utf8')) as SignatureDoc;
      expect(Object.keys(doc)).to.deep.equal(['format', 'formatVersion', 'algorithm', 'keyId', 'manifestSha256', 'signedAt', 'signature']);
      expect(doc).to.include({ format: 'mlpipe.signature', formatVersion: 1, algorithm: 'ed25519', keyId: release.keyId, manifestSha256: manifest.manifestSha256, signedAt: r.signedAt });
      // Anyone with the public key and node:crypto can check it: ed25519 over "mlpipe.bundle.signature.v1\n<sha256>".
      const message = Buffer.from(`mlpipe.bundle.signature.v1\n${manifest.manifestSha256}`);
      expect(SIGNATURE_DOMAIN).to.equal('mlpipe.bundle.signature.v1\n');
      const publicKey = createPublicKey(await readFile(release.publicKeyFile, 'utf8'));
      expect(verify(null, message, publicKey, Buffer.from(doc.signature, 'base64'))).to.equal(true);
      // Not a signature of the bare hash: the domain is part of what is signed.
      expect(verify(null, Buffer.from(manifest.manifestSha256), publicKey, Buffer.from(doc.signature, 'base64'))).to.equal(false);
      // The manifest does not list it, and the bundle's listed files are untouched.
      expect(manifest.files).not.to.have.property(SIGNATURE_FILE);
      const trusted = await readTrustedKeys([other.publicKeyFile, release.publicKeyFile]);
      expect((await checkSignature(dir, manifest, trusted)).keyId).to.equal(release.keyId);
      const model = await loadPredictor('signed@1.0.0', artifacts, { requireSignature: trusted });
      expect(model.signature?.keyId).to.equal(release.keyId);
      expect(model.predictOne({ Island: 'Biscoe' }).prediction).to.be.a('string');
    });

    it('the same key again is a no-op; another key is refused naming both key ids unless forced', async () => {
      const { artifacts, dir } = await freshStore();
      const key = await readSigningKey(release.privateKeyFile);
      const first = await signBundle({ ref: 'signed', artifacts, key });
      const bytes = await readFile(join(dir, SIGNATURE_FILE));
      const again = await signBundle({ ref: 'signed@1.0.0', artifacts, key });
      expect(again).to.include({ status: 'unchanged', signedAt: first.signedAt });
      expect(await readFile(join(dir, SIGNATURE_FILE))).to.deep.equal(bytes);
      const otherKey = await readSigningKey(other.privateKeyFile);
      const err = await rejection(signBundle({ ref: 'signed@1.0.0', artifacts, key: otherKey }), ConflictError);
      expect(err.message).to.equal(`signed@1.0.0: already signed by key ${release.keyId}; ${other.privateKeyFile} is key ${other.keyId}: refusing to replace the signature (--force replaces it)`);
      expect(await readFile(join(dir, SIGNATURE_FILE))).to.deep.equal(bytes);
      const forced = await signBundle({ ref: 'signed@1.0.0', artifacts, key: otherKey, force: true });
      expect(forced).to.include({ status: 'replaced', keyId: other.keyId, previousKeyId: release.keyId });
      const manifest = await verifyBundle(dir);
      await checkSignature(dir, manifest, await readTrustedKeys([other.publicKeyFile]));
    });

    it('refuses an unsigned bundle and one signed by another key, naming the bundle and the key ids', async () => {
      const { artifacts, dir } = await freshStore();
      const trusted = await readTrustedKeys([release.publicKeyFile]);
      const unsigned = await rejection(loadPredictor('signed@1.0.0', artifacts, { requireSignature: trusted }), VerificationError);
      expect(unsigned.file).to.equal(SIGNATURE_FILE);
      expect(unsigned.message).to.equal(`signed@1.0.0 (${dir}): not signed (no signature.json); only bundles signed by key ${release.keyId} (${release.publicKeyFile}) are accepted`);
      await signBundle({ ref: 'signed@1.0.0', artifacts, key: await readSigningKey(other.privateKeyFile) });
      const wrong = await rejection(loadPredictor('signed@1.0.0', artifacts, { requireSignature: trusted }), VerificationError);
      expect(wrong.message).to.equal(`signed@1.0.0 (${dir}): signed by key ${other.keyId}, which is not a trusted key (trusted: ${release.keyId} (${release.publicKeyFile}))`);
      // Without a required key the bundle loads as before.
      expect((await loadPredictor('signed@1.0.0', artifacts)).signature).to.equal(undefined);
    });

    it('refuses a bundle changed after signing even when its manifest was rewritten consistently: only the signature catches it', async () => {
      const { artifacts, dir } = await freshStore();
      await signBundle({ ref: 'signed@1.0.0', artifacts, key: await readSigningKey(release.privateKeyFile) });
      const signatureBytes = await readFile(join(dir, SIGNATURE_FILE));
      // A forger changes a file, its manifest entry and the manifest's own checksum: every checksum matches.
      const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as { holdout: { model: { accuracy: number } } };
      metrics.holdout.model.accuracy = 0.999;
      const text = `${JSON.stringify(metrics, null, 2)}\n`;
      await writeFile(join(dir, 'metrics.json'), text);
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      manifest.files['metrics.json'] = { sha256: sha256(text), bytes: Buffer.byteLength(text) };
      const { manifestSha256: _old, ...rest } = manifest;
      await writeFile(join(dir, 'manifest.json'), serializeManifest(rest));
      const forged = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      // Without signature.json the forged bundle verifies: the checksums alone cannot tell.
      await rm(join(dir, SIGNATURE_FILE));
      await verifyBundle(dir);
      await writeFile(join(dir, SIGNATURE_FILE), signatureBytes);
      const trusted = await readTrustedKeys([release.publicKeyFile]);
      const oldSha = (JSON.parse(signatureBytes.toString('utf8')) as SignatureDoc).manifestSha256;
      const changed = `signed@1.0.0 (${dir}) was changed after it was signed by key ${release.keyId}: signature.json signs manifest sha256 ${oldSha.slice(0, 12)}…, the manifest's is ${forged.manifestSha256.slice(0, 12)}…`;
      for (const read of [() => verifyBundle(dir), () => loadPredictor('signed@1.0.0', artifacts), () => loadPredictor('signed@1.0.0', artifacts, { requireSignature: trusted })]) {
        const err = await rejection(read(), VerificationError);
        expect(err.file).to.equal(SIGNATURE_FILE);
        expect(err.message).to.equal(changed);
      }
      // The forger also points signature.json at the new manifest: the signature no longer verifies.
      const doc = JSON.parse(signatureBytes.toString('utf8')) as SignatureDoc;
      await writeFile(join(dir, SIGNATURE_FILE), `${JSON.stringify({ ...doc, manifestSha256: forged.manifestSha256 }, null, 2)}\n`);
      await verifyBundle(dir); // consistent shape and hash: only the key can tell
      const err = await rejection(loadPredictor('signed@1.0.0', artifacts, { requireSignature: trusted }), VerificationError);
      expect(err.message).to.equal(`signed@1.0.0 (${dir}): the signature by key ${release.keyId} does not verify: signature.json is corrupted or forged, or the bundle was changed after it was signed`);
    });

    it('refuses a corrupted signature, and will not sign over it unless forced', async () => {
      const { artifacts, dir } = await freshStore();
      const key = await readSigningKey(release.privateKeyFile);
      await signBundle({ ref: 'signed@1.0.0', artifacts, key });
      const doc = JSON.parse(await readFile(join(dir, SIGNATURE_FILE), 'utf8')) as SignatureDoc;
      const sig = Buffer.from(doc.signature, 'base64');
      sig[10] = sig[10]! ^ 0x01;
      await writeFile(join(dir, SIGNATURE_FILE), `${JSON.stringify({ ...doc, signature: sig.toString('base64') }, null, 2)}\n`);
      const trusted = await readTrustedKeys([release.publicKeyFile]);
      const err = await rejection(loadPredictor('signed@1.0.0', artifacts, { requireSignature: trusted }), VerificationError);
      expect(err.message).to.contain(`the signature by key ${release.keyId} does not verify`);
      const refused = await rejection(signBundle({ ref: 'signed@1.0.0', artifacts, key }), VerificationError);
      expect(refused.message).to.equal(`signed@1.0.0: its signature by key ${release.keyId} does not verify: signature.json is corrupted or forged; refusing to sign over it (--force replaces the signature)`);
      expect((await signBundle({ ref: 'signed@1.0.0', artifacts, key, force: true })).status).to.equal('replaced');
      await checkSignature(dir, await verifyBundle(dir), trusted);
    });

    it('verifyBundle accepts signature.json as the one unlisted file and checks its shape', async () => {
      const { artifacts, dir } = await freshStore();
      await signBundle({ ref: 'signed@1.0.0', artifacts, key: await readSigningKey(release.privateKeyFile) });
      const good = await readFile(join(dir, SIGNATURE_FILE), 'utf8');
      const doc = JSON.parse(good) as Record<string, unknown>;
      const path = join(dir, SIGNATURE_FILE);
      const cases: [string, string | Buffer, string][] = [
        ['not JSON', '{"format": "mlpipe.signature",', 'malformed signature file: invalid JSON'],
        ['an array', '[]', 'malformed signature file: expected a JSON object'],
        ['too big', JSON.stringify({ ...doc, pad: 'x'.repeat(5000) }), 'malformed signature file: 5'],
        ['an unknown field', JSON.stringify({ ...doc, publicKey: 'x' }), 'malformed signature file: unknown field "publicKey"'],
        ['another algorithm', JSON.stringify({ ...doc, algorithm: 'rsa' }), 'malformed signature file: algorithm "rsa"; only "ed25519" is known'],
        ['a short key id', JSON.stringify({ ...doc, keyId: 'abc' }), 'malformed signature file: keyId is not 16 hex characters'],
        ['a bad signature encoding', JSON.stringify({ ...doc, signature: 'AAAA' }), 'malformed signature file: signature is not a base64 ed25519 signature (64 bytes)'],
        ['a bad time', JSON.stringify({ ...doc, signedAt: 'yesterday' }), 'malformed signature file: signedAt is not an ISO time'],
        ['another format version', JSON.stringify({ ...doc, formatVersion: 2 }), 'malformed signature file: formatVersion 2; this mlpipe reads version 1'],
      ];
      for (const [what, bytes, message] of cases) {
        await writeFile(path, bytes);
        const err = await rejection(verifyBundle(dir), VerificationError);
        expect(err.file, what).to.equal(SIGNATURE_FILE);
        expect(err.message, what).to.contain(`${path}: ${message}`);
      }
      await rm(path);
      await symlink(join(keys, 'release.pub.pem'), path);
      const link = await rejection(verifyBundle(dir), VerificationError);
      expect(link.message).to.equal(`${path}: is a symbolic link; a bundle holds only regular files (refusing it)`);
      await rm(path);
      await writeFile(path, good);
      await verifyBundle(dir);
      // Another unlisted file is still refused, and a signer's temporary file is not read.
      await writeFile(join(dir, '.signature.json.tmp-123-0badf00d'), 'half written');
      await verifyBundle(dir);
      await writeFile(join(dir, 'signature.json.bak'), good);
      const extra = await rejection(verifyBundle(dir), VerificationError);
      expect(extra.message).to.contain('signature.json.bak: not listed in the manifest');
    });

    it('refuses a manifest that lists signature.json', async () => {
      const { dir } = await freshStore();
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      const { manifestSha256: _old, ...rest } = manifest;
      await writeFile(join(dir, SIGNATURE_FILE), '{}');
      rest.files[SIGNATURE_FILE] = { sha256: sha256('{}'), bytes: 2 };
      await writeFile(join(dir, 'manifest.json'), serializeManifest(rest));
      const err = await rejection(verifyBundle(dir), VerificationError);
      expect(err.message).to.equal(`${join(dir, 'manifest.json')}: lists signature.json, which a manifest never lists (it signs the manifest); refusing a forged manifest`);
    });

    it('package signs right after publishing, through the store', async () => {
      const artifacts = await tempDir();
      const key = await readSigningKey(release.privateKeyFile);
      const r = await packageModel({ modelDir: pristine.modelDir, name: 'fresh', artifacts, sign: key });
      expect(r.signature?.keyId).to.equal(release.keyId);
      expect(r.signature?.manifestSha256).to.equal(r.manifest.manifestSha256);
      const trusted = await readTrustedKeys([release.publicKeyFile]);
      await checkSignature(r.dir, await verifyBundle(r.dir), trusted);
      expect(keyIdOf(trusted[0]!.key)).to.equal(release.keyId);
      // Nothing of the private key went into the bundle.
      const body = (await readFile(release.privateKeyFile, 'utf8')).split('\n')[1]!;
      for (const f of await readdir(r.dir)) expect(await readFile(join(r.dir, f), 'latin1'), f).not.to.contain(body);
      // A wrong key is refused by reading it, before anything is packaged (the CLI reads it first).
      await rejection(readSigningKey(release.publicKeyFile), ConfigError);
    });
  });
});
