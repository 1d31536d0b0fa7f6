import cliProgress from 'cli-progress';
import type { LoadProgress } from '../core/data/type-chunks.js';
import type { TrainProgress } from '../core/pipeline/train.js';
import type { CliContext } from './context.js';

/**
 * Progress for long steps, on stderr and only on a terminal: a bar of trees (done, elapsed, ETA)
 * while a forest grows, one line for other stages. Returns the handler and a `stop` to call at the end.
 */
export function progressReporter(ctx: CliContext, enabled: boolean): { onProgress: ((p: TrainProgress) => void) | undefined; stop: () => void } {
  if (!enabled || !ctx.io.stderr.isTTY) return { onProgress: undefined, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let stage = '';
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const onProgress = (p: TrainProgress) => {
    if (p.stage !== stage) {
      stop();
      stage = p.stage;
      if (p.total > 0) {
        bar = new cliProgress.SingleBar(
          {
            stream: ctx.io.stderr as NodeJS.WriteStream,
            format: `${p.stage.padEnd(28)} [{bar}] {value}/{total} trees | {duration_formatted} | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: false,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, p.done);
      } else ctx.progress(`${p.stage}…`);
      return;
    }
    bar?.update(p.done);
  };
  return { onProgress, stop };
}

/**
 * Progress of `mlpipe load` on stderr, only on a terminal (and not with `--json`): one line with the
 * rows read so far and the rate while reading the source, then a bar of rows typed and written.
 */
export function loadProgressReporter(ctx: CliContext, enabled: boolean, label: string): { onProgress: ((p: LoadProgress) => void) | undefined; stop: () => void } {
  if (!enabled || !ctx.io.stderr.isTTY) return { onProgress: undefined, stop: () => {} };
  let started = Date.now();
  let lastAt = started;
  let phase: LoadProgress['phase'] | undefined;
  const name = label.length > 40 ? `${label.slice(0, 39)}…` : label;
  const bar = new cliProgress.SingleBar(
    {
      stream: ctx.io.stderr as NodeJS.WriteStream,
      format: (options, params, payload: { phase?: string; rate?: number }) => {
        const rate = `${Math.round(payload.rate ?? 0).toLocaleString('en-US')} rows/s`;
        if (payload.phase === 'write') {
          const width = options.barsize ?? 30;
          const done = Math.round(params.progress * width);
          return `writing  [${'█'.repeat(done)}${'░'.repeat(width - done)}] ${params.value.toLocaleString('en-US')}/${params.total.toLocaleString('en-US')} rows | ${rate}`;
        }
        return `reading ${name}: ${params.value.toLocaleString('en-US')} rows | ${rate}`;
      },
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { phase: 'read', rate: 0 });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    bar.stop();
  };
  const onProgress = (p: LoadProgress) => {
    if (p.phase !== phase) {
      // the write phase began when the last chunk had been read
      if (phase !== undefined) started = lastAt;
      phase = p.phase;
      if (p.total !== undefined) bar.setTotal(Math.max(1, p.total));
    }
    if (p.phase === 'read') bar.setTotal(Math.max(1, p.rows));
    lastAt = Date.now();
    const seconds = Math.max(0.001, (lastAt - started) / 1000);
    bar.update(p.rows, { phase: p.phase, rate: p.rows / seconds });
  };
  return { onProgress, stop };
}
