/**
 * The composition root of the dashboard process (STYLE.md §4): the page, the
 * shared run-store watch, the routes and the node:http server. No framework:
 * five read-only routes and one event stream do not need one.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, RunStore } from '@recdeploy/shared';
import type { DashboardConfig } from './config/dashboard-config.js';
import { createRoutes } from './http/dashboard-routes.js';
import { sendError } from './http/responses.js';
import type { EventStream } from './live/event-stream.js';
import { RunBroadcaster } from './live/run-broadcaster.js';
import { StreamLimits } from './live/stream-limits.js';
import { loadDashboardPage, type DashboardPage } from './page/dashboard-page.js';

export interface DashboardApp {
  /** The address actually bound, as the socket reports it (HOST=localhost: 127.0.0.1). */
  readonly address: string;
  /** The port actually bound (PORT=0 picks a free one). */
  readonly port: number;
  /** Where a browser on this machine opens the page. */
  readonly url: string;
  /**
   * Graceful stop: refuse new requests, end the event streams (clients
   * reconnect elsewhere), let requests in flight finish within the timeout.
   * The run store stays open: whoever opened it closes it.
   */
  shutdown(): Promise<{ drained: boolean }>;
}

export type DashboardAppConfig = Pick<
  DashboardConfig,
  | 'port'
  | 'host'
  | 'heartbeatIntervalMs'
  | 'maxEventStreams'
  | 'maxEventStreamsPerClient'
  | 'trustedProxies'
  | 'shutdownTimeoutMs'
>;

export async function startDashboardApp(
  config: DashboardAppConfig,
  store: RunStore,
  logger: Logger,
  page: DashboardPage = loadDashboardPage(),
): Promise<DashboardApp> {
  const broadcaster = new RunBroadcaster(store, logger);
  const streams = new Set<EventStream>();
  let shuttingDown = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const routes = createRoutes({
    store,
    broadcaster,
    page,
    logger,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    streamLimits: new StreamLimits({
      perClient: config.maxEventStreamsPerClient,
      total: config.maxEventStreams,
    }),
    trustedProxies: config.trustedProxies,
    streams,
    isShuttingDown: () => shuttingDown,
  });
  // A stalled client cannot hold a request's headers open for ever; the
  // event streams are responses, which these timeouts do not limit.
  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 20_000 });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) drained?.();
    });
    routes(req, res).catch((error: unknown) => {
      logger.error('unhandled request failure', { error: String(error) });
      sendError(res, 500, 'internal error');
    });
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  // Bound to every interface: a browser on this machine still opens it on loopback.
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    address: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}/`,
    async shutdown() {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const stream of [...streams]) stream.end();
      broadcaster.close();
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        new Promise<boolean>((resolve) => {
          if (inFlight === 0) resolve(true);
          else drained = () => resolve(true);
        }),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), config.shutdownTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
      return { drained: finished };
    },
  };
}
