/**
 * The HTTP transport, on node:http directly. TF Serving's surface needs the
 * raw request target (not a router's decoded, normalised path), the raw body
 * whatever the Content-Type, and exact response headers; a framework had to
 * be bypassed at each of those points, and node:http is also the closest to
 * the transport floor the latency targets are measured against. This file
 * only moves bytes (request-body.ts reads them), times requests and closes
 * gracefully; the protocol lives in rest-api.ts.
 *
 * Two things happen here because only the transport can do them cheaply:
 * admission at arrival (a predict request beyond the delay bound is refused
 * with a constant 503 before its body is read or parsed, so shedding costs
 * little of the CPU that overload is short of) and the per-request
 * AbortSignal, aborted when the client's connection closes before the
 * answer, so its remaining work is dropped.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@recdeploy/shared';
import { OVERLOADED_MESSAGE, type ShedReason } from '../admission/admission-controller.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import type { RestApi } from './rest-api.js';
import { readRequestBody } from './request-body.js';
import { JSON_HEADERS, type RestResponse } from './rest-types.js';

export interface HttpServerOptions {
  /** Largest request body accepted, after gzip decoding; larger ones get 413. */
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  readonly metrics: ServingMetrics;
  /** Admission at arrival for predict requests: a reason refuses it with 503 at once. */
  readonly admit?: () => ShedReason | undefined;
  /** Retry-After (seconds) on those 503s. */
  readonly retryAfterSeconds?: number;
}

/** TF Serving's UNAVAILABLE body; a constant, so a refusal costs no JSON work. */
const OVERLOADED_BODY = Buffer.from(JSON.stringify({ error: OVERLOADED_MESSAGE }));
const HTTP09_BODY = Buffer.from(
  '{"error":"Malformed request: HTTP/0.9 is not supported (the request line has no HTTP version)"}',
);

export class RestHttpServer {
  private readonly server: http.Server;
  /** Precomputed headers of the admission 503 (raw name/value pairs). */
  private readonly overloadedHeaders: readonly string[];
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
    this.overloadedHeaders = [
      'Content-Type',
      'application/json',
      'Retry-After',
      String(options.retryAfterSeconds ?? 1),
      'Content-Length',
      String(OVERLOADED_BODY.length),
    ];
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
    // Node answers a request line without a version (HTTP/0.9) like any other: refuse it.
    if (req.httpVersionMajor === 0) {
      res.once('close', () => this.finished());
      this.sendConstant(res, 400, HTTP09_BODY, 'http09', started);
      return;
    }
    const reason = isPredict(req) ? this.options.admit?.() : undefined;
    if (reason !== undefined) {
      res.once('close', () => this.finished());
      this.options.metrics.observeShed(reason);
      res.writeHead(503, this.overloadedHeaders as string[]);
      res.end(OVERLOADED_BODY);
      this.options.metrics.observeRequest('predict', 503, (performance.now() - started) / 1000);
      return;
    }
    const abandoned = new AbortController();
    // The client has gone when its side of the connection ends (Node then
    // cannot answer it: HTTP half-close is off) or the connection closes
    // before the answer; 'end' is seen in the same turn as the request, so
    // work it queued is dropped before its batch starts.
    const gone = (): void => {
      if (!res.writableFinished) abandoned.abort();
    };
    const { socket } = req;
    socket.once('end', gone);
    res.once('close', () => {
      socket.off('end', gone);
      gone();
      this.finished();
    });
    void this.respond(req, res, started, abandoned.signal);
  }

  private finished(): void {
    if (--this.inFlight === 0) this.drained?.();
  }

  private async respond(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    started: number,
    signal: AbortSignal,
  ): Promise<void> {
    const limit = this.options.bodyLimitBytes;
    const body = await readRequestBody(req, limit);
    if (body === 'aborted' || signal.aborted) {
      if (isPredict(req)) this.options.metrics.observeAbandoned('before_prepare');
      return;
    }
    // Not reading the rest of an over-long upload, the connection cannot be reused.
    if (body === 'too_large') return this.send(res, tooLarge(limit), started, true);
    let response: RestResponse;
    try {
      const { method = 'GET', url = '/', headers } = req;
      // The wait starts once the request is complete: a slow upload is not queueing.
      const arrivedAt = performance.now();
      response = await this.api({ method, url, headers, body, signal, arrivedAt });
    } catch (error) {
      this.options.logger.error('unhandled request failure', { err: error });
      response = {
        status: 500,
        headers: JSON_HEADERS,
        body: '{"error":"Internal error"}',
        route: 'internal',
      };
    }
    if (signal.aborted) return; // nobody to answer; the work was dropped and counted
    this.send(res, response, started);
  }

  private sendConstant(
    res: http.ServerResponse,
    status: number,
    body: Buffer,
    route: string,
    started: number,
  ): void {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      Connection: 'close',
    });
    res.end(body);
    this.options.metrics.observeRequest(route, status, (performance.now() - started) / 1000);
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

/** Predict (and :classify/:regress) requests: the only ones admission may refuse. */
function isPredict(req: http.IncomingMessage): boolean {
  return req.method === 'POST' && req.url?.startsWith('/v1/') === true;
}

function tooLarge(limit: number): RestResponse {
  return {
    status: 413,
    headers: JSON_HEADERS,
    body: JSON.stringify({ error: `Request body is larger than the limit of ${limit} bytes` }),
    route: 'too_large',
  };
}
