/**
 * The Cloud Storage JSON fake (test/support/fakes/gcs-json-fake.ts) behind
 * the address a process finds in STORAGE_EMULATOR_HOST.
 *
 * Processes of the rehearsal (the functions, the revisions' ann-serving)
 * create `new Storage()` with no options, as in the cloud, so the emulator
 * variable is the only way in. Under it, @google-cloud/storage 7 sends JSON
 * API calls to `${STORAGE_EMULATOR_HOST}/b/...` (storage.js: `baseUrl =
 * EMULATOR_HOST || ${apiEndpoint}/storage/v1`) but uploads to
 * `${STORAGE_EMULATOR_HOST}/upload/storage/v1/b/...` (file.js), while the
 * fake serves the googleapis.com paths (`/storage/v1/b/...`). This proxy puts
 * the `/storage/v1` prefix back on the former and passes everything else
 * through unchanged, streaming both ways.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class GcsEmulatorHost {
  private readonly server: http.Server;

  constructor(private readonly fakeEndpoint: string) {
    this.server = http.createServer((req, res) => this.forward(req, res));
  }

  /** Listens on loopback; resolves with the value for STORAGE_EMULATOR_HOST. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? '/';
    const target = new URL(path.startsWith('/b/') ? `/storage/v1${path}` : path, this.fakeEndpoint);
    const upstream = http.request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstream);
  }
}
