import http from 'node:http';
import type { Logger } from '../../logging/logger.port.js';
import {
  forwardRequest,
  reply,
  RoutedExchange,
  REVISION_HEADER,
  ROUTER_HEADER,
  type ForwardContext,
} from './local-router-forward.js';
import type { RouterMetricsSink } from './local-router-metrics.js';
import type { RouteTarget } from './local-serving-records.js';
import { chooseShare } from './local-traffic-split.js';

export { REVISION_HEADER, ROUTER_HEADER } from './local-router-forward.js';

export interface LocalServiceRouterOptions {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  /**
   * The revisions with a share, read on every request (from the SQLite
   * state: another process may split, promote or roll back at any time; the
   * read costs a few µs).
   */
  readonly routeTargets: () => readonly RouteTarget[];
  /** Where each routed request is counted (local-router-metrics.ts). */
  readonly metrics: RouterMetricsSink;
  readonly logger: Logger;
  /** Uniform in [0, 1): draws the revision of each request. @defaultValue Math.random */
  readonly random?: () => number;
}

/**
 * A service's URL on one machine: sends every request to a revision drawn
 * by the service's split, as Cloud Run's front end assigns requests to
 * revisions by percent (local-router-forward.ts forwards and records it).
 */
export class LocalServiceRouter {
  private readonly server: http.Server;
  private readonly context: ForwardContext;
  private readonly random: () => number;

  constructor(private readonly options: LocalServiceRouterOptions) {
    this.server = http.createServer(
      // A client's idle keep-alive socket is closed by the side that times
      // out first; when that is this server, a request the client sends on
      // it at that moment fails with ECONNRESET (a loaded machine's timers
      // make the 5 s default and the client agent's 1 s margin meet). Idle
      // sockets are kept 65 s instead, and the Keep-Alive header says so, so
      // a client that follows it closes its idle sockets first.
      { keepAliveTimeout: 65_000, headersTimeout: 66_000 },
      (request, response) => this.route(request, response),
    );
    this.random = options.random ?? Math.random;
    this.context = {
      service: options.service,
      host: options.host,
      agent: new http.Agent({ keepAlive: true }),
      metrics: options.metrics,
    };
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
    this.context.agent.destroy();
    await closed;
  }

  private route(request: http.IncomingMessage, response: http.ServerResponse): void {
    const started = performance.now();
    const { service } = this.options;
    response.setHeader(ROUTER_HEADER, service);
    let targets: readonly RouteTarget[];
    try {
      targets = this.options.routeTargets();
    } catch (error) {
      this.options.logger.error('router could not read the traffic split', { err: error });
      return reply(response, 503, `cannot read the traffic split of service ${service}`);
    }
    const target = chooseShare(targets, this.random());
    if (!target) {
      return reply(
        response,
        503,
        `no live revision for service ${service}: no revision has been promoted yet`,
      );
    }
    response.setHeader(REVISION_HEADER, target.revision);
    const exchange = new RoutedExchange(this.context, response, target, started);
    if (target.state !== 'ready') {
      // Counted against the revision: it has a share it cannot serve (restarting, or stopped).
      exchange.failed = true;
      request.resume();
      return reply(response, 502, `${exchange.who} of service ${service} is ${target.state}`);
    }
    forwardRequest(this.context, request, response, exchange);
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
