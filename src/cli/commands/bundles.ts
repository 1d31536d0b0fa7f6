import type { Command } from 'commander';
import { MlpipeError, VerificationError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { ARTIFACTS_OPTION, type FeaturizerModuleFlag, featurizerModule, integer } from '../parse.js';
import { gcVersionsCommand, registerRegistry } from './bundles-registry.js';
import { fmt, table } from '../render.js';
import { registerBundlesArchive } from './bundles-archive.js';
import { registerStoreCommands } from './bundles-store.js';
import { registerBundlesSign } from './bundles-sign.js';
import { keyFiles, readTrusted } from './keys.js';

/** `mlpipe bundles list|show|verify|gc`; bundles-registry.ts: `promote|rollback|history|diff|compare`; bundles-store.ts: `push|pull|index`; bundles-archive.ts: `export|import`; bundles-sign.ts: `sign`. */
export function registerBundles(program: Command, ctx: CliContext): void {
  const bundles = program.command('bundles').description('list, show, verify, promote, roll back, diff, compare, sign, copy and clean up bundles in a store');

  registerStoreCommands(bundles, ctx);

  bundles
    .command('list')
    .description('every bundle version in the store, with aliases and headline metrics')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print one JSON document')
    .action(async (opts: { artifacts?: string; json?: boolean }) => {
      const store = await import('../../core/bundle/store.js');
      const artifacts = ctx.artifacts(opts.artifacts);
      const rows: { name: string; version: string; aliases: string[]; task?: string; target?: string; createdAt?: string; metric?: string; error?: string }[] = [];
      for (const name of await store.listNames(artifacts)) {
        const aliases = await store.readAliases(artifacts, name).catch(() => ({}) as Record<string, string>);
        for (const version of await store.listVersions(artifacts, name)) {
          const aliasNames = Object.entries(aliases).filter(([, v]) => v === version).map(([a]) => a);
          try {
            // The manifest only (fast): a forged file name or a linked folder shows as INVALID; bundles verify checks every file.
            const m = await store.readStoreManifest(artifacts, name, version);
            const h = m.metrics.holdout;
            const metric = !h ? '' : 'accuracy' in h.model ? `accuracy ${fmt(h.model.accuracy)}` : `r2 ${fmt(h.model.r2)}`;
            rows.push({ name, version, aliases: aliasNames, task: m.task, target: m.target.name, createdAt: m.createdAt, metric });
          } catch (err) {
            rows.push({ name, version, aliases: aliasNames, error: (err as Error).message });
          }
        }
      }
      if (opts.json) {
        ctx.json({ artifacts, bundles: rows });
        return;
      }
      if (rows.length === 0) {
        ctx.out(`no bundles in ${artifacts}`);
        return;
      }
      ctx.out(table(['bundle', 'aliases', 'task', 'target', 'created', 'holdout'], rows.map((r) => [`${r.name}@${r.version}`, r.aliases.join(', '), r.task ?? 'INVALID', r.target ?? '', r.createdAt?.slice(0, 19).replace('T', ' ') ?? '', r.metric ?? r.error ?? ''])));
    });

  bundles
    .command('show')
    .description('what a bundle holds: who signed it, task, target, metrics, featurizers, input schema, lineage, files')
    .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0 or name@alias')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print the whole manifest')
    .action(async (ref: string, opts: { artifacts?: string; json?: boolean }) => {
      const { resolveRef } = await import('../../core/bundle/store.js');
      const { verifyBundle } = await import('../../core/bundle/verify.js');
      const { metricsLines } = await import('../render.js');
      const { dir } = await resolveRef(ref, ctx.artifacts(opts.artifacts));
      // Verified before anything is shown: a forged or changed bundle is exit 1 naming the file.
      const m = await verifyBundle(dir);
      if (opts.json) {
        ctx.json(m);
        return;
      }
      ctx.out(`${m.name}@${m.version}  (${dir})`);
      ctx.out(`created ${m.createdAt} by mlpipe ${m.lineage.mlpipeVersion} on Node ${m.lineage.node}${m.lineage.gitCommit ? `, git ${m.lineage.gitCommit}` : ''}`);
      // Its shape, and that it signs this manifest, were checked by verifyBundle; the key by bundles verify --key.
      const signature = await (await import('../../core/bundle/verify.js')).readSignature(dir);
      ctx.out(signature ? `signed by ${signature.keyId} at ${signature.signedAt}` : 'unsigned');
      ctx.out(`task ${m.task}: predicts ${m.target.name} (${m.target.type})${m.classes ? `; classes ${m.classes.join(', ')}` : ''}`);
      ctx.out(`model ${m.model.type} (${m.model.engine}): ${Object.entries(m.model.params).map(([k, v]) => `${k}=${v}`).join(' ')}; ${m.model.featureCount} features`);
      const { describeSource } = await import('../../core/lineage.js');
      if (m.lineage.dataset) ctx.out(`data: ${describeSource(m.lineage.dataset.source)} (${m.lineage.dataset.rows} rows, ${m.lineage.dataset.fingerprint.slice(0, 19)}…)`);
      ctx.out('featurizers:');
      for (const s of m.featurizer.steps) ctx.out(`  ${s}`);
      for (const d of m.featurizer.dropped) ctx.out(`  ${d.column}: dropped (${d.reason})`);
      if (m.customFeaturizers?.length) {
        ctx.out('custom featurizers (their code is not in the bundle: serve and predict load it with --featurizer-module name=path, checked against this sha256):');
        for (const c of m.customFeaturizers) ctx.out(`  ${c.name}: ${c.module}  sha256 ${c.sha256}`);
      }
      for (const line of metricsLines(m.metrics)) ctx.out(line);
      ctx.out('files:');
      for (const [file, f] of Object.entries(m.files)) ctx.out(`  ${file}  ${f.bytes} bytes  sha256 ${f.sha256}`);
    });

  bundles
    .command('verify')
    .description('recompute every checksum and predict the golden records again; with --key, check the signature too (an unsigned bundle fails); exit 1 naming the first file (or golden record) that does not match (no refs: every bundle)')
    .argument('[bundle-refs...]', 'bundles to verify (default: all in the store)')
    .option('-k, --key <pub.pem[,other.pem]>', 'public keys one of which must have signed each bundle (comma-separated or repeated)', keyFiles)
    .option(...ARTIFACTS_OPTION)
    .option('--featurizer-module <name=path>', "a custom featurizer's module (repeatable), to check the golden records of bundles that use it", featurizerModule)
    .option('--json', 'print one JSON document')
    .action(async (refs: string[], opts: { key?: string[]; artifacts?: string; json?: boolean; featurizerModule?: FeaturizerModuleFlag[] }) => {
      const store = await import('../../core/bundle/store.js');
      const { readSignature, verifyBundle } = await import('../../core/bundle/verify.js');
      const { checkSignature } = await import('../../core/bundle/signature.js');
      const { checkBundleGolden } = await import('../../core/bundle/golden.js');
      const artifacts = ctx.artifacts(opts.artifacts);
      // Keys first: a wrong key file is one line naming it, before any bundle is read.
      const keys = opts.key ? await readTrusted(ctx, opts.key) : undefined;
      let targets = refs;
      if (targets.length === 0) {
        targets = [];
        for (const name of await store.listNames(artifacts)) for (const v of await store.listVersions(artifacts, name)) targets.push(`${name}@${v}`);
      }
      type Signed = { keyId: string; signedAt: string; checked: boolean } | null;
      type Golden = { records: number; present: boolean; skipped?: string };
      const results: { ref: string; ok: boolean; files?: number; golden?: Golden; signature?: Signed; error?: string; file?: string }[] = [];
      for (const ref of targets) {
        // `penguins` is reported as the version it resolved to; a remote bundle is verified as it arrives in the cache.
        let label = ref;
        let name: string | undefined;
        let version: string | undefined;
        try {
          const resolved = await store.resolveRef(ref, artifacts);
          ({ name, version } = resolved);
          if (name !== undefined && version !== undefined) label = `${name}@${version}`;
          const { dir } = resolved;
          const m = await verifyBundle(dir);
          const sig = keys ? await checkSignature(dir, m, keys) : await readSignature(dir);
          const signature: Signed = sig ? { keyId: sig.keyId, signedAt: sig.signedAt, checked: keys !== undefined } : null;
          const golden = await checkBundleGolden(dir, { manifest: m, featurizers: opts.featurizerModule ?? [] });
          results.push({ ref: `${m.name}@${m.version}`, ok: true, files: Object.keys(m.files).length + 1 + (sig ? 1 : 0), golden, signature });
        } catch (err) {
          if (!(err instanceof VerificationError)) throw err;
          // A golden record's message names the bundle itself (`name@version: …/golden.json: record 3, …`).
          const prefix = `${name}@${version}: `;
          const named = name !== undefined && err.message.startsWith(prefix);
          results.push({ ref: label, ok: false, error: named ? err.message.slice(prefix.length) : err.message, file: err.file });
        }
      }
      const failed = results.filter((r) => !r.ok);
      const { goldenSummary } = await import('../../core/bundle/golden.js');
      if (opts.json) ctx.json({ ok: failed.length === 0, ...(keys ? { keys: keys.map((k) => ({ file: k.file, keyId: k.keyId })) } : {}), bundles: results });
      else {
        for (const r of results) {
          if (!r.ok) continue;
          const s = r.signature;
          const signed = !s ? '' : s.checked ? `, signed by ${s.keyId}` : `, signed by ${s.keyId}: not checked, give --key`;
          ctx.out(`ok ${r.ref} (${r.files} files, ${goldenSummary(r.golden)}${signed})`);
        }
      }
      if (failed.length > 0) {
        const first = failed[0]!;
        // A message that names the bundle already (the signature checks do) is not prefixed with it again.
        const named = first.error?.startsWith(`${first.ref} `) || first.error?.startsWith(`${first.ref}:`);
        throw new VerificationError(first.file ?? '', `${named ? '' : `${first.ref}: `}${first.error}${failed.length > 1 ? ` (and ${failed.length - 1} more bundle(s) failed)` : ''}`);
      }
      if (!opts.json && results.length === 0) ctx.out(`no bundles in ${artifacts}`);
    });

  registerRegistry(bundles, ctx);

  bundles
    .command('gc')
    .description('remove what killed packagers and promoters left behind (temporary folders and files, stale alias locks), listing each; with a name and --keep N also its old versions (never one an alias points at)')
    .argument('[name]', 'a bundle name: also remove its versions older than the --keep newest')
    .option('--keep <n>', 'with a name: how many of the newest versions to keep (versions an alias points at are always kept)', integer(0))
    .option(...ARTIFACTS_OPTION)
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--json', 'print one JSON document')
    .action(async (name: string | undefined, opts: { keep?: number; artifacts?: string; dryRun?: boolean; json?: boolean }) => {
      if (name !== undefined) return gcVersionsCommand(ctx, name, opts);
      if (opts.keep !== undefined) throw new MlpipeError('usage', '--keep needs a bundle name: mlpipe bundles gc <name> --keep N');
      const { openStore } = await import('../../core/bundle/store.js');
      const artifacts = ctx.artifacts(opts.artifacts);
      const found = await (await openStore(artifacts)).cleanLeftovers(undefined, { dryRun: opts.dryRun === true });
      if (opts.json) {
        ctx.json({ artifacts, dryRun: opts.dryRun === true, leftovers: found });
        return;
      }
      for (const f of found) ctx.out(`${f.action === 'kept' ? 'kept' : opts.dryRun ? 'would remove' : 'removed'} ${f.kind} ${f.path}: ${f.reason}`);
      const removed = found.filter((f) => f.action === 'removed').length;
      ctx.out(found.length === 0 ? `nothing to clean in ${artifacts}` : `${removed} leftover(s) ${opts.dryRun ? 'to remove' : 'removed'}, ${found.length - removed} kept`);
    });

  registerBundlesArchive(bundles, ctx);
  registerBundlesSign(bundles, ctx);
}
