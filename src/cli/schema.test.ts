import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ROOT, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';

describe('CLI: mlpipe schema (real process)', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('prints the published schema, byte for byte; --out writes it', async () => {
    const published = await readFile(join(ROOT, 'schema', 'pipeline.schema.json'), 'utf8');
    const printed = await runCli(['schema']);
    expect(printed.code, printed.stderr).to.equal(0);
    expect(printed.stdout).to.equal(published);
    const dir = await tempDir();
    const written = await runCli(['schema', '--out', join(dir, 'p.schema.json')]);
    expect(written.code, written.stderr).to.equal(0);
    expect(written.stdout).to.equal(`wrote ${join(dir, 'p.schema.json')}\n`);
    expect(await readFile(join(dir, 'p.schema.json'), 'utf8')).to.equal(published);
  });

  it('an unwritable --out (under a file) is exit 1 with one line naming it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    const r = await runCli(['schema', '--out', join(dir, 'file', 'x.json')]);
    expect(r.code).to.equal(1);
    expect(r.stderr.trimEnd().split('\n'), r.stderr).to.have.length(1);
    expect(r.stderr).to.match(/^mlpipe: .*file/);
  });
});
