import { expect } from 'chai';
import { cp, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs, packagedExample, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { countReliability } from '../../test-helpers/reliability.js';
import { fsErrorMessage } from '../errors.js';
import { MODEL_FILES } from '../models/model-dir.js';
import { packageModel } from './package.js';

/**
 * Issue 11, problem 12: a full disk while packaging. Each write step of `package` fails on purpose
 * (ENOSPC through the test seam MLPIPE_TEST_FAULT=enospc:<step>, src/core/test-seam.ts): the error
 * names the path and the problem, and the store is exactly as it was (no partial bundle, no
 * temporary folder, no new name folder).
 */
describe('disk full while packaging (reliability)', function () {
  this.timeout(300_000);
  let pristine: string;
  let modelDir: string;
  let cases = 0;
  let passed = 0;

  before(async () => {
    ({ artifacts: pristine, modelDir } = await packagedExample('full'));
  });
  afterEach(() => {
    delete process.env.MLPIPE_TEST_FAULT;
  });
  after(async () => {
    countReliability('disk full while packaging', { cases, passed });
    await cleanupTempDirs();
  });

  /** Every path under a folder with the content of each file: the store's whole state. */
  async function snapshot(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const path = join(e.parentPath, e.name).slice(dir.length);
      out[path] = e.isFile() ? (await readFile(join(e.parentPath, e.name))).toString('base64') : 'dir';
    }
    return out;
  }

  const copySteps = [MODEL_FILES.model, MODEL_FILES.compiled, MODEL_FILES.featurizer, MODEL_FILES.inputSchema, MODEL_FILES.metrics, MODEL_FILES.training, 'report.json'].map((f) => `package:copy:${f}`);
  const existingName = ['package:mkdir', 'package:tmp', ...copySteps, 'package:report', 'package:manifest', 'package:rename'];
  const newName = [...existingName, 'aliases:locked', 'write:aliases.json', 'rename:aliases.json'];

  for (const [name, steps] of [
    ['full', existingName],
    ['brand-new', newName],
  ] as const) {
    it(`${name === 'full' ? 'an existing' : 'a new'} name: a write failing at each step names the path, and the store is as it was`, async () => {
      for (const step of steps) {
        cases++;
        const artifacts = await tempDir();
        await cp(pristine, artifacts, { recursive: true });
        const before = await snapshot(artifacts);
        process.env.MLPIPE_TEST_FAULT = `enospc:${step}`;
        try {
          await packageModel({ modelDir, name, artifacts });
          expect.fail(`${step}: packaging succeeded on a full disk`);
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code, step).to.equal('ENOSPC');
          const message = fsErrorMessage(err);
          expect(message, step).to.match(new RegExp(`^${artifacts}/${name}\\S*: no space left on the device`));
        } finally {
          delete process.env.MLPIPE_TEST_FAULT;
        }
        expect(await snapshot(artifacts), step).to.deep.equal(before);
        passed++;
      }
    });
  }

  it('mlpipe package on a full disk: exit 1, one line naming the path, no partial bundle', async () => {
    cases++;
    const artifacts = await tempDir();
    await cp(pristine, artifacts, { recursive: true });
    const before = await snapshot(artifacts);
    const run = await runCli(['package', modelDir, '--name', 'full', '--artifacts', artifacts], { env: { MLPIPE_TEST_FAULT: 'enospc:package:copy:model.bin' } });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(new RegExp(`^mlpipe: ${artifacts}/full/\\.bundle\\.tmp-\\S+/model\\.bin: no space left on the device \\(free some space and run the command again\\) \\(write\\)\\n$`));
    expect(run.stderr).to.not.contain('internal error');
    expect(await snapshot(artifacts)).to.deep.equal(before);
    passed++;
  });
});
