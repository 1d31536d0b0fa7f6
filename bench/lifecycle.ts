/**
 * How every benchmark ends: its clean-up (temporary folders, servers, tables) runs once on every way
 * out — done, failed, Ctrl-C (exit 130) or SIGTERM (exit 143) — and the exit code says which.
 */
export function runBench(
  name: string,
  main: () => Promise<number>,
  cleanup: () => Promise<void>,
  options: {
    /** What the clean-up does, printed when a signal arrives: `removing the temporary folder`. */
    onSignal: string;
    /** True while the bench itself winds the run down: a failure then is not reported (nor after a signal). */
    stopping?: () => boolean;
  },
): void {
  let finishing = false;
  let signalled = 0;
  const finish = async (code: number): Promise<void> => {
    if (finishing) return;
    finishing = true;
    await cleanup();
    process.exitCode = code;
  };
  // A Ctrl-C reaches this process twice when it runs under tsx (from the terminal and relayed by
  // tsx): a repeat within a second is the same Ctrl-C; a later one stops at once.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      const now = Date.now();
      if (signalled > 0) {
        if (now - signalled > 1000) process.exit(code);
        return;
      }
      signalled = now;
      console.error(`${signal}: ${options.onSignal}`);
      void finish(code).then(() => process.exit(code));
    });
  }
  main().then(
    (code) => finish(code),
    async (err: unknown) => {
      if (signalled > 0 || options.stopping?.()) return;
      console.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      await finish(1);
    },
  );
}
