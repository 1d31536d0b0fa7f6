import { expect } from 'chai';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildExampleBundle, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConflictError, NotFoundError, VerificationError } from '../errors.js';
import { sha256, sha256File } from '../fs-util.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import { type Manifest, withPlaceholder } from './manifest.js';
import { packageModel } from './package.js';
import { nextPatch, readAliases, resolveRef, updateAliases } from './store.js';
import { verifyBundle } from './verify.js';

describe('bundles', function () {
  this.timeout(120_000);
  let artifacts: string;
  let work: string;
  let dir: string;

  before(async () => {
    artifacts = await tempDir();
    work = await tempDir();
    // keep the model folder so more versions can be packaged from it
    const { readPipelineConfig } = await import('../pipeline/config.js');
    const { runPipeline } = await import('../pipeline/run.js');
    const { EXAMPLES } = await import('../../test-helpers/fixtures.js');
    const result = await runPipeline({
      config: await readPipelineConfig(join(EXAMPLES, 'penguins', 'pipeline.yaml')),
      model: { trees: 5 },
      artifacts,
      defaultArtifacts: artifacts,
      workDir: work,
    });
    dir = result.package.dir;
  });
  after(cleanupTempDirs);

  describe('package', () => {
    it('writes a manifest naming every file with its sha256, and its own checksum', async () => {
      const text = await readFile(join(dir, 'manifest.json'), 'utf8');
      const m = JSON.parse(text) as Manifest;
      expect(m).to.include({ format: 'mlpipe.bundle', formatVersion: 1, name: 'penguins', version: '1.0.0', task: 'classification' });
      expect(m.target).to.deep.equal({ name: 'Species', type: 'category' });
      expect(m.classes).to.deep.equal(['Adelie', 'Chinstrap', 'Gentoo']);
      expect(m.model.params.trees).to.equal(5);
      expect(m.metrics.holdout?.model).to.have.property('accuracy');
      expect(m.inputSchema).to.have.property('properties');
      expect(m.lineage.dataset?.fingerprint).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(m.lineage.dependencies['ml-random-forest']).to.equal('2.1.0');
      expect(Object.keys(m.files).sort()).to.deep.equal(['README.md', 'featurizer.json', 'golden.json', 'input-schema.json', 'metrics.json', 'model.bin', 'model.json', 'report.html', 'report.json', 'training.json']);
      for (const [file, f] of Object.entries(m.files)) expect(await sha256File(join(dir, file))).to.equal(f.sha256);
      const { text: hashed, recorded } = withPlaceholder(text);
      expect(sha256(hashed)).to.equal(recorded);
    });

    it('takes the next patch version by default and never overwrites an existing version', async () => {
      const second = await packageModel({ modelDir: join(work, 'model'), name: 'penguins', artifacts });
      expect(second.version).to.equal('1.0.1');
      const before = await readFile(join(dir, 'manifest.json'));
      try {
        await packageModel({ modelDir: join(work, 'model'), name: 'penguins', version: '1.0.0', artifacts });
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(ConflictError);
        expect((err as Error).message).to.equal(`penguins@1.0.0 already exists in ${artifacts}; bundles are immutable, choose another --version`);
      }
      expect(await readFile(join(dir, 'manifest.json'))).to.deep.equal(before);
      const explicit = await packageModel({ modelDir: join(work, 'model'), name: 'penguins', version: '2.3.4', artifacts });
      expect(explicit.ref).to.equal('penguins@2.3.4');
      expect((await packageModel({ modelDir: join(work, 'model'), name: 'penguins', artifacts })).version).to.equal('2.3.5');
    });

    it('gives concurrent packagers distinct versions and leaves no temporary folders', async () => {
      const results = await Promise.all([1, 2, 3, 4].map(() => packageModel({ modelDir: join(work, 'model'), name: 'race', artifacts })));
      expect(results.map((r) => r.version).sort()).to.deep.equal(['1.0.0', '1.0.1', '1.0.2', '1.0.3']);
      expect((await readdir(join(artifacts, 'race'))).sort()).to.deep.equal(['1.0.0', '1.0.1', '1.0.2', '1.0.3', 'aliases.json']);
      expect(await readAliases(artifacts, 'race')).to.deep.equal({});
      for (const r of results) await verifyBundle(r.dir);
    });

    it('refuses a model folder that is not one, and bad names and versions', async () => {
      const empty = await tempDir();
      try {
        await packageModel({ modelDir: empty, name: 'x', artifacts });
        expect.fail('should refuse');
      } catch (err) {
        expect((err as Error).message).to.match(/training\.json: file not found$/);
      }
      for (const [name, version, message] of [
        ['bad/name', undefined, 'name: "bad/name" is not a valid bundle name'],
        ['ok', '1.0', 'version: "1.0" is not a version of the form X.Y.Z'],
      ] as const) {
        try {
          await packageModel({ modelDir: join(work, 'model'), name, version, artifacts });
          expect.fail('should refuse');
        } catch (err) {
          expect((err as Error).message).to.contain(message);
        }
      }
      expect(nextPatch(undefined)).to.equal('1.0.0');
      expect(nextPatch('1.9.9')).to.equal('1.9.10');
    });
  });

  describe('verify', () => {
    async function flip(file: string, position: number): Promise<Buffer> {
      const path = join(dir, file);
      const original = await readFile(path);
      const copy = Buffer.from(original);
      copy[position] = (copy[position] as number) ^ 0x01;
      await writeFile(path, copy);
      return original;
    }

    it('passes an untouched bundle', async () => {
      const m = await verifyBundle(dir);
      expect(m.version).to.equal('1.0.0');
    });

    it('refuses a change to any byte of the manifest, naming it', async () => {
      const size = (await readFile(join(dir, 'manifest.json'))).length;
      for (let pos = 0; pos < size; pos++) {
        const original = await flip('manifest.json', pos);
        try {
          await verifyBundle(dir);
          expect.fail(`byte ${pos} of manifest.json changed and the bundle still verified`);
        } catch (err) {
          expect(err, `byte ${pos}`).to.be.instanceOf(VerificationError);
          expect((err as VerificationError).file).to.equal('manifest.json');
        } finally {
          await writeFile(join(dir, 'manifest.json'), original);
        }
      }
    });

    it('refuses a change to bytes anywhere in every other file, naming the file', async () => {
      const m = await verifyBundle(dir);
      for (const file of Object.keys(m.files)) {
        const size = m.files[file]!.bytes;
        const positions = new Set([0, 1, Math.floor(size / 3), Math.floor(size / 2), size - 2, size - 1]);
        for (let k = 0; k < 20; k++) positions.add(Math.floor((size * (k + 0.5)) / 20));
        for (const pos of positions) {
          const original = await flip(file, pos);
          try {
            await verifyBundle(dir);
            expect.fail(`byte ${pos} of ${file} changed and the bundle still verified`);
          } catch (err) {
            expect(err, `${file} byte ${pos}`).to.be.instanceOf(VerificationError);
            expect((err as VerificationError).file).to.equal(file);
            expect((err as Error).message).to.contain(join(dir, file));
          } finally {
            await writeFile(join(dir, file), original);
          }
        }
      }
      await verifyBundle(dir);
    });

    it('refuses a truncated, a removed and an added file', async () => {
      const model = join(dir, 'model.json');
      const original = await readFile(model);
      await writeFile(model, original.subarray(0, original.length - 1));
      await expectRefused('model.json', /size \d+ bytes, the manifest says \d+/);
      await rm(model);
      await expectRefused('model.json', /missing \(listed in the manifest\)/);
      await writeFile(model, original);
      await writeFile(join(dir, 'extra.js'), 'console.log(1)');
      await expectRefused('extra.js', /not listed in the manifest/);
      await rm(join(dir, 'extra.js'));
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'x'), '');
      await expectRefused('sub/x', /not listed in the manifest/);
      await rm(join(dir, 'sub'), { recursive: true });
      await verifyBundle(dir);
    });

    async function expectRefused(file: string, message: RegExp): Promise<void> {
      try {
        await verifyBundle(dir);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(VerificationError);
        expect((err as VerificationError).file).to.equal(file);
        expect((err as Error).message).to.match(message);
      }
    }

    it('loadPredictor refuses a tampered bundle before building anything', async () => {
      const original = await flip('featurizer.json', 10);
      try {
        await loadPredictor(dir, artifacts);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(VerificationError);
        expect((err as VerificationError).file).to.equal('featurizer.json');
      } finally {
        await writeFile(join(dir, 'featurizer.json'), original);
      }
    });
  });

  describe('references and aliases', () => {
    it('resolves name, name@version, name@alias and a folder', async () => {
      expect((await resolveRef('penguins', artifacts)).version).to.equal('2.3.5');
      expect((await resolveRef('penguins@1.0.1', artifacts)).dir).to.equal(join(artifacts, 'penguins', '1.0.1'));
      await updateAliases(artifacts, 'penguins', (a) => ({ ...a, production: '1.0.0' }));
      expect((await resolveRef('penguins@production', artifacts)).version).to.equal('1.0.0');
      expect((await resolveRef(dir, artifacts)).dir).to.equal(dir);
    });

    it('explains what exists when a reference does not resolve', async () => {
      const cases: [string, string][] = [
        ['pengiuns', `pengiuns: no bundle named "pengiuns" in ${artifacts} (did you mean "penguins"?)`],
        ['penguins@9.9.9', 'penguins@9.9.9: no version 9.9.9 of "penguins" (versions: 1.0.0, 1.0.1, 2.3.4, 2.3.5)'],
        ['penguins@staging', 'penguins@staging: "penguins" has no alias "staging" (aliases: production)'],
        ['./nowhere', './nowhere: no such bundle folder'],
      ];
      for (const [ref, message] of cases) {
        try {
          await resolveRef(ref, artifacts);
          expect.fail(`${ref} should not resolve`);
        } catch (err) {
          expect(err).to.be.instanceOf(NotFoundError);
          expect((err as Error).message).to.equal(message);
        }
      }
    });

    it('keeps every alias when promotions run concurrently', async () => {
      const names = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
      await Promise.all(names.map((n) => updateAliases(artifacts, 'penguins', (a) => ({ ...a, [n]: '1.0.1' }))));
      const aliases = await readAliases(artifacts, 'penguins');
      for (const n of names) expect(aliases[n]).to.equal('1.0.1');
      expect(aliases.production).to.equal('1.0.0');
    });
  });

  describe('loaded model', () => {
    it('predicts one record and many, identically, with labels and probabilities', async () => {
      const model = await loadPredictor('penguins@1.0.0', artifacts);
      const rec = { Island: 'Biscoe', 'Beak Length (mm)': 47.5, 'Beak Depth (mm)': 15, 'Flipper Length (mm)': 218, 'Body Mass (g)': 4950, Sex: 'FEMALE' };
      const one = model.predictOne(rec);
      expect(model.forest.classes).to.include(one.prediction);
      expect(Object.values(one.probabilities ?? {}).reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-12);
      const many = model.predictMany([rec, { ...rec, Island: 'Atlantis', Sex: null }, rec]);
      expect(many[0]).to.deep.equal(one);
      expect(many[2]).to.deep.equal(one);
    });

    it('builds a second bundle from the cars example (regression) that predicts numbers', async () => {
      const cars = await buildExampleBundle({ artifacts, example: 'cars' });
      const model = await loadPredictor(cars.package.ref, artifacts);
      const p = model.predictOne({ Name: 'x', Cylinders: 4, Displacement: 100, Weight_in_lbs: 2200, Acceleration: 15, Year: '1980-01-01', Origin: 'Japan' });
      expect(p.prediction).to.be.a('number');
      expect(p).not.to.have.property('probabilities');
    });
  });
});
