import http from 'node:http';
import type { Logger } from '../../logging/logger.port.js';
import type { LiveTarget } from './local-serving-state.js';

/** On every answer of a router: which service it routes (how another platform recognises it). */
export const ROUTER_HEADER = 'x-recdeploy-router';
/** On proxied answers: the revision that answered. */
export const REVISION_HEADER = 'x-recdeploy-revision';

/** Connection-level headers, meaningful for one hop only (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

export interface LocalServiceRouterOptions {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  /**
   * The live revision, read on every request (from the SQLite state: another
   * process may promote or roll back at any time; the read costs ~3 µs).
   */
  readonly liveTarget: () => LiveTarget | undefined;
  readonly logger: Logger;
}

/**
 * A service's URL on one machine: forwards every request (method, path,
 * headers, streamed body) to the port of the service's live revision, as
 * Cloud Run's front end sends traffic to the revision that has it.
 */
export class LocalServiceRouter {
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(private readonly options: LocalServiceRouterOptions) {
    this.server = http.createServer((request, response) => this.route(request, response));
  }

  /** Rejects with the listen error (EADDRINUSE when the port is taken). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(
        { host: this.options.host, port: this.options.port, exclusive: true },
        () => {
          this.server.off('error', reject);
          resolve();
        },
      );
    });
  }

  /** Stops listening and drops open connections (clients retry, as with any restart). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  private route(request: http.IncomingMessage, response: http.ServerResponse): void {
    const { service } = this.options;
    response.setHeader(ROUTER_HEADER, service);
    let target: LiveTarget | undefined;
    try {
      target = this.options.liveTarget();
    } catch (error) {
      this.options.logger.error('router could not read the live revision', { err: error });
      return reply(response, 503, `cannot read the live revision of service ${service}`);
    }
    if (!target) {
      return reply(
        response,
        503,
        `no live revision for service ${service}: no revision has been promoted yet`,
      );
    }
    if (target.state !== 'ready') {
      return reply(
        response,
        502,
        `live revision ${target.revision} of service ${service} is ${target.state}`,
      );
    }
    this.forward(request, response, target);
  }

  private forward(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    target: LiveTarget,
  ): void {
    const upstream = http.request({
      host: this.options.host,
      port: target.port,
      method: request.method,
      path: request.url,
      headers: withoutHopByHop(request.headers),
      agent: this.agent,
    });
    upstream.on('response', (answer) => {
      response.setHeader(REVISION_HEADER, target.revision);
      response.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (response.headersSent) {
        response.destroy(error);
        return;
      }
      reply(
        response,
        502,
        `live revision ${target.revision} of service ${this.options.service} is not answering on port ${target.port}: ${error.code ?? error.message}`,
      );
    });
    // A client that goes away must not leave the upstream request open.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  }
}

/**
 * The service a router on `host:port` routes, or undefined when nothing
 * answers there or what answers is not a router.
 */
export async function probeRouter(host: string, port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://${host}:${port}/`, {
      method: 'HEAD',
      signal: AbortSignal.timeout(2_000),
    });
    return response.headers.get(ROUTER_HEADER) ?? undefined;
  } catch {
    return undefined;
  }
}

function reply(response: http.ServerResponse, status: number, error: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error }));
}

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}
