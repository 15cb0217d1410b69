/**
 * Runs the dashboard from source as a child process on a loopback port, the
 * way a browser sees it: a separate process reading the same run store file.
 * PORT=0 lets it pick a free port; its "dashboard listening" log line says
 * which. The local stack's end-to-end test can use it as it is.
 */
import {
  runServiceUntilExit,
  startService,
  type ExitStatus,
  type ServiceProcess,
} from '../service-process.js';

const MAIN = 'services/dashboard/src/main.ts';

export type { ExitStatus };

export interface DashboardProcess extends ServiceProcess {
  /** The page, e.g. `http://127.0.0.1:40123/`. */
  readonly url: string;
}

export interface DashboardProcessOptions {
  /** RECDEPLOY_DATA_DIR: the SQLite run store is `<dataDir>/runs.db`. */
  readonly dataDir: string;
  /** More variables (HEARTBEAT_INTERVAL_MS, LOG_LEVEL, …); they win over the defaults. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts the dashboard and resolves once it listens. */
export async function startDashboardProcess(
  options: DashboardProcessOptions,
): Promise<DashboardProcess> {
  const service = await startService(
    MAIN,
    { RECDEPLOY_DATA_DIR: options.dataDir, ...options.env },
    'dashboard listening',
  );
  return { ...service, url: `http://127.0.0.1:${service.port}/` };
}

/** Runs a dashboard that is expected to stop by itself (bad configuration); returns its exit and output. */
export function runDashboardUntilExit(
  env: Readonly<Record<string, string>>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runServiceUntilExit(MAIN, env);
}
