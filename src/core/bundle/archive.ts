import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { type FileHandle, mkdir, mkdtemp, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ConfigError, MlpipeError, NotFoundError, VerificationError, messageOf, quoteText } from '../errors.js';
import { processAlive, writeError, writevAll } from '../fs-util.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';
import { resolveRef } from './store.js';
import { type TarFile, writeTarGz } from './tar-write.js';
import { SIGNATURE_FILE, type PublishExistingResult, publishExisting } from './transfer.js';
import { readBundleFile, safeName, verifyBundle } from './verify.js';

/** Bounds on what `bundles import` unpacks from an archive (a tar bomb is refused before it fills a disk). */
export interface ArchiveLimits {
  /** Largest entry (bytes unpacked). */
  maxEntryBytes: number;
  /** Largest total of all entries (bytes unpacked). */
  maxTotalBytes: number;
  /** Largest ratio of unpacked bytes to the archive's size, checked once the total is over {@link ArchiveLimits.ratioFloorBytes}. */
  maxRatio: number;
  /** Below this many unpacked bytes the ratio is not checked (small archives of small files compress very well). */
  ratioFloorBytes: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The default bounds: 2 GiB an entry, 4 GiB in all, and at most 200 × the archive's size past 16 MiB. */
const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = { maxEntryBytes: 2 * GiB, maxTotalBytes: 4 * GiB, maxRatio: 200, ratioFloorBytes: 16 * MiB };

/** The largest manifest.json read into memory from an archive. */
const MAX_MANIFEST_BYTES = 64 * MiB;

/** What {@link exportArchive} wrote. */
export interface ExportResult {
  /** The archive written. */
  file: string;
  name: string;
  version: string;
  /** Entries in the archive. */
  files: number;
  bytes: number;
  sha256: string;
}

/** The archive's one top folder: `<name>-<version>`. */
function archiveTop(manifest: Pick<Manifest, 'name' | 'version'>): string {
  return `${manifest.name}-${manifest.version}`;
}

/**
 * The files of a verified bundle folder, in archive order: manifest.json first (an importer knows
 * what to expect from the first entry on), the listed files sorted by name, signature.json last when
 * the bundle has one. Each listed file carries the sha256 it was verified with.
 */
export async function bundleTarFiles(dir: string, manifest: Manifest, prefix: string): Promise<TarFile[]> {
  const files: TarFile[] = [{ path: `${prefix}${MANIFEST_FILE}`, bytes: await readBundleFile(dir, MANIFEST_FILE, false) }];
  for (const file of Object.keys(manifest.files).sort()) files.push({ path: `${prefix}${file}`, source: join(dir, file), sha256: (manifest.files[file] as { sha256: string }).sha256 });
  const signature = await readBundleFile(dir, SIGNATURE_FILE, false).catch((err: unknown) => {
    if (err instanceof VerificationError && /: missing$/.test(err.message)) return undefined;
    throw err;
  });
  if (signature !== undefined) files.push({ path: `${prefix}${SIGNATURE_FILE}`, bytes: signature });
  return files;
}

/**
 * Exports a bundle as a gzip-compressed tar: every file under one top folder `<name>-<version>/`
 * (manifest.json, each listed file, signature.json when present). The bundle is verified first and
 * each file is checked against its sha256 again while it is archived. Regular files with a fixed
 * mode, mtime and owner: the same bundle always gives the same archive bytes. Written atomically
 * (`out` appears whole or not at all); `out` defaults to `<name>-<version>.tar.gz` in `cwd`.
 */
export async function exportArchive(options: { ref: string; artifacts: string; out?: string; cwd?: string }): Promise<ExportResult> {
  const { dir } = await resolveRef(options.ref, options.artifacts);
  const manifest = await verifyBundle(dir);
  const top = archiveTop(manifest);
  const out = resolve(options.cwd ?? process.cwd(), options.out ?? `${top}.tar.gz`);
  const files = await bundleTarFiles(dir, manifest, `${top}/`);
  const written = await writeTarGz(out, files);
  return { file: out, name: manifest.name, version: manifest.version, files: files.length, bytes: written.bytes, sha256: written.sha256 };
}

/** A refusal naming the archive and the entry at fault. */
function refusal(archive: string, entry: string | undefined, problem: string): VerificationError {
  const where = entry === undefined ? archive : `${archive}: entry ${quoteText(entry)}`;
  return new VerificationError(entry ?? basename(archive), `${where}: ${problem}; refusing the archive (nothing was imported)`);
}

/** How an entry type is said in a message. */
function typeInWords(entry: ReadEntry): string {
  switch (entry.type) {
    case 'SymbolicLink':
      return `a symbolic link (to ${quoteText(entry.linkpath ?? '')}); an archive of a bundle holds only regular files`;
    case 'Link':
      return `a hard link (to ${quoteText(entry.linkpath ?? '')}); an archive of a bundle holds only regular files`;
    case 'CharacterDevice':
    case 'BlockDevice':
      return 'a device file; an archive of a bundle holds only regular files';
    case 'FIFO':
      return 'a FIFO (named pipe); an archive of a bundle holds only regular files';
    default:
      return `an entry of type ${quoteText(String(entry.type))}; an archive of a bundle holds only regular files and its top folder`;
  }
}

function isFileType(type: string): boolean {
  return type === 'File' || type === 'OldFile';
}

/** A file unpacked from an archive into the private folder. */
interface Unpacked {
  entry: string;
  name: string;
  bytes: number;
  sha256: string;
}

/** The bytes count in words (`4,294,967,296 bytes`). */
function bytesText(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

/**
 * Reads an archive entry by entry into `into` (a private temporary folder): each entry is checked
 * before a byte of it is written: its type (regular files and the top folder only), its path (not
 * absolute, no `..`, inside the single top folder, a plain file name), duplicates, its size and the
 * running total against `limits`, and, once manifest.json was read, that the manifest lists it.
 * Returns the top folder, the manifest's bytes and the unpacked files.
 */
async function unpack(archive: string, path: string, into: string, limits: ArchiveLimits): Promise<{ top: string; manifest: Buffer | undefined; files: Unpacked[] }> {
  const compressed = (await stat(path)).size;
  const head = Buffer.alloc(2);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) throw refusal(archive, undefined, 'not a gzip file (a .tar.gz written by mlpipe bundles export was expected)');

  let top: string | undefined;
  const seen = new Set<string>();
  const files: Unpacked[] = [];
  let manifestBytes: Buffer | undefined;
  let listed: Set<string> | undefined;
  let total = 0;
  const pending: Promise<void>[] = [];

  const checkListed = (file: Unpacked): void => {
    if (listed && file.name !== SIGNATURE_FILE && !listed.has(file.name)) throw refusal(archive, file.entry, `not listed in ${top}/${MANIFEST_FILE}: a file was added to the bundle after it was written`);
  };

  return new Promise((resolvePromise, reject) => {
    let failed = false;
    const input = createReadStream(path);
    const gunzip = createGunzip();
    const parser = new Parser({ strict: true });
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      input.destroy();
      gunzip.destroy();
      parser.removeAllListeners('entry');
      reject(err);
    };
    /** Checks an entry's header; returns the file name inside the top folder (undefined: the top folder itself). */
    const check = (entry: ReadEntry): string | undefined => {
      const raw = entry.path;
      if (!isFileType(entry.type) && entry.type !== 'Directory') throw refusal(archive, raw, typeInWords(entry));
      if (raw.startsWith('/') || raw.startsWith('\\') || /^[A-Za-z]:/.test(raw)) throw refusal(archive, raw, 'an absolute path; every entry must be inside the archive\'s top folder');
      const parts = raw.split('/');
      if (parts.includes('..')) throw refusal(archive, raw, 'a path with ".."; every entry must stay inside the archive\'s top folder');
      while (parts[0] === '.' && parts.length > 1) parts.shift();
      if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
      if (parts.some((p) => p === '' || p === '.')) throw refusal(archive, raw, 'not a plain path (an empty or "." part)');
      const first = parts[0] as string;
      if (top === undefined) {
        if (!safeName(first) || (isFileType(entry.type) && parts.length === 1)) throw refusal(archive, raw, 'outside a top folder; a bundle archive holds one folder <name>-<version>/ with the bundle\'s files');
        top = first;
      }
      if (first !== top) throw refusal(archive, raw, `outside the archive's single top folder ${quoteText(top)}`);
      const key = parts.join('/');
      if (seen.has(key)) throw refusal(archive, raw, 'a duplicate entry (the archive holds this path twice)');
      seen.add(key);
      if (entry.type === 'Directory') {
        if (parts.length > 1) throw refusal(archive, raw, 'a sub-folder; a bundle holds only files in its one folder');
        return undefined;
      }
      if (parts.length === 1) throw refusal(archive, raw, `a file outside the archive's single top folder ${quoteText(top)}`);
      if (parts.length > 2) throw refusal(archive, raw, 'a file in a sub-folder; a bundle holds only files in its one folder');
      const name = parts[1] as string;
      if (!safeName(name)) throw refusal(archive, raw, 'not a plain file name');
      const size = entry.size ?? 0;
      if (size > limits.maxEntryBytes) throw refusal(archive, raw, `${bytesText(size)} unpacked, over the bound of ${bytesText(limits.maxEntryBytes)} an entry may have (a tar bomb?)`);
      total += size;
      if (total > limits.maxTotalBytes) throw refusal(archive, raw, `brings the archive's unpacked total to ${bytesText(total)}, over the bound of ${bytesText(limits.maxTotalBytes)} (a tar bomb?)`);
      if (total > limits.ratioFloorBytes && total > compressed * limits.maxRatio) {
        throw refusal(archive, raw, `brings the archive's unpacked total to ${bytesText(total)} from ${bytesText(compressed)} compressed, a ratio over ${limits.maxRatio} (a tar bomb?)`);
      }
      if (name === MANIFEST_FILE && size > MAX_MANIFEST_BYTES) throw refusal(archive, raw, `${bytesText(size)}, too large for a manifest`);
      if (listed && name !== MANIFEST_FILE && name !== SIGNATURE_FILE && !listed.has(name)) throw refusal(archive, raw, `not listed in ${top}/${MANIFEST_FILE}: a file was added to the bundle after it was written`);
      return name;
    };

    /** Writes one file entry into the private folder (never through a link: O_EXCL | O_NOFOLLOW), hashing it. */
    const write = async (entry: ReadEntry, name: string): Promise<void> => {
      let handle: FileHandle | undefined;
      const hash = createHash('sha256');
      const chunks: Buffer[] | undefined = name === MANIFEST_FILE ? [] : undefined;
      let bytes = 0;
      try {
        handle = await open(join(into, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          if (failed) return;
          hash.update(chunk);
          bytes += chunk.length;
          chunks?.push(chunk);
          await writevAll(handle, [chunk]);
        }
      } catch (err) {
        throw writeError(err, join(into, name), `entry ${quoteText(entry.path)} of ${archive}`);
      } finally {
        await handle?.close();
      }
      const file: Unpacked = { entry: entry.path, name, bytes, sha256: hash.digest('hex') };
      if (chunks) {
        manifestBytes = Buffer.concat(chunks);
        let parsed: Partial<Manifest>;
        try {
          parsed = JSON.parse(manifestBytes.toString('utf8')) as Partial<Manifest>;
        } catch (err) {
          throw refusal(archive, entry.path, `not valid JSON (${messageOf(err)})`);
        }
        if (parsed === null || typeof parsed !== 'object' || typeof parsed.files !== 'object' || parsed.files === null) throw refusal(archive, entry.path, 'not an mlpipe bundle manifest (no "files")');
        listed = new Set(Object.keys(parsed.files));
        // Entries read before the manifest are checked now.
        for (const earlier of files) checkListed(earlier);
      } else checkListed(file);
      files.push(file);
    };

    parser.on('entry', (entry: ReadEntry) => {
      if (failed) {
        entry.resume();
        return;
      }
      let name: string | undefined;
      try {
        name = check(entry);
      } catch (err) {
        fail(err);
        return;
      }
      if (name === undefined) {
        entry.resume();
        return;
      }
      // The parser waits for this entry's end before the next one: entries are written one at a time.
      pending.push(write(entry, name).catch((err: unknown) => fail(err)));
    });
    // An entry of an unknown type, or a meta entry over the parser's bound: neither belongs in a bundle.
    parser.on('ignoredEntry', (entry: ReadEntry) => fail(refusal(archive, entry.path, typeInWords(entry))));
    parser.on('error', (err: Error & { tarCode?: string; entry?: { path?: string } }) => {
      const what = err.tarCode === 'TAR_BAD_ARCHIVE' || err.tarCode === 'TAR_ENTRY_INVALID' ? `not a valid tar archive inside the gzip (${messageOf(err).replace(/^TAR_[A-Z_]+: /, '')})` : `unreadable as a tar archive (${messageOf(err)})`;
      // A header that fails its checksum has no path worth quoting; a truncated entry has one.
      fail(refusal(archive, err.entry?.path, what));
    });
    gunzip.on('error', (err) => fail(refusal(archive, undefined, `not a valid gzip file (${messageOf(err)})`)));
    input.on('error', (err) => fail(err));
    parser.on('end', () => {
      void Promise.all(pending).then(() => {
        if (failed) return;
        resolvePromise({ top: top ?? '', manifest: manifestBytes, files });
      }, fail);
    });
    input.pipe(gunzip).pipe(parser as unknown as NodeJS.WritableStream);
  });
}

/** Rewrites a verification message about the private folder so it names the archive and entry instead. */
function inArchive(err: unknown, tmpBundle: string, archive: string, top: string): unknown {
  if (!(err instanceof MlpipeError)) return err;
  const file = err instanceof VerificationError ? err.file : '';
  let message = err.message;
  const named = `${tmpBundle}/${file}`;
  if (file && message.includes(named)) message = message.split(named).join(`${archive}: entry ${quoteText(`${top}/${file}`)}`);
  message = message.split(`${tmpBundle}/`).join(`${archive}: ${top}/`).split(tmpBundle).join(`${archive}: ${top}`);
  return new VerificationError(file, `${message}; refusing the archive (nothing was imported)`);
}

/** The private temporary folders of imports: `mlpipe-import-<pid>-<random>` in the system's temporary folder. */
const IMPORT_PREFIX = 'mlpipe-import-';

/** Removes the temporary folders of imports killed half-way (their process is gone). Best effort. */
async function removeStaleImports(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(/^mlpipe-import-(\d+)-/.exec(entry)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    await rm(join(tmpdir(), entry), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Options of {@link importArchive} and {@link importBundle}. */
export interface ImportOptions {
  /** Bounds on the unpacked size (default {@link DEFAULT_ARCHIVE_LIMITS}). */
  limits?: Partial<ArchiveLimits>;
  /** Where `npm:` references are resolved from (default: the current folder). */
  cwd?: string;
}

/**
 * Imports a `.tar.gz` written by {@link exportArchive} into a store. The archive is read entry by
 * entry into a private temporary folder (mkdtemp), each entry checked before it is written (see
 * {@link unpack}); then every listed file must be present with its sha256 and the bundle must verify
 * as a whole. Only then is it published (see {@link publishExisting}): nothing becomes visible in
 * the store before every check passed, and the temporary folder is removed on every path.
 *
 * @throws VerificationError naming the archive and the entry at fault, for every refusal.
 */
async function importArchive(file: string, artifacts: string, options: ImportOptions = {}): Promise<PublishExistingResult & { source: string }> {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...options.limits };
  const path = resolve(options.cwd ?? process.cwd(), file);
  await removeStaleImports();
  const tmp = await mkdtemp(join(tmpdir(), `${IMPORT_PREFIX}${process.pid}-`));
  try {
    const bundle = join(tmp, 'bundle');
    await mkdir(bundle, { mode: 0o700 });
    const { top, manifest, files } = await unpack(file, path, bundle, limits);
    if (manifest === undefined) throw refusal(file, undefined, `no ${MANIFEST_FILE} in its top folder ${quoteText(top)}; not an archive of an mlpipe bundle`);
    const listed = (JSON.parse(manifest.toString('utf8')) as Manifest).files;
    for (const f of files) {
      const expected = Object.hasOwn(listed, f.name) ? listed[f.name] : undefined;
      if (!expected) continue;
      if (f.bytes !== expected.bytes) throw refusal(file, f.entry, `${bytesText(f.bytes)}, the manifest says ${expected.bytes}: the file was changed after the bundle was written`);
      if (f.sha256 !== expected.sha256) throw refusal(file, f.entry, `checksum mismatch (sha256 ${f.sha256.slice(0, 12)}…, the manifest says ${expected.sha256.slice(0, 12)}…): the file was changed after the bundle was written`);
    }
    const present = new Set(files.map((f) => f.name));
    for (const name of Object.keys(listed)) if (!present.has(name)) throw refusal(file, `${top}/${name}`, `listed in ${top}/${MANIFEST_FILE} but missing from the archive`);
    let verified: Manifest;
    try {
      verified = await verifyBundle(bundle);
    } catch (err) {
      throw inArchive(err, bundle, file, top);
    }
    return { ...(await publishExisting(artifacts, bundle, { manifest: verified })), source: file };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Imports a bundle into a store from what a user has: a `.tar.gz` archive ({@link importArchive}),
 * `npm:@scope/pkg[@version]` (an installed npm package, see npm.ts), an installed package's folder
 * (its package.json names the bundle folder under `mlpipe.bundle`) or a bundle folder. The bundle
 * is verified, then published at its own name and version ({@link publishExisting}).
 */
export async function importBundle(source: string, artifacts: string, options: ImportOptions = {}): Promise<PublishExistingResult & { source: string }> {
  const cwd = options.cwd ?? process.cwd();
  if (source.startsWith('npm:')) {
    const { resolveNpmRef } = await import('./npm.js');
    const { dir } = await resolveNpmRef(source, cwd);
    return { ...(await publishExisting(artifacts, dir)), source };
  }
  const path = resolve(cwd, source);
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new NotFoundError(`${source}: no such file or folder (give a .tar.gz from mlpipe bundles export, npm:@scope/package, an installed package's folder or a bundle folder)`);
  }
  if (st.isDirectory()) {
    const { bundleDirOfPackage } = await import('./npm.js');
    const hasPackageJson = await readFile(join(path, 'package.json')).then(() => true, () => false);
    const hasManifest = await stat(join(path, MANIFEST_FILE)).then(() => true, () => false);
    if (hasPackageJson && !hasManifest) return { ...(await publishExisting(artifacts, await bundleDirOfPackage(path, source))), source };
    if (!hasManifest) throw new NotFoundError(`${source}: neither a bundle folder (no ${MANIFEST_FILE}) nor an npm package folder (no package.json)`);
    return { ...(await publishExisting(artifacts, path)), source };
  }
  if (!st.isFile()) throw new ConfigError(`${source}: not a regular file or folder`);
  return importArchive(source, artifacts, options);
}
