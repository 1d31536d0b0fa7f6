import { expect } from 'chai';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError, NotFoundError, VerificationError } from '../errors.js';
import { sha256 } from '../fs-util.js';
import { emptyColumn, setCell, type Table } from '../table.js';
import { checkModulesUsed, customRequirements, loadCustomKind } from './custom.js';
import { fitPipeline } from './fit-pipeline.js';
import { FeatureTransformer } from './transformer.js';
import { FEATURIZER_KINDS, builtinKind, customKind, getKind, registerCustomKind, unregisterCustomKind } from './registry.js';
import type { FittedPipeline } from './types.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'zip-prefix.ts');

/** A category column `zip` with missing values. */
function zipTable(values: (string | null)[] = ['94110', '94117', '10001', null, '94110', '60601']): Table {
  const col = emptyColumn('zip', 'category', values.length);
  values.forEach((v, i) => setCell(col, i, v));
  return { columns: [col], rowCount: values.length };
}

/** A small plain-JavaScript featurizer module (`export const featurizer`), with a marker of its import. */
const MJS = (marker: string) => `globalThis.${marker} = (globalThis.${marker} ?? 0) + 1;
export const featurizer = {
  kind: 'whatever-the-module-says',
  description: 'length of the text',
  accepts: ['category', 'text'],
  params(raw) { if (Object.keys(raw).length) throw new Error('takes no parameters'); return {}; },
  fit(column) { return { seen: column.values.length, odd: Number.POSITIVE_INFINITY }; },
  outputs(column) { return [column + '__len']; },
  transform(state, cell, out, offset) { out[offset] = cell === null ? -1 : String(cell).length; },
  summary(params, state) { return 'length, fitted on ' + state.seen + ' rows'; },
};
`;

