import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { type FileHandle, access, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ConfigError, MlpipeError, NotFoundError, messageOf } from './errors.js';
import { faultPoint } from './test-seam.js';

/** True when something (a file, a folder) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A fresh temporary path beside `path` (same folder, so a rename is atomic). */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes a file atomically: to a temporary file in the same folder, then renamed over the target.
 * Readers see the old file or the new one, never a partial one; on failure the temporary is removed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathBeside(path);
  try {
    await faultPoint(`write:${basename(path)}`, tmp);
    await writeFile(tmp, data);
    await faultPoint(`rename:${basename(path)}`, path);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Hex sha256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Hex sha256 of a string or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with two-space indentation and a final newline, as every mlpipe JSON file is written. */
export function prettyJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Reads and parses a JSON file; NotFoundError when missing, ConfigError naming the file when invalid. */
export async function readJsonFile<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new NotFoundError(`${path}: file not found`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ConfigError(`${path}: invalid JSON (${messageOf(err)})`);
  }
}

/**
 * Writes text given in pieces to a file atomically (temporary file, then rename), without ever
 * holding the whole text in one string: for model files larger than a JavaScript string may be.
 */
export async function writeChunksAtomic(path: string, chunks: Iterable<string>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathBeside(path);
  const out = createWriteStream(tmp);
  try {
    for (const chunk of chunks) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    await rename(tmp, path);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Whether a process with this id is running (one we may signal, or one that exists under another
 * user). A zombie — exited, not yet reaped, as under a container's PID 1 that never reaps — is not.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(0) is all we know
  }
}

/**
 * Removes the temporary files a killed mlpipe left for `path`: `.<name>.tmp-<pid>-<hex>` (a dataset
 * or file being written, see {@link tempPathBeside}) and `.<name>.spool-<pid>-<hex>` (the loader's
 * spool), beside `path` and in the temporary folder, whose owner process is gone. Stale by owner, not
 * by age: a file of a running process (this one included) is never touched. Returns the paths removed;
 * errors are ignored (cleaning up is best effort and must not fail the command).
 */
export async function removeStaleTemps(path: string, folders: readonly string[] = [dirname(path), tmpdir()]): Promise<string[]> {
  const prefix = `.${basename(path)}.`;
  const pattern = /^(?:tmp|spool)-(\d+)-[0-9a-f]+(?:\.old)?$/;
  const removed: string[] = [];
  for (const folder of new Set(folders)) {
    let entries: string[];
    try {
      entries = await readdir(folder);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.startsWith(prefix)) continue;
      const m = pattern.exec(entry.slice(prefix.length));
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || processAlive(pid)) continue;
      const stale = join(folder, entry);
      try {
        await rm(stale, { recursive: true, force: true });
        removed.push(stale);
      } catch {
        // best effort
      }
    }
  }
  return removed;
}

/** Error codes of a write that failed for want of room. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * A failed file write as an error naming the file and the reason (`…: no space left on the device
 * (ENOSPC)`), so a full disk is not a bare `ENOSPC: no space left on device, write` without a path.
 * Anything that is not a system error (an mlpipe error, a bug) is returned as it is.
 */
export function writeError(err: unknown, path: string, what: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof MlpipeError || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  const reason = NO_SPACE.has(code) ? `no space left on the device (${code}); free some space there or write somewhere else` : messageOf(err);
  return new MlpipeError('internal', `${path}: cannot write ${what}: ${reason}`, { cause: err });
}

/**
 * `fh.writev` until every byte is written. A write to a nearly full file system may write only part of
 * what it was given without an error (the next write then fails with ENOSPC); a bare `writev` would
 * leave a silently short file.
 */
export async function writevAll(fh: FileHandle, buffers: readonly Uint8Array[], position?: number): Promise<void> {
  const parts = buffers.filter((b) => b.byteLength > 0);
  let at = position;
  while (parts.length > 0) {
    const { bytesWritten } = at === undefined ? await fh.writev(parts) : await fh.writev(parts, at);
    if (bytesWritten === 0) throw Object.assign(new Error('no space left on device (a write wrote nothing)'), { code: 'ENOSPC' });
    if (at !== undefined) at += bytesWritten;
    let left = bytesWritten;
    while (left > 0 && parts.length > 0) {
      const first = parts[0]!;
      if (first.byteLength <= left) {
        left -= first.byteLength;
        parts.shift();
      } else {
        parts[0] = first.subarray(left);
        left = 0;
      }
    }
  }
}
