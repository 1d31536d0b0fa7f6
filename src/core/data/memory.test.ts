import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { ROOT, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';

/**
 * Peak resident memory of `loadToDataset` on 1,000,000 rows × 6 columns (a 42 MB CSV), measured in a
 * child process (VmHWM from /proc/self/status). The loader holds one chunk (10,000 rows) at a time
 * plus bounded per-column state (at most 100,000 distinct values per column for inference and the
 * profile); the rows themselves go to a spool file and to the Arrow file batch by batch.
 *
 * Measured: about 200–220 MB, of which about 130 MB is Node with tsx and mlpipe's modules loaded
 * before reading a byte (285–350 MB before mlpipe parsed CSV itself). The same file loaded whole
 * (mlpipe before the streaming loader: the text, every raw row and the table in memory) peaked at
 * 1.1 GB. With an AbortSignal (as `mlpipe load` passes) the peak is the same: racing every chunk
 * against one abort promise once kept every chunk read alive (+100 MB here, 1.2 GB on the
 * 1M-row × 21-column benchmark).
 */
const PEAK_RSS_BOUND_MB = 400;
const ROWS = 1_000_000;

async function writeBigCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  const groups = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
  out.write('id,x,group,flag,day,note\n');
  let buf = '';
  for (let i = 1; i <= ROWS; i++) {
    const day = `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`;
    buf += `${i},${((i * 7919) % 100003) / 100},${groups[i % 10]},${i % 3 === 0 ? 'yes' : 'no'},${day},note ${i % 500}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

const CHILD = (loadModule: string, arrowModule: string) => `
import { open } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
const { loadToDataset } = await import(${JSON.stringify(loadModule)});
const { RecordBatchReader } = await import(${JSON.stringify(arrowModule)});
const [csv, out, withSignal] = process.argv.slice(2);
const started = Date.now();
// The CLI passes an AbortSignal (Ctrl-C): the loader then reads the source through another path.
const result = await loadToDataset({ source: csv, out, ...(withSignal ? { signal: new AbortController().signal } : {}) });
const seconds = (Date.now() - started) / 1000;
const vmHwmKb = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const fh = await open(out);
const reader = await RecordBatchReader.from(fh);
await reader.open();
const batches = reader.numRecordBatches;
await fh.close();
process.stdout.write(JSON.stringify({ rows: result.rows, schema: result.schema, vmHwmKb, maxRssKb: process.resourceUsage().maxRSS, seconds, batches }));
`;

describe('loading 1M rows: memory is bounded by the chunk size', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  let csv: string | undefined;
  async function loadInChild(withSignal: boolean): Promise<{ rows: number; schema: { name: string; type: string }[]; peakMb: number; seconds: number; batches: number }> {
    const dir = await tempDir();
    if (!csv) {
      csv = join(dir, 'big.csv');
      await writeBigCsv(csv);
    }
    expect((await stat(csv)).size).to.be.greaterThan(40_000_000);
    const script = join(dir, 'load-child.mjs');
    await writeFile(script, CHILD(pathToFileURL(join(ROOT, 'src', 'core', 'data', 'load.ts')).href, pathToFileURL(join(ROOT, 'node_modules', 'apache-arrow', 'Arrow.node.mjs')).href));
    const args = ['--import', 'tsx', script, csv, join(dir, 'big.arrow'), ...(withSignal ? ['signal'] : [])];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code, stderr).to.equal(0);
    const r = JSON.parse(stdout) as { rows: number; schema: { name: string; type: string }[]; vmHwmKb: number; maxRssKb: number; seconds: number; batches: number };
    return { ...r, peakMb: Math.max(r.vmHwmKb, r.maxRssKb) / 1024 };
  }

  /** The peak without a signal, which the load with one must stay near (a leak kept every chunk read: +100 MB here). */
  let plainPeakMb: number | undefined;
  for (const withSignal of [false, true]) {
    it(`loads a 1,000,000-row × 6-column CSV with a peak RSS under ${PEAK_RSS_BOUND_MB} MB${withSignal ? ', with an AbortSignal as the CLI passes' : ''}`, async () => {
      const r = await loadInChild(withSignal);
      expect(r.rows).to.equal(ROWS);
      expect(r.schema.map((c) => `${c.name}: ${c.type}`)).to.deep.equal(['id: integer', 'x: number', 'group: category', 'flag: boolean', 'day: datetime', 'note: category']);
      // written as it went: one record batch per 10,000-row chunk
      expect(r.batches).to.equal(ROWS / 10_000);
      console.log(`      peak RSS ${r.peakMb.toFixed(0)} MB (bound ${PEAK_RSS_BOUND_MB} MB), ${r.seconds.toFixed(1)} s`);
      expect(r.peakMb).to.be.below(PEAK_RSS_BOUND_MB);
      if (!withSignal) plainPeakMb = r.peakMb;
      else if (plainPeakMb !== undefined) expect(r.peakMb).to.be.below(plainPeakMb + 50);
    });
  }
});
