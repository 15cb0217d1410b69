/**
 * The dashboard as a child process of the stack, exactly as it runs on its
 * own (services/dashboard reading the same run store), so the local stack
 * exercises the deployable. Its URL comes from its "listening" log line.
 *
 * Its port is stable, so a bookmarked URL keeps working: unless asked for a
 * port, it takes the one this data directory used last (`dashboard.port` in
 * the data directory), else DEFAULT_DASHBOARD_PORT; when that one is taken,
 * any free port, and the answer says so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the dashboard listens when nothing else is known; chosen to be unlikely to clash. */
export const DEFAULT_DASHBOARD_PORT = 7311;
/** In the data directory: the port the dashboard last listened on. */
export const DASHBOARD_PORT_FILE = 'dashboard.port';
const HOST = '127.0.0.1';

export interface DashboardProcess {
  readonly url: string;
  readonly port: number;
  /**
   * Set when the remembered (or default) port was taken and another one was
   * used instead: the caller should say so, since the URL changed.
   */
  readonly fallbackFrom?: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export interface DashboardProcessOptions {
  readonly dataDir: string;
  /**
   * undefined: the port this data directory used last, else
   * DEFAULT_DASHBOARD_PORT, else (taken) any free port; 0: any free port;
   * any other: exactly that port (an error if it is taken).
   */
  readonly port?: number;
  readonly logLevel: string;
  /**
   * Where the dashboard's JSON log lines go (the local stack: its log file,
   * which tells errors as one short line). Without it, errors and (at debug)
   * every line go raw to this process's stderr.
   */
  readonly onLogLine?: (line: string) => void;
  /**
   * The run store the dashboard reads, as its environment names it; default
   * the local backend's in `dataDir`. The cloud rehearsal (scripts/rehearse.ts)
   * gives RECDEPLOY_BACKEND=gcp with the Firestore emulator.
   */
  readonly backendEnv?: Readonly<Record<string, string>>;
}

const REPO_ROOT = findRepoRoot();
const BUILT = path.join(REPO_ROOT, 'services/dashboard/dist/src/main.js');
const SOURCE_DIR = path.join(REPO_ROOT, 'services/dashboard/src');
const SOURCE = path.join(SOURCE_DIR, 'main.ts');

export async function startDashboardProcess(
  options: DashboardProcessOptions,
): Promise<DashboardProcess> {
  const choice = await chooseDashboardPort(options.dataDir, options.port);
  let started: Omit<DashboardProcess, 'fallbackFrom'>;
  try {
    started = await spawnDashboard(options, choice.port);
  } catch (error) {
    // Taken between the probe and the child's listen: a wanted port is an
    // error, a remembered or default one falls back like a probed one.
    if (!(error instanceof PortTakenError) || choice.explicit) throw error;
    started = await spawnDashboard(options, 0);
    return remember(options.dataDir, { ...started, fallbackFrom: choice.port });
  }
  const fallbackFrom = choice.fallbackFrom;
  return remember(
    options.dataDir,
    fallbackFrom === undefined ? started : { ...started, fallbackFrom },
  );
}

/**
 * Which port to start the dashboard on (0: any free one), by the rules of
 * DashboardProcessOptions.port; probes the port with a real listen.
 * @throws Error naming the port when an explicitly wanted one is taken.
 */
export async function chooseDashboardPort(
  dataDir: string,
  wanted: number | undefined,
): Promise<{ port: number; explicit: boolean; fallbackFrom?: number }> {
  if (wanted !== undefined) {
    if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65_535) {
      throw new Error(`the dashboard port must be a whole number from 0 to 65535, got ${wanted}`);
    }
    if (wanted !== 0 && !(await isPortFree(wanted))) throw portTaken(wanted);
    return { port: wanted, explicit: true };
  }
  const preferred = rememberedPort(dataDir) ?? DEFAULT_DASHBOARD_PORT;
  if (await isPortFree(preferred)) return { port: preferred, explicit: false };
  return { port: 0, explicit: false, fallbackFrom: preferred };
}

/** The port in `<dataDir>/dashboard.port`; undefined when absent or not a port. */
export function rememberedPort(dataDir: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, DASHBOARD_PORT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const port = Number(text.trim());
  return Number.isInteger(port) && port > 0 && port <= 65_535 ? port : undefined;
}

function remember<T extends { port: number }>(dataDir: string, started: T): T {
  try {
    fs.writeFileSync(path.join(dataDir, DASHBOARD_PORT_FILE), `${started.port}\n`);
  } catch {
    // Only a convenience: the next start falls back to the default port.
  }
  return started;
}

/** True when a listen on the dashboard's host and `port` succeeds (and is closed again). */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: HOST, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

class PortTakenError extends Error {}

function portTaken(port: number): PortTakenError {
  return new PortTakenError(
    `dashboard port ${port} is already in use on ${HOST}: stop what listens there, ` +
      'choose another port, or 0 for any free port',
  );
}

async function spawnDashboard(
  options: DashboardProcessOptions,
  port: number,
): Promise<Omit<DashboardProcess, 'fallbackFrom'>> {
  const args = builtIsCurrent() ? [BUILT] : ['--conditions=source', '--import', 'tsx', SOURCE];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...(options.backendEnv ?? {
        RECDEPLOY_BACKEND: 'local',
        RECDEPLOY_DATA_DIR: options.dataDir,
      }),
      PORT: String(port),
      HOST,
      // On loopback every tab comes from 127.0.0.1 and all of them are the one
      // person at this machine: the per-client limit (4 by default, meant for
      // a shared dashboard) would refuse a fifth tab; the total still guards.
      MAX_EVENT_STREAMS_PER_CLIENT: process.env.MAX_EVENT_STREAMS_PER_CLIENT ?? '32',
      // The listening line is logged at info.
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    let pending = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the dashboard did not start within 30 s:\n${stderr}`));
    }, 30_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseJson(line);
        if (entry?.message === 'dashboard listening' && typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve({ url: entry.url, port: Number(entry.port) });
        } else if (options.onLogLine !== undefined) {
          options.onLogLine(line);
        } else if (entry?.severity === 'ERROR' || options.logLevel === 'debug') {
          process.stderr.write(`dashboard: ${line}\n`);
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (port !== 0 && stderr.includes('EADDRINUSE')) reject(portTaken(port));
      else reject(new Error(`the dashboard exited with code ${code}:\n${stderr}`));
    });
  });
  return {
    ...listening,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * The compiled dashboard when `npm run build` made it from the current
 * sources (dist/src/main.js no older than any file of src/), else the
 * sources through tsx: a stale build would serve yesterday's code. The page
 * (public/) is read from the sources either way.
 */
function builtIsCurrent(): boolean {
  let built: number;
  try {
    built = fs.statSync(BUILT).mtimeMs;
  } catch {
    return false;
  }
  const newestSource = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return Math.max(newest, newestSource(file));
      return entry.name.endsWith('.ts') ? Math.max(newest, fs.statSync(file).mtimeMs) : newest;
    }, 0);
  try {
    return newestSource(SOURCE_DIR) <= built;
  } catch {
    return true;
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'services', 'dashboard'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
