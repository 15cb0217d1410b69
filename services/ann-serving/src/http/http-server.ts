/**
 * The HTTP transport, on node:http directly. TF Serving's surface needs the
 * raw request target (not a router's decoded, normalised path), the raw body
 * whatever the Content-Type, and exact response headers; a framework had to
 * be bypassed at each of those points, and node:http is also the closest to
 * the transport floor the latency targets are measured against. This file
 * only moves bytes (request-body.ts reads them), times requests and closes
 * gracefully; the protocol lives in rest-api.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@recdeploy/shared';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import type { RestApi } from './rest-api.js';
import { readRequestBody } from './request-body.js';
import { JSON_HEADERS, type RestResponse } from './rest-types.js';

export interface HttpServerOptions {
  /** Largest request body accepted, after gzip decoding; larger ones get 413. */
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  readonly metrics: ServingMetrics;
}

export class RestHttpServer {
  private readonly server: http.Server;
  private inFlight = 0;
  private closing = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly api: RestApi,
    private readonly options: HttpServerOptions,
  ) {
    // A slow or stalled client cannot hold a request open for ever.
    this.server = http.createServer(
      { requestTimeout: 30_000, headersTimeout: 20_000 },
      (req, res) => this.onRequest(req, res),
    );
  }

  /** Requests received and not yet answered. */
  get activeRequests(): number {
    return this.inFlight;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections, lets requests in flight finish (their
   * answers carry `Connection: close`), and after `timeoutMs` cuts whatever
   * is left. Resolves true when everything finished in time.
   */
  async close(timeoutMs: number): Promise<boolean> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => {
        if (this.inFlight === 0) resolve(true);
        else this.drained = () => resolve(true);
      }),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
    return finished;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = performance.now();
    this.inFlight++;
    res.once('close', () => {
      if (--this.inFlight === 0) this.drained?.();
    });
    void this.respond(req, res, started);
  }

  private async respond(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    started: number,
  ): Promise<void> {
    const limit = this.options.bodyLimitBytes;
    const body = await readRequestBody(req, limit);
    if (body === 'aborted') return;
    // Not reading the rest of an over-long upload, the connection cannot be reused.
    if (body === 'too_large') return this.send(res, tooLarge(limit), started, true);
    let response: RestResponse;
    try {
      const { method = 'GET', url = '/', headers } = req;
      response = await this.api({ method, url, headers, body });
    } catch (error) {
      this.options.logger.error('unhandled request failure', { err: error });
      response = {
        status: 500,
        headers: JSON_HEADERS,
        body: '{"error":"Internal error"}',
        route: 'internal',
      };
    }
    this.send(res, response, started);
  }

  private send(
    res: http.ServerResponse,
    response: RestResponse,
    started: number,
    close = false,
  ): void {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(response.body);
    res.writeHead(response.status, {
      ...response.headers,
      'Content-Length': String(body.length),
      ...(close || this.closing ? { Connection: 'close' } : {}),
    });
    res.end(body);
    this.options.metrics.observeRequest(
      response.route,
      response.status,
      (performance.now() - started) / 1000,
    );
  }
}

function tooLarge(limit: number): RestResponse {
  return {
    status: 413,
    headers: JSON_HEADERS,
    body: JSON.stringify({ error: `Request body is larger than the limit of ${limit} bytes` }),
    route: 'too_large',
  };
}
