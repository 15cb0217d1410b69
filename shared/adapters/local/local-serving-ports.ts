import net from 'node:net';

/** Attempts before giving up on finding a port that no recorded revision or router holds. */
const ATTEMPTS = 50;

/**
 * A port that is free on `host` now and not in `reserved` (ports recorded for
 * stopped revisions stay theirs, so their URLs survive a restart). The OS picks
 * it; another program could still take it before the server binds, which the
 * caller sees as a failed start.
 */
export async function allocatePort(host: string, reserved: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const port = await bindAndRelease(host, 0);
    if (port !== undefined && !reserved.has(port)) return port;
  }
  throw new Error(`no free port on ${host} outside the ${reserved.size} recorded ones`);
}

/** Whether nothing listens on `host:port` (binding it succeeds). */
export async function isPortFree(host: string, port: number): Promise<boolean> {
  return (await bindAndRelease(host, port)) !== undefined;
}

function bindAndRelease(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}
