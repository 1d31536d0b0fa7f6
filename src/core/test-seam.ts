import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

/**
 * A test-only seam for fault tests (issue 11): inactive, and a single environment read, unless
 * `MLPIPE_TEST_FAULT` is set. Values:
 *
 * - `enospc:<step>`: the step fails as a full disk would (an ENOSPC error naming `path`);
 * - `pause:<step>:<marker file>` (the marker's path has no `:`): at the step, the marker file is written and the process waits
 *   (for up to 10 minutes), so a test can kill it at exactly that point.
 * - `busy:<step>:<marker file>`: as `pause`, but the wait blocks the thread, as a long synchronous
 *   loop does (no event, timer or signal handler runs), so a test can signal a process that cannot
 *   listen.
 *
 * Steps are named where they are called (`package:copy:model.json`, `aliases:locked`, `write:aliases.json`, …).
 */
export async function faultPoint(step: string, path: string): Promise<void> {
  const spec = process.env.MLPIPE_TEST_FAULT;
  if (!spec) return;
  const [kind, at, marker] = splitSpec(spec);
  if (at !== step) return;
  if (kind === 'enospc') {
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'write', path });
  }
  if (kind === 'busy' && marker) {
    writeFileSync(marker, `${process.pid}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600_000);
    return;
  }
  if (kind === 'pause' && marker) {
    await writeFile(marker, `${process.pid}\n`);
    await new Promise((resolve) => setTimeout(resolve, 600_000));
  }
}

function splitSpec(spec: string): [string, string, string | undefined] {
  const first = spec.indexOf(':');
  const kind = spec.slice(0, first);
  const rest = spec.slice(first + 1);
  if (kind !== 'pause' && kind !== 'busy') return [kind, rest, undefined];
  const second = rest.lastIndexOf(':');
  return [kind, rest.slice(0, second), rest.slice(second + 1)];
}
