import { expect } from 'chai';

/**
 * A user-facing error of the CLI: exit 1, exactly one line on stderr starting `mlpipe: `, no stack
 * trace, containing each of `parts`. Returns the line.
 */
export function expectOneLineError(run: { code: number | null; stderr: string }, ...parts: string[]): string {
  expect(run.code, run.stderr).to.equal(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^mlpipe: /);
  expect(run.stderr).not.to.match(/\n\s+at /);
  for (const p of parts) expect(lines[0]).to.contain(p);
  return lines[0] as string;
}
