import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { InvalidArgumentError } from 'commander';
import { cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { columnTypes } from './parse.js';

describe('CLI: numeric day/month dates (--types datetime:dmy, the learned order, the warning)', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await tempDir();
    await writeFile(join(dir, 'ambiguous.csv'), 'when,n\n03/05/2024,1\n04/06/2024,2\n');
    await writeFile(join(dir, 'us.csv'), 'when,n\n03/05/2024,1\n12/31/2024,2\n');
  });
  after(cleanupTempDirs);

  it('--types takes datetime:mdy and datetime:dmy, and lists the allowed values for anything else', () => {
    expect(columnTypes('when=datetime:dmy,zip=category')).to.deep.equal({ when: 'datetime:dmy', zip: 'category' });
    expect(columnTypes('when=datetime:mdy')).to.deep.equal({ when: 'datetime:mdy' });
    expect(() => columnTypes('when=datetime:ymd')).to.throw(InvalidArgumentError, 'column "when": unknown date order "ymd": expected datetime:mdy (month first: 03/05/2024 is March 5) or datetime:dmy (day first: 03/05/2024 is May 3)');
    expect(() => columnTypes('when=date')).to.throw(InvalidArgumentError, 'expected one of number, integer, boolean, category, datetime, text, datetime:mdy, datetime:dmy');
  });

  it('load: the learned order in the summary line and --json; all-ambiguous values warn on stderr', async () => {
    const us = await runCli(['load', 'us.csv', '--out', 'us.arrow'], { cwd: dir });
    expect(us.code, us.stderr).to.equal(0);
    expect(us.stdout.trim()).to.equal('wrote us.arrow: 2 rows × 2 columns (when: datetime (MM/DD/YYYY), n: integer)');
    expect(us.stderr).to.equal('');
    const ambiguous = await runCli(['load', 'ambiguous.csv', '--out', 'a.arrow', '--json'], { cwd: dir });
    expect(ambiguous.code, ambiguous.stderr).to.equal(0);
    const doc = JSON.parse(ambiguous.stdout) as { schema: unknown[]; warnings: string[]; profile: { columns: { dateOrder?: string }[] } };
    expect(doc.schema[0]).to.deep.equal({ name: 'when', type: 'datetime', dateOrder: 'mdy' });
    expect(doc.profile.columns[0]!.dateOrder).to.equal('mdy');
    expect(doc.warnings).to.have.length(1);
    expect(ambiguous.stderr.trim()).to.equal(`warning: ${doc.warnings[0]}`);
    expect(doc.warnings[0]).to.match(/^ambiguous\.csv: column "when": every numeric date in it .* read month first \(MM\/DD\/YYYY, as pandas does\)/);
  });

  it('load --types when=datetime:dmy forces the order (no warning); a bad order is a usage error (exit 2)', async () => {
    const forced = await runCli(['load', 'ambiguous.csv', '--out', 'b.arrow', '--types', 'when=datetime:dmy', '--json'], { cwd: dir });
    expect(forced.code, forced.stderr).to.equal(0);
    const doc = JSON.parse(forced.stdout) as { schema: unknown[]; warnings: string[]; profile: { columns: { min?: string }[] }; lineage: { types: unknown } };
    expect(doc.schema[0]).to.deep.equal({ name: 'when', type: 'datetime', dateOrder: 'dmy' });
    expect(doc.profile.columns[0]!.min).to.equal('2024-05-03T00:00:00.000Z');
    expect(doc.warnings).to.deep.equal([]);
    expect(doc.lineage.types).to.deep.equal({ when: 'datetime:dmy' });
    const contradicted = await runCli(['load', 'us.csv', '--out', 'c.arrow', '--types', 'when=datetime:dmy'], { cwd: dir });
    expect(contradicted.code).to.equal(1);
    expect(contradicted.stderr.trim()).to.equal('mlpipe: us.csv: row 2 (line 3), column "when": expected a date as DD/MM/YYYY (the column\'s order) or like 2024-03-05, got "12/31/2024" (column type datetime:dmy)');
    const bad = await runCli(['load', 'ambiguous.csv', '--out', 'd.arrow', '--types', 'when=datetime:ymd'], { cwd: dir });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('column "when": unknown date order "ymd": expected datetime:mdy');
  });
});
