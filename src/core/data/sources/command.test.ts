import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DataError } from '../../errors.js';
import { SourceError } from './errors.js';
import { commandSource } from './command.js';
import { rejection, chunksOf } from '../../../test-helpers/async.js';

/** A `node -e` command line running `script` (given in single quotes to the shell). */
function node(script: string): string {
  return `"${process.execPath}" -e '${script}'`;
}

/** True while a process with this id runs (a zombie waiting to be reaped by init does not count). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe('commandSource', () => {
  it('reads NDJSON from a command (the default format), streaming, in chunks', async () => {
    const command = node('for (let i = 0; i < 2500; i++) console.log(JSON.stringify({ i, even: i % 2 === 0, name: "n" + i }))');
    const source = commandSource({ kind: 'command', command });
    const chunks = await chunksOf(source, 1000);
    expect(chunks.map((c) => c.rows.length)).to.deep.equal([1000, 1000, 500]);
    expect(chunks[0]?.columns).to.deep.equal(['i', 'even', 'name']);
    expect(chunks[0]?.rows[0]).to.deep.equal([0, true, 'n0']);
    expect(chunks[2]?.rows[499]).to.deep.equal([2499, false, 'n2499']);
    expect(source.lineage()).to.deep.equal({ kind: 'command', command, format: 'ndjson', rows: 2500 });
  });

  it('is named by its command in messages, shortened when long; the lineage keeps it whole', () => {
    expect(commandSource({ kind: 'command', command: 'cat  data.ndjson' }).name).to.equal('command "cat data.ndjson"');
    const long = `echo ${'x'.repeat(200)}`;
    const source = commandSource({ kind: 'command', command: long });
    expect(source.name).to.equal(`command "${long.slice(0, 99)}…"`);
    expect(source.lineage().command).to.equal(long);
  });

  it('reads CSV (and TSV) output with the CSV options', async () => {
    const csv = commandSource({ kind: 'command', command: "printf 'id;name\\n1;Ada\\n2;Bob\\n'", format: 'csv' });
    const [chunk] = await chunksOf(csv);
    expect(chunk?.columns).to.deep.equal(['id', 'name']);
    expect(chunk?.rows).to.deep.equal([
      ['1', 'Ada'],
      ['2', 'Bob'],
    ]);
    expect(csv.lineage()).to.include({ kind: 'command', format: 'csv', rows: 2 });
    const tsv = commandSource({ kind: 'command', command: "printf '1\\tx\\n'", format: 'tsv', header: false });
    expect((await chunksOf(tsv))[0]?.rows).to.deep.equal([['1', 'x']]);
  });

  it('a command that exits non-zero is a SourceError naming the command and quoting its stderr', async () => {
    const command = 'echo \'{"a":1}\'; echo "first problem" >&2; echo "connection refused by server" >&2; exit 3';
    const source = commandSource({ kind: 'command', command });
    const err = await rejection(chunksOf(source));
    expect(err).to.be.instanceOf(SourceError);
    expect((err as SourceError).exitCode).to.equal(1);
    expect(err.message).to.equal(`command "${command}": exited with code 3: first problem | connection refused by server`);
  });

  it('quotes at most about 300 characters of a long stderr, ending with its last line', async () => {
    const command = node('for (let i = 0; i < 200; i++) console.error("line " + i + " " + "x".repeat(40)); process.exit(2)');
    const err = await rejection(chunksOf(commandSource({ kind: 'command', command })));
    expect(err).to.be.instanceOf(SourceError);
    const quoted = err.message.slice(err.message.indexOf('exited with code 2: ') + 'exited with code 2: '.length);
    expect(quoted.length).to.be.at.most(310);
    expect(quoted.endsWith(`line 199 ${'x'.repeat(40)}`)).to.equal(true);
    expect(quoted).to.not.include('line 0 ');
  });

  it('a failing command that printed bad output reports the failure, not the parse error', async () => {
    const err = await rejection(chunksOf(commandSource({ kind: 'command', command: 'echo "Usage: tool [options]"; echo "bad flag --x" >&2; exit 64' })));
    expect(err).to.be.instanceOf(SourceError);
    expect(err.message).to.match(/: exited with code 64: bad flag --x$/);
  });

  it('a command that cannot run is a SourceError with the shell’s message', async () => {
    const err = await rejection(chunksOf(commandSource({ kind: 'command', command: 'mlpipe-no-such-command-xyz --all' })));
    expect(err).to.be.instanceOf(SourceError);
    expect(err.message).to.match(/^command "mlpipe-no-such-command-xyz --all": exited with code 127: .*not found/);
  });

  it('bad output from a successful command is a DataError naming the command and line', async () => {
    const source = commandSource({ kind: 'command', command: "printf '{\"a\":1}\\nnot json\\n'" });
    const err = await rejection(chunksOf(source));
    expect(err).to.be.instanceOf(DataError);
    expect((err as DataError).location).to.deep.equal({ source: source.name, line: 2 });
  });

  it('bad output from a command that keeps writing is the parse error, and the command is stopped', async () => {
    const source = commandSource({ kind: 'command', command: "yes 'not json'" });
    const started = Date.now();
    const err = await rejection(chunksOf(source));
    expect(err).to.be.instanceOf(DataError);
    expect(err.message.startsWith(`${source.name}: line 1: invalid JSON`)).to.equal(true);
    expect(Date.now() - started).to.be.below(5000);
  });

  it('breaking out early kills the command (and the process the shell started for it)', async function () {
    this.timeout(20_000);
    // Prints its pid on every line, then waits a minute: only a kill ends it early.
    const command = node('for (let i = 0; i < 50; i++) console.log(JSON.stringify({ i, pid: process.pid })); setTimeout(() => {}, 60000)');
    const source = commandSource({ kind: 'command', command });
    let pid = 0;
    for await (const chunk of source.chunks(10)) {
      pid = chunk.rows[0]?.[1] as number;
      break;
    }
    expect(pid).to.be.a('number').and.to.be.greaterThan(0);
    expect(await waitUntil(() => !alive(pid), 5000), `process ${pid} still running`).to.equal(true);
    expect(source.lineage().rows).to.equal(10);
  });
});
