import { expect } from 'chai';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError } from '../errors.js';
import { FEATURIZER_KINDS, customKind } from '../features/registry.js';
import { readConfigText } from '../../test-helpers/config.js';

/** `features.custom` in pipeline.yaml: checked when read (names, files), loaded only by featurize. */
describe('pipeline config: features.custom', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
    await copyFile(join(ROOT, 'test', 'fixtures', 'zip-prefix.ts'), join(dir, 'zip-prefix.ts'));
    await writeFile(join(dir, 'zip.py'), 'print(1)\n');
  });
  after(cleanupTempDirs);

  const read = (yaml: string) => readConfigText(dir, yaml);

  it('reads the modules as absolute paths with their config path and line, and loads none of them', async () => {
    const cfg = await read('source: x.csv\ntarget: y\nfeatures:\n  custom:\n    zip-3: zip-prefix.ts\n  columns:\n    zip: {kind: zip-3, digits: 2}\n');
    expect(cfg.features.custom).to.deep.equal([{ name: 'zip-3', path: join(dir, 'zip-prefix.ts'), origin: `${join(dir, 'pipeline.yaml')}: features.custom.zip-3`, line: 5 }]);
    expect(cfg.features.columns).to.deep.equal({ zip: { kind: 'zip-3', digits: 2 } });
    // Reading a config runs no code: the module is not loaded, so its parameters are not checked yet.
    expect(customKind('zip-3')).to.equal(undefined);
  });

  const KINDS = [...FEATURIZER_KINDS.keys()].join(', ');
  const wrong: [string, string, string][] = [
    ['a name with capitals', 'source: x.csv\ntarget: y\nfeatures:\n  custom:\n    Zip: zip-prefix.ts\n', 'pipeline.yaml: features.custom.Zip: invalid name: use lower-case letters, digits and -, starting with a letter (e.g. zip-prefix) (line 5)'],
    ['a name starting with a digit', 'source: x.csv\ntarget: y\nfeatures:\n  custom:\n    3zip: zip-prefix.ts\n', 'pipeline.yaml: features.custom.3zip: invalid name: use lower-case letters, digits and -, starting with a letter (e.g. zip-prefix) (line 5)'],
    ['the name of a built-in kind', 'source: x.csv\ntarget: y\nfeatures:\n  custom:\n    one-hot: zip-prefix.ts\n', 'pipeline.yaml: features.custom.one-hot: "one-hot" is a built-in featurizer; give your own kind another name (line 5)'],
    ['a module that does not exist', 'source: x.csv\ntarget: y\nfeatures:\n  custom:\n    zip-prefix: lib/nope.ts\n', `pipeline.yaml: features.custom.zip-prefix: no file lib/nope.ts (${join('DIR', 'lib', 'nope.ts')}) (line 5)`],
    ['a module that is not JavaScript or TypeScript', 'source: x.csv\ntarget: y\nfeatures:\n  custom:\n    zip-prefix: zip.py\n', 'pipeline.yaml: features.custom.zip-prefix: zip.py: a custom featurizer is a .ts, .mts, .js, .mjs module (line 5)'],
    ['a module that is not a path', 'source: x.csv\ntarget: y\nfeatures:\n  custom:\n    zip-prefix: {path: zip-prefix.ts}\n', 'pipeline.yaml: features.custom.zip-prefix: must be string (line 5)'],
    ['custom that is a list', 'source: x.csv\ntarget: y\nfeatures:\n  custom: [zip-prefix.ts]\n', 'pipeline.yaml: features.custom: must be object (line 4)'],
    [
      'a column naming a kind that is neither built in nor custom',
      'source: x.csv\ntarget: y\nfeatures:\n  custom:\n    zip-prefix: zip-prefix.ts\n  columns:\n    zip: {kind: zip-prefx}\n',
      `pipeline.yaml: features.columns.zip.kind: unknown featurizer "zip-prefx" (did you mean "zip-prefix"?); must be one of ${KINDS}, zip-prefix (line 7)`,
    ],
  ];
  for (const [what, yaml, message] of wrong) {
    it(`reports ${what} with its path and line`, async () => {
      try {
        await read(yaml);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        const expected = `${join(dir, 'pipeline.yaml')}${message.slice('pipeline.yaml'.length)}`.replace('DIR', dir);
        expect((err as ConfigError).message).to.equal(expected);
      }
    });
  }
});
