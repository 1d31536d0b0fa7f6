import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import type { Express } from 'express';

/** Servers tests started with {@link listen}, closed by {@link closeServers}. */
const servers: Server[] = [];

/** Serves `app` on 127.0.0.1 (any free port); returns its base URL. */
export async function listen(app: Express): Promise<string> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes every server {@link listen} started (their open connections too). */
export async function closeServers(): Promise<void> {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
}

/** What a test reads back from one HTTP exchange. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** A fetch answer read whole: its text, and its JSON when it is JSON. */
export async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A free TCP port on 127.0.0.1 (free a moment ago: the OS's pick for port 0, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
