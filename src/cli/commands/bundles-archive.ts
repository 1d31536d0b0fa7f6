import { relative } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../context.js';
import { ARTIFACTS_OPTION } from '../parse.js';

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A byte count: `1000`, `512kb`, `2gb` (units of 1024). */
function byteCount(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError(`expected a size like 4gb, 512mb or a byte count, got "${value}"`);
  const n = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a size of at least 1 byte, got "${value}"`);
  return n;
}

/** A path for a message: relative to the current folder when inside it. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

interface ExportFlags {
  out?: string;
  npm?: boolean;
  scope?: string;
  license?: string;
  artifacts?: string;
  json?: boolean;
}

interface ImportFlags {
  artifacts?: string;
  maxEntrySize?: number;
  maxSize?: number;
  json?: boolean;
}

/** `mlpipe bundles export` and `bundles import`: portable files (.tar.gz) and npm packages. */
export function registerBundlesArchive(bundles: Command, ctx: CliContext): void {

  bundles
    .command('export')
    .description('write a verified bundle as a portable .tar.gz (same bundle, same bytes), or with --npm as an npm package tarball for a private registry')
    .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0, name@alias or npm:@scope/package@1.2.0')
    .option('--out <path>', 'the archive (default <name>-<version>.tar.gz); with --npm a folder (default: the current one) or a .tgz path')
    .option('--npm', 'write an npm package tarball (package/package.json, README.md, bundle/…) that npm publish accepts')
    .option('--scope <scope>', 'with --npm: the package scope, e.g. @acme (package @acme/model-<name>)')
    .option('--license <spdx>', 'with --npm: the package license (default UNLICENSED)')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print one JSON document')
    .action(async (ref: string, opts: ExportFlags) => {
      const artifacts = ctx.artifacts(opts.artifacts);
      if (!opts.npm && (opts.scope !== undefined || opts.license !== undefined)) {
        const { ConfigError } = await import('../../core/errors.js');
        throw new ConfigError(`${opts.scope !== undefined ? '--scope' : '--license'} is for npm packages: add --npm`);
      }
      if (opts.npm) {
        const { exportNpmPackage } = await import('../../core/bundle/npm.js');
        const r = await exportNpmPackage({ ref, artifacts, ...(opts.out !== undefined ? { out: opts.out } : {}), ...(opts.scope !== undefined ? { scope: opts.scope } : {}), ...(opts.license !== undefined ? { license: opts.license } : {}) });
        if (opts.json) {
          ctx.json({ ...r, bundle: `${r.name}@${r.version}`, package: `${r.packageName}@${r.version}` });
          return;
        }
        ctx.out(`wrote ${shownPath(r.file)}: ${r.packageName}@${r.version} (bundle ${r.name}@${r.version}, ${r.files} files, ${r.bytes.toLocaleString('en-US')} bytes)`);
        ctx.progress(`publish it with: npm publish ${shownPath(r.file)}`);
        return;
      }
      const { exportArchive } = await import('../../core/bundle/archive.js');
      const r = await exportArchive({ ref, artifacts, ...(opts.out !== undefined ? { out: opts.out } : {}) });
      if (opts.json) {
        ctx.json({ ...r, bundle: `${r.name}@${r.version}` });
        return;
      }
      ctx.out(`wrote ${shownPath(r.file)}: ${r.name}@${r.version}, ${r.files} files, ${r.bytes.toLocaleString('en-US')} bytes, sha256 ${r.sha256}`);
    });

  bundles
    .command('import')
    .description('check and publish a bundle into the store from a .tar.gz, an installed npm package or a bundle folder; idempotent (the same bundle again is a no-op)')
    .argument('<source>', 'a .tar.gz from bundles export, npm:@scope/package[@1.2.0] (installed), an installed package folder, or a bundle folder')
    .option(...ARTIFACTS_OPTION)
    .addOption(new Option('--max-entry-size <bytes>', 'refuse an archive entry larger than this unpacked (e.g. 512mb)').argParser(byteCount).default(2 * 1024 ** 3, '2gb'))
    .addOption(new Option('--max-size <bytes>', 'refuse an archive whose entries unpack to more than this in all').argParser(byteCount).default(4 * 1024 ** 3, '4gb'))
    .option('--json', 'print one JSON document')
    .action(async (source: string, opts: ImportFlags) => {
      const { importBundle } = await import('../../core/bundle/archive.js');
      const artifacts = ctx.artifacts(opts.artifacts);
      const limits = { ...(opts.maxEntrySize !== undefined ? { maxEntryBytes: opts.maxEntrySize } : {}), ...(opts.maxSize !== undefined ? { maxTotalBytes: opts.maxSize } : {}) };
      const r = await importBundle(source, artifacts, { limits });
      if (opts.json) {
        ctx.json(r);
        return;
      }
      ctx.out(r.status === 'published' ? `imported ${r.ref} into ${r.store}` : `${r.ref} already in ${r.store} (identical)`);
    });
}
