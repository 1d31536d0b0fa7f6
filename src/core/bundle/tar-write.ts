import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Header, Pax } from 'tar';
import { VerificationError } from '../errors.js';
import { removeStaleTemps, tempPathBeside, writeError } from '../fs-util.js';

/**
 * The modification time of every archive entry: npm's own fixed date (what `npm pack` writes), so
 * the same files always give the same archive bytes.
 */
const ARCHIVE_MTIME = new Date('1985-10-26T08:15:00.000Z');
/** The mode of every archive entry (a regular file readable by all, writable by its owner). */
const ARCHIVE_FILE_MODE = 0o644;

/** One regular file of an archive: its path inside the archive, and its bytes or the file holding them. */
export interface TarFile {
  /** `/`-separated path inside the archive (`penguins-1.0.0/model.json`). */
  path: string;
  /** The bytes, for small generated files (package.json, README.md). */
  bytes?: Uint8Array;
  /** The file to read the bytes from (never through a symbolic link). */
  source?: string;
  /** The sha256 the bytes must have: a source file changed since it was verified is refused. */
  sha256?: string;
}

const BLOCK = 512;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * One header (with a pax header before it when the path does not fit ustar's fields): fixed mode,
 * mtime and owner (uid/gid 0, no user or group names), so headers depend only on path and size.
 */
function headerBlocks(path: string, size: number): Buffer {
  const fields = { path, mode: ARCHIVE_FILE_MODE, uid: 0, gid: 0, size, mtime: ARCHIVE_MTIME, type: 'File' as const, uname: '', gname: '' };
  const block = Buffer.alloc(BLOCK);
  const needPax = new Header(fields).encode(block);
  return needPax ? Buffer.concat([new Pax({ path, size }).encode(), block]) : block;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The tar stream of `files`, in their order, each file read once and checked against its sha256. */
async function* tarChunks(files: readonly TarFile[]): AsyncGenerator<Buffer> {
  for (const file of files) {
    if (file.bytes !== undefined) {
      const bytes = Buffer.from(file.bytes);
      yield headerBlocks(file.path, bytes.length);
      yield bytes;
      yield padding(bytes.length);
      continue;
    }
    const source = file.source as string;
    const handle = await open(source, constants.O_RDONLY | O_NOFOLLOW);
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new VerificationError(file.path, `${source}: not a regular file; an archive holds only regular files`);
      yield headerBlocks(file.path, st.size);
      const hash = createHash('sha256');
      let read = 0;
      // `end` is inclusive: exactly the bytes the header announced, even if the file grows meanwhile.
      if (st.size > 0) {
        for await (const chunk of handle.createReadStream({ autoClose: false, start: 0, end: st.size - 1 })) {
          const buf = chunk as Buffer;
          read += buf.length;
          hash.update(buf);
          yield buf;
        }
      }
      const actual = hash.digest('hex');
      if (read !== st.size || (file.sha256 !== undefined && actual !== file.sha256)) {
        throw new VerificationError(file.path, `${source}: changed while it was being archived (sha256 ${actual.slice(0, 12)}…${file.sha256 ? `, verified as ${file.sha256.slice(0, 12)}…` : ''}); nothing was written`);
      }
      yield padding(st.size);
    } finally {
      await handle.close();
    }
  }
  // End of archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK);
}

/**
 * Writes a gzip-compressed tar of `files` to `out` atomically (a temporary file beside it, renamed
 * over it when complete; removed on failure). Regular files only, each with the same mode, mtime
 * and owner, no folder entries, gzip level 9 with no name or time in its header: the same files in
 * the same order give the same bytes on any machine. Returns the archive's size and sha256.
 */
export async function writeTarGz(out: string, files: readonly TarFile[]): Promise<{ bytes: number; sha256: string; sha512: string }> {
  // Temporary files of an earlier export killed half-way (their owner process is gone) go first.
  await removeStaleTemps(out, [dirname(out)]);
  const tmp = tempPathBeside(out);
  const hash = createHash('sha256');
  const hash512 = createHash('sha512');
  let bytes = 0;
  try {
    const gzip = createGzip({ level: 9 });
    gzip.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      hash512.update(chunk);
    });
    await pipeline(Readable.from(tarChunks(files)), gzip, createWriteStream(tmp, { flags: 'wx' }));
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw writeError(err, out, 'the archive');
  }
  return { bytes, sha256: hash.digest('hex'), sha512: hash512.digest('base64') };
}
