import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, cleanupTempDirs, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError, fsErrorMessage } from '../errors.js';
import type { DatasetProfile } from '../data/profile.js';
import { REPORT_TEXT_MAX, reportDetails } from '../report/data.js';
import { BUNDLE_NAME_MAX, checkName, checkVersion } from './names.js';

/** Issue 11, problem 12: names, versions and paths the file system refuses get a clear message; report.json keeps no huge text. */
describe('bundle names, file-system messages and report caps', function () {
  this.timeout(180_000);
  after(cleanupTempDirs);

  it('refuses a 300-character name and an oversized version before touching the file system, saying the limit', () => {
    expect(() => checkName('a'.repeat(300))).to.throw(ConfigError, `name: "${'a'.repeat(60)}"… (300 characters) is too long for a bundle name (at most ${BUNDLE_NAME_MAX} characters`);
    expect(checkName('a'.repeat(BUNDLE_NAME_MAX))).to.equal('a'.repeat(BUNDLE_NAME_MAX));
    expect(() => checkVersion('1.0.1234567890')).to.throw(ConfigError, 'at most 9 digits in each part');
    expect(() => checkName('../x')).to.throw(ConfigError, 'not a valid bundle name');
  });

  it('package and run with a 300-character name: exit 1 with the limit, never ENAMETOOLONG', async () => {
    const long = 'n'.repeat(300);
    const work = await tempDir();
    const runs = [
      await runCli(['package', work, '--name', long, '--artifacts', join(work, 'a')]),
      await runCli(['run', join(EXAMPLES, 'penguins', 'penguins.csv'), '--target', 'Species', '--name', long, '--artifacts', join(work, 'a')]),
    ];
    for (const run of runs) {
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.contain(`is too long for a bundle name (at most ${BUNDLE_NAME_MAX} characters`);
      expect(run.stderr).to.not.match(/ENAMETOOLONG|internal error/);
      expect(run.stderr.length).to.be.below(400);
    }
  });

  it('an output path the file system refuses (a 300-byte folder name, a file where a folder should be) is named with the problem', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'file'), '');
    const csv = join(EXAMPLES, 'penguins', 'penguins.csv');
    for (const [out, problem] of [
      [join(work, 'x'.repeat(300), 'ds.arrow'), 'the name is too long for the file system'],
      [join(work, 'file', 'ds.arrow'), 'a part of this path is a file, not a folder'],
    ] as const) {
      const run = await runCli(['load', csv, '--out', out]);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.contain(problem);
      expect(run.stderr).to.contain(work);
      expect(run.stderr).to.not.match(/internal error|ENAMETOOLONG/);
    }
  });

  it('turns every file-system error code users meet into the path and the problem', () => {
    const cases: [string, string][] = [
      ['ENAMETOOLONG', 'the name is too long for the file system'],
      ['ENOTDIR', 'a part of this path is a file, not a folder'],
      ['EISDIR', 'is a folder; a file was expected'],
      ['EACCES', 'permission denied'],
      ['ENOSPC', 'no space left on the device'],
      ['EROFS', 'the file system is read-only'],
    ];
    for (const [code, problem] of cases) {
      const err = Object.assign(new Error(`${code}: x`), { code, path: '/store/name', syscall: 'mkdir' });
      expect(fsErrorMessage(err)).to.match(/^\/store\/name: /).and.to.contain(problem).and.to.match(/ \(mkdir\)$/);
    }
    const long = `/s/${'p'.repeat(5000)}`;
    expect(fsErrorMessage(Object.assign(new Error('x'), { code: 'ENAMETOOLONG', path: long }))!.length).to.be.below(500);
    expect(fsErrorMessage(new Error('plain'))).to.equal(undefined);
  });

  it('report.json keeps at most 200 characters of any text: a 10 MB cell, column name or label is cut with an ellipsis', () => {
    const huge = 'é'.repeat(10 * 1024 * 1024);
    const profile: DatasetProfile = {
      rows: 2,
      columns: [
        { name: huge, type: 'category', count: 2, missing: 0, distinct: 2, top: [{ value: huge, count: 1 }, { value: `😀${huge}`, count: 1 }] },
        { name: 'when', type: 'datetime', count: 2, missing: 0, distinct: 2, min: huge, max: huge },
      ],
    };
    const details = reportDetails({
      task: 'classification',
      classes: [huge, 'b'],
      profile,
      featurizers: { steps: [`one-hot ${huge}`], dropped: [{ column: huge, reason: huge }] },
      y: [0, 1],
      holdout: { actual: [0, 1], predicted: [0, 1], proba: [0.9, 0.1, 0.2, 0.8] },
      seed: 1,
    });
    const json = JSON.stringify(details);
    expect(json.length).to.be.below(20_000);
    const col = details.profile.columns[0]!;
    expect(col.name).to.have.length(REPORT_TEXT_MAX);
    expect(col.name.endsWith('…')).to.equal(true);
    expect(col.top!.every((t) => t.value.length <= REPORT_TEXT_MAX && t.value.endsWith('…'))).to.equal(true);
    expect(details.profile.columns[1]!.min).to.have.length(REPORT_TEXT_MAX);
    expect(details.target.classCounts![0]!.label).to.have.length(REPORT_TEXT_MAX);
    expect(details.featurizers.dropped[0]!.column).to.have.length(REPORT_TEXT_MAX);
    expect(details.holdout?.roc?.positive).to.equal('b');
    // a cut never leaves half a surrogate pair
    expect(() => encodeURIComponent(col.top![1]!.value)).to.not.throw();
  });
});
