import { InterruptedError } from './errors.js';

/** Throws an {@link InterruptedError} when `signal` has aborted (between steps of a long job). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}
