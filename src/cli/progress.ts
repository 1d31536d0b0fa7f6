import cliProgress from 'cli-progress';
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
