/**
 * Ctrl-C and SIGTERM while a command works: the first one aborts the work's signal (core stops,
 * removes its temporary files and rejects with an InterruptedError, exit 130); the listeners are then
 * removed, so a second Ctrl-C kills at once. Signal handling stays here, in the CLI: core only takes the
 * AbortSignal.
 */
export async function whileInterruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = new AbortController();
  const stopListening = () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  const onSignal = () => {
    stopListening();
    interrupt.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(interrupt.signal);
  } finally {
    stopListening();
  }
}
