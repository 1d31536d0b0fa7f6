/**
 * The baseline of `bench/serve.ts`: the least an Express 5 JSON endpoint can do. It parses the body
 * with the same `express.json` settings as mlpipe and answers a constant (the body in
 * $BENCH_RESPONSE, which `bench/serve.ts` sets to a real mlpipe answer so both send the same bytes).
 * Run as its own process so it never shares an event loop with the load generator:
 *
 *   BENCH_RESPONSE='{"ok":true}' node --import tsx bench/bare-express.ts
 *
 * Prints `listening on http://127.0.0.1:PORT` (port chosen by the OS) and runs until SIGTERM.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';

const response: unknown = JSON.parse(process.env.BENCH_RESPONSE ?? '{"prediction":"Adelie"}');

const app = express();
app.disable('x-powered-by');
// mlpipe turns ETags off too; leaving them on would charge the baseline for hashing every response.
app.disable('etag');
app.post('/predict', express.json({ limit: '10mb', strict: false }), (_req, res) => {
  res.json(response);
});

const server = app.listen(0, '127.0.0.1', (err?: Error) => {
  if (err) throw err;
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
