import { InterruptedError } from './errors.js';

/** Throws an {@link InterruptedError} when `signal` has aborted (between steps of a long job). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

/**
 * The chunks of a source, but rejecting with an InterruptedError as soon as `signal` aborts, even while
 * the source is waiting for a slow server or command (the source is then asked to stop).
 *
 * Each wait races the next chunk against its own abort promise, dropped after it: racing every chunk
 * against one long-lived promise would add a reaction to it per chunk, and through the reactions keep
 * every chunk ever read in memory.
 */
export async function* interruptible<T>(iterable: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  if (!signal) {
    yield* iterable;
    return;
  }
  const iterator = iterable[Symbol.asyncIterator]();
  let done = false;
  try {
    while (true) {
      if (signal.aborted) throw new InterruptedError();
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new InterruptedError());
        signal.addEventListener('abort', onAbort, { once: true });
      });
      let next: IteratorResult<T>;
      try {
        next = await Promise.race([iterator.next(), aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort!);
      }
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Ask the source to stop (close connections, kill a command); do not wait for a source stuck in a read.
    if (!done) void Promise.resolve(iterator.return?.()).catch(() => {});
  }
}
