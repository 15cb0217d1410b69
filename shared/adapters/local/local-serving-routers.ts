import type { Logger } from '../../logging/logger.port.js';
import { baseUrl } from './local-revision-launcher.js';
import { RouterMetricsRecorder } from './local-router-metrics.js';
import { allocatePort } from './local-serving-ports.js';
import type { LocalServingState } from './local-serving-state.js';
import { LocalServiceRouter, probeRouter } from './local-service-router.js';

export interface LocalServiceRoutersOptions {
  readonly state: LocalServingState;
  /** The serving state's SQLite file, where the routers' metrics go too. */
  readonly file: string;
  readonly host: string;
  readonly logger: Logger;
}

/**
 * The routers this platform instance runs, one per service, each on the port
 * recorded for its service (so the service URL survives restarts), and the
 * one metrics recorder they share (opened with the first router: an
 * instance that only promotes or rolls back runs no router and writes none).
 */
export class LocalServiceRouters {
  private readonly routers = new Map<string, LocalServiceRouter>();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly state: LocalServingState;
  private readonly host: string;
  private readonly logger: Logger;
  private recorder: RouterMetricsRecorder | undefined;
  private closed = false;

  constructor(private readonly options: LocalServiceRoutersOptions) {
    this.state = options.state;
    this.host = options.host;
    this.logger = options.logger;
  }

  /** Starts the service's router unless one (here or in another process) already serves its port. */
  ensure(service: string): Promise<void> {
    if (this.closed || this.routers.has(service)) return Promise.resolve();
    let starting = this.starting.get(service);
    if (!starting) {
      starting = this.start(service).finally(() => this.starting.delete(service));
      this.starting.set(service, starting);
    }
    return starting;
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting.values()]);
    await Promise.allSettled([...this.routers.values()].map((router) => router.close()));
    this.routers.clear();
    // What the routers counted last is written now, not lost.
    this.recorder?.close();
  }

  /**
   * Listens on the recorded port. When that port is taken: by a router for
   * the same service (another platform instance on this file), leave it be;
   * by anything else, move the service to a new port, loudly.
   */
  private async start(service: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      const routerPort = this.state.service(service)?.routerPort;
      if (routerPort === undefined)
        throw new Error(`service ${service} has no recorded router port`);
      const router = new LocalServiceRouter({
        service,
        host: this.host,
        port: routerPort,
        routeTargets: () => this.state.routeTargets(service),
        metrics: (this.recorder ??= new RouterMetricsRecorder(
          this.options.file,
          this.logger.child({ component: 'router-metrics' }),
        )),
        logger: this.logger.child({ router: service }),
      });
      try {
        await router.listen();
        if (this.closed) return await router.close(); // closeAll() began while it was binding
        this.routers.set(service, router);
        this.logger.info('service router listening', {
          service,
          url: baseUrl(this.host, routerPort),
        });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw error;
      }
      if ((await probeRouter(this.host, routerPort)) === service) {
        this.logger.info('service router already runs in another platform instance', {
          service,
          url: baseUrl(this.host, routerPort),
        });
        return;
      }
      const port = await allocatePort(this.host, this.state.usedPorts());
      this.state.moveRouter(service, port);
      this.logger.warn(
        'recorded router port is taken by another program: the service URL changes',
        {
          service,
          recordedPort: routerPort,
          port,
        },
      );
    }
  }
}
