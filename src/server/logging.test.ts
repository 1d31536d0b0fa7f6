import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const LOGGING = fileURLToPath(new URL('./logging.ts', import.meta.url));

/** Runs `script` in a child process that has `createLogger` (JSON lines on stderr) and resolves with its stderr lines as they came. */
function child(script: string, onLine?: (line: string, tell: () => void) => void): Promise<{ lines: string[]; code: number | null }> {
  const code = `import { createLogger } from ${JSON.stringify(LOGGING)};\nconst logger = createLogger();\n${script}`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['pipe', 'ignore', 'pipe'] });
  const lines: string[] = [];
  let rest = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      onLine?.(line, () => proc.stdin.end('exit\n'));
    }
  });
  return new Promise((resolve) => proc.on('close', (exitCode) => resolve({ lines, code: exitCode })));
}

describe('server logging (createLogger)', function () {
  this.timeout(60_000);

  it('writes a lone line within moments, while the process keeps running (a block is flushed on a timer, not only when full)', async () => {
    // The child logs one short line, then waits: it exits 0 when told to (which this test does once the
    // line came), or 3 by itself after 30 s (the line never came while it ran).
    const script = "logger.info({ reqId: 'r1' }, 'request');\nprocess.stdin.on('data', () => process.exit(0));\nsetTimeout(() => process.exit(3), 30_000);";
    const { lines, code } = await child(script, (line, tell) => {
      if (line.includes('"reqId":"r1"')) tell();
    });
    expect(code, 'the line arrived only when the process exited').to.equal(0);
    expect(lines.map((l) => JSON.parse(l) as { msg: string; reqId: string })).to.deep.include.members([{ ...JSON.parse(lines[0]!), msg: 'request', reqId: 'r1' }]);
  });

  it('loses no line when the process exits right after logging many (the last block is flushed at exit)', async () => {
    const { lines, code } = await child("for (let i = 0; i < 5000; i++) logger.info({ n: i }, 'request');\nprocess.exit(0);");
    expect(code).to.equal(0);
    const ns = lines.map((l) => (JSON.parse(l) as { n: number }).n);
    expect(ns).to.have.length(5000);
    expect(ns).to.deep.equal([...Array(5000).keys()]);
  });
});