describe('custom featurizers', () => {
  let dir: string;
  const names: string[] = [];
  /** A fresh kind name per test: kinds are registered for the whole test process. */
  const fresh = (base: string) => {
    const name = `${base}-${names.length}`;
    names.push(name);
    return name;
  };
  before(async () => {
    dir = await tempDir();
    await copyFile(FIXTURE, join(dir, 'zip-prefix.ts'));
  });
  after(async () => {
    for (const n of names) unregisterCustomKind(n);
    await cleanupTempDirs();
  });

  describe('loadCustomKind', () => {
    it('loads a TypeScript module under the configured name and records its sha256 and file name', async () => {
      const name = fresh('zp');
      const loaded = await loadCustomKind({ name, path: join(dir, 'zip-prefix.ts') });
      expect(loaded.sha256).to.equal(sha256(await readFile(FIXTURE)));
      expect(loaded.module).to.equal('zip-prefix.ts');
      expect(loaded.path).to.equal(join(dir, 'zip-prefix.ts'));
      // The configured name wins over the module's own `kind` ("zip-prefix").
      expect(loaded.kind.kind).to.equal(name);
      expect(loaded.kind.accepts).to.deep.equal(['category', 'integer']);
      expect(customKind(name)).to.equal(loaded);
      expect(getKind(name)).to.equal(loaded.kind);
    });

    it('loads a JavaScript module exporting `featurizer`, once: the same bytes again are not imported again', async () => {
      const name = fresh('len');
      const file = join(dir, 'len.mjs');
      await writeFile(file, MJS('__mlpipeLenImports'));
      const first = await loadCustomKind({ name, path: file });
      const second = await loadCustomKind({ name, path: file });
      expect(second).to.equal(first);
      expect((globalThis as Record<string, unknown>).__mlpipeLenImports).to.equal(1);
      expect(first.kind.kind).to.equal(name);
    });

    it('refuses a module whose sha256 is not the expected one before running any of its code', async () => {
      const name = fresh('len');
      const file = join(dir, 'never.mjs');
      await writeFile(file, MJS('__mlpipeNeverImported'));
      const actual = sha256(await readFile(file));
      const recorded = 'a'.repeat(64);
      try {
        await loadCustomKind({ name, path: file, origin: `--featurizer-module ${name}=never.mjs` }, { sha256: recorded, recordedBy: 'm@1.0.0', fix: 'give the right one' });
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(VerificationError);
        expect((err as Error).message).to.equal(
          `--featurizer-module ${name}=never.mjs: ${file} has sha256 ${actual}, but m@1.0.0 was made with the module whose sha256 is ${recorded}: refusing to load a different module; give the right one`,
        );
      }
      expect((globalThis as Record<string, unknown>).__mlpipeNeverImported).to.equal(undefined);
      expect(customKind(name)).to.equal(undefined);
    });

    it('refuses a second, different module under a name this process already loaded', async () => {
      const name = fresh('len');
      await writeFile(join(dir, 'a.mjs'), MJS('__mlpipeA'));
      await writeFile(join(dir, 'b.mjs'), `${MJS('__mlpipeB')}// another version\n`);
      const a = await loadCustomKind({ name, path: join(dir, 'a.mjs') });
      try {
        await loadCustomKind({ name, path: join(dir, 'b.mjs') });
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as Error).message).to.match(new RegExp(`^custom featurizer "${name}": this process already loaded "${name}" from .*a\\.mjs \\(sha256 ${a.sha256}\\); .*b\\.mjs \\(sha256 [0-9a-f]{64}\\) is a different module: one module per name$`));
      }
      expect((globalThis as Record<string, unknown>).__mlpipeB).to.equal(undefined);
    });

    const bad: [string, string, string, string][] = [
      ['no featurizer export', 'nothing.mjs', 'export const zipFeaturizer = {};\n', 'nothing.mjs has no default export (or export named "featurizer"); it exports zipFeaturizer; export the featurizer object: export default { description, accepts, params, fit, outputs, transform, summary }'],
      ['an export that is a function', 'fn.mjs', 'export default function () {}\n', 'fn.mjs: its export is a function, not a featurizer object (description, accepts, params, fit, outputs, transform, summary)'],
      [
        'an object missing methods',
        'half.mjs',
        "export default { description: 'x', accepts: ['number'], params() { return {}; }, fit() { return {}; } };\n",
        'half.mjs does not export a featurizer: outputs must be a function; transform must be a function; summary must be a function',
      ],
      [
        'unknown column types and a target kind without outOfFold',
        'types.mjs',
        "export default { description: 'x', accepts: ['string'], needsTarget: true, params() { return {}; }, fit() { return {}; }, outputs() { return []; }, transform() {}, summary() { return ''; } };\n",
        'types.mjs does not export a featurizer: accepts must be a non-empty list of column types (number, integer, boolean, category, datetime, text); a kind with needsTarget: true must have outOfFold (see FeaturizerKind in src/core/features/types.ts)',
      ],
    ];
    for (const [what, file, text, problem] of bad) {
      it(`refuses ${what}, naming the module`, async () => {
        await writeFile(join(dir, file), text);
        const name = fresh('bad');
        try {
          await loadCustomKind({ name, path: join(dir, file), origin: 'pipeline.yaml: features.custom.x', line: 9 });
          expect.fail('should refuse');
        } catch (err) {
          expect(err).to.be.instanceOf(ConfigError);
          expect((err as Error).message).to.equal(`pipeline.yaml: features.custom.x: ${problem} (line 9)`);
        }
        expect(customKind(name)).to.equal(undefined);
      });
    }

    it('refuses a module that throws while loading, a missing file, a wrong extension, a bad or built-in name', async () => {
      await writeFile(join(dir, 'throws.mjs'), "throw new Error('boom at import');\n");
      const attempt = (name: string, file: string) => loadCustomKind({ name, path: join(dir, file) }).then(() => expect.fail('should refuse'), (err: Error) => err);
      const thrown = await attempt(fresh('t'), 'throws.mjs');
      expect(thrown).to.be.instanceOf(ConfigError);
      expect(thrown.message).to.match(/: .*throws\.mjs: cannot load the module \(boom at import\)$/);
      const missing = await attempt(fresh('t'), 'missing.ts');
      expect(missing).to.be.instanceOf(NotFoundError);
      expect(missing.message).to.contain(`${join(dir, 'missing.ts')}: file not found`);
      expect((await attempt(fresh('t'), 'module.py')).message).to.contain('module.py: a custom featurizer is a .ts, .mts, .js, .mjs module');
      expect((await attempt('Zip', 'zip-prefix.ts')).message).to.equal('custom featurizer "Zip": invalid name "Zip": use lower-case letters, digits and -, starting with a letter (e.g. zip-prefix)');
      expect((await attempt('numeric', 'zip-prefix.ts')).message).to.equal('custom featurizer "numeric": "numeric" is a built-in featurizer; choose another name');
    });
  });

  describe('registry', () => {
    it('keeps built-in kinds apart: custom names are refused when built in, and builtinKind never sees a custom kind', async () => {
      const name = fresh('zp');
      await loadCustomKind({ name, path: join(dir, 'zip-prefix.ts') });
      expect(FEATURIZER_KINDS.has(name)).to.equal(false);
      expect(() => builtinKind(name, 'featurizer.json: steps[0].kind')).to.throw(ConfigError, `featurizer.json: steps[0].kind: unknown featurizer "${name}"`);
      expect(() => registerCustomKind('tfidf', getKind(name), { sha256: '0'.repeat(64), module: 'x.ts', path: '/x.ts' })).to.throw(ConfigError, '"tfidf" is a built-in featurizer');
      expect(unregisterCustomKind(name)).to.equal(true);
      expect(() => getKind(name)).to.throw(ConfigError, `unknown featurizer "${name}"`);
      expect(unregisterCustomKind(name)).to.equal(false);
    });
  });

  describe('fitting and transforming', () => {
    it('records the kind, sha256 and file name (never a path) in a fitted step, and the summary for describing it without code', async () => {
      const name = fresh('zp');
      const loaded = await loadCustomKind({ name, path: join(dir, 'zip-prefix.ts') });
      const pipeline = fitPipeline(zipTable(), { steps: [{ column: 'zip', kind: name, params: { digits: 2 } }], dropped: [] });
      const step = pipeline.steps[0]!;
      expect(step.kind).to.equal(name);
      expect(step.custom).to.deep.equal({ sha256: loaded.sha256, module: 'zip-prefix.ts', summary: 'share of rows by the first 2 characters: 94… 0.5, 10… 0.167, 60… 0.167; unseen → 0' });
      expect(JSON.stringify(pipeline)).not.to.contain(dir);
      expect(customRequirements(pipeline)).to.deep.equal([{ name, sha256: loaded.sha256, module: 'zip-prefix.ts' }]);
      const t = new FeatureTransformer(JSON.parse(JSON.stringify(pipeline)) as FittedPipeline);
      expect(Array.from(t.transformRecord({ zip: '94999' }))).to.deep.equal([0.5]);
      expect(Array.from(t.transformRecord({ zip: '99999' }))).to.deep.equal([0]);
      expect(Array.from(t.transformRecord({ zip: null }))).to.deep.equal([1 / 6]);
      expect(t.describe()).to.deep.equal([`zip (category) → ${name}: share of rows by the first 2 characters: 94… 0.5, 10… 0.167, 60… 0.167; unseen → 0`]);
    });

    it("trains on the state's JSON form, which is what serving reads (a non-JSON value cannot make them differ)", async () => {
      const name = fresh('len');
      await writeFile(join(dir, 'len2.mjs'), MJS('__mlpipeLen2'));
      await loadCustomKind({ name, path: join(dir, 'len2.mjs') });
      const pipeline = fitPipeline(zipTable(), { steps: [{ column: 'zip', kind: name }], dropped: [] });
      // The module's fit returned { odd: Infinity }: JSON has no Infinity, so training sees null too.
      expect(pipeline.steps[0]!.state).to.deep.equal({ seen: 6, odd: null });
    });

    it('reports a custom kind\'s own errors with the config path and line', async () => {
      const name = fresh('zp');
      await loadCustomKind({ name, path: join(dir, 'zip-prefix.ts') });
      const fit = (params: Record<string, unknown>) => () => fitPipeline(zipTable(), { steps: [{ column: 'zip', kind: name, params, path: 'features.columns.zip', line: 12 }], dropped: [] });
      expect(fit({ digits: 0 })).to.throw(ConfigError, `features.columns.zip: custom featurizer "${name}" (zip-prefix.ts): digits: must be a whole number from 1 to 10, got 0 (line 12)`);
      expect(fit({ digit: 2 })).to.throw(ConfigError, `features.columns.zip: custom featurizer "${name}" (zip-prefix.ts): unknown parameter "digit"; known: digits (line 12)`);
    });

    it('refuses a saved custom step whose module is not loaded, or was loaded with another sha256', async () => {
      const name = fresh('zp');
      await loadCustomKind({ name, path: join(dir, 'zip-prefix.ts') });
      const pipeline = fitPipeline(zipTable(), { steps: [{ column: 'zip', kind: name }], dropped: [] });
      const recorded = pipeline.steps[0]!.custom!.sha256;
      unregisterCustomKind(name);
      expect(() => new FeatureTransformer(pipeline)).to.throw(
        ConfigError,
        `featurizer.json: steps[0] (column "zip", custom featurizer "${name}") needs its module zip-prefix.ts (sha256 ${recorded}), which is not loaded; a bundle never contains code: give the module's path (serve and predict: --featurizer-module ${name}=PATH)`,
      );
      // Packaging describes such a step from its record, and refuses to transform with it.
      const described = new FeatureTransformer(pipeline, { unloadedCustom: 'describe' });
      expect(described.width).to.equal(1);
      expect(described.describe()).to.deep.equal([`zip (category) → ${name}: ${pipeline.steps[0]!.custom!.summary}`]);
      expect(() => described.transformRecord({ zip: '94110' })).to.throw(ConfigError, `custom featurizer "${name}" (zip-prefix.ts, sha256 ${recorded}) is not loaded`);
      // Another module under the step's name: refused, with both hashes.
      const other = join(dir, 'other.ts');
      await writeFile(other, `${await readFile(FIXTURE, 'utf8')}\n// changed\n`);
      const loaded = await loadCustomKind({ name, path: other });
      expect(() => new FeatureTransformer(pipeline)).to.throw(
        VerificationError,
        `featurizer.json: steps[0] (column "zip", custom featurizer "${name}") was fitted with zip-prefix.ts of sha256 ${recorded}, but the loaded ${other} has sha256 ${loaded.sha256}: refusing to use a different module`,
      );
    });

    it('never resolves a saved step without a custom record to a custom kind', async () => {
      const name = fresh('zp');
      await loadCustomKind({ name, path: join(dir, 'zip-prefix.ts') });
      const pipeline = fitPipeline(zipTable(), { steps: [{ column: 'zip', kind: name }], dropped: [] });
      const { custom: _custom, ...bare } = pipeline.steps[0]!;
      expect(() => new FeatureTransformer({ ...pipeline, steps: [bare] })).to.throw(ConfigError, `featurizer.json: steps[0].kind: unknown featurizer "${name}"`);
    });
  });

  describe('checkModulesUsed', () => {
    it('refuses a module no bundle uses, suggesting the name it probably meant', () => {
      const used = [{ name: 'zip-prefix', sha256: '0'.repeat(64), module: 'zip-prefix.ts' }];
      expect(() => checkModulesUsed([{ name: 'zip-prefix', path: '/a.ts' }], used, 'm@1.0.0')).not.to.throw();
      expect(() => checkModulesUsed([{ name: 'zip-prefx', path: '/a.ts', origin: '--featurizer-module zip-prefx=a.ts' }], used, 'm@1.0.0')).to.throw(
        ConfigError,
        '--featurizer-module zip-prefx=a.ts: no custom featurizer "zip-prefx" is used by m@1.0.0 (did you mean "zip-prefix"?); used: zip-prefix',
      );
      expect(() => checkModulesUsed([{ name: 'ratio', path: '/a.ts' }], [], 'm@1.0.0, n@2.0.0')).to.throw(ConfigError, 'custom featurizer "ratio": no custom featurizer "ratio" is used by m@1.0.0, n@2.0.0; none is used');
    });
  });
});
