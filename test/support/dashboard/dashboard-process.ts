/**
 * Runs the dashboard from source as a child process on a loopback port, the
 * way a browser sees it: a separate process reading the same run store file.
 * PORT=0 lets it pick a free port; its "dashboard listening" log line says
 * which. The local stack's end-to-end test can use it as it is.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'services/dashboard/src/main.ts');

export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

export interface DashboardProcess {
  /** The page, e.g. `http://127.0.0.1:40123/`. */
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves once the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends a signal (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

export interface DashboardProcessOptions {
  /** RECDEPLOY_DATA_DIR: the SQLite run store is `<dataDir>/runs.db`. */
  readonly dataDir: string;
  /** More variables (HEARTBEAT_INTERVAL_MS, LOG_LEVEL, …); they win over the defaults. */
  readonly env?: Readonly<Record<string, string>>;
}

function spawnDashboard(
  env: Record<string, string>,
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    // Only what it needs: a RECDEPLOY_BACKEND=gcp in the caller's shell must not leak in.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      METADATA_SERVER_DETECTION: 'none',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the dashboard and resolves once it listens. */
export async function startDashboardProcess(
  options: DashboardProcessOptions,
): Promise<DashboardProcess> {
  const child = spawnDashboard({ RECDEPLOY_DATA_DIR: options.dataDir, ...options.env });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseLine(line);
        logs.push(entry);
        if (entry.message === 'dashboard listening') resolve(entry);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "dashboard listening" log line within 30 s:\n${stderr}`));
    }, 30_000);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`dashboard exited (${code}) before listening:\n${stderr}`));
    });
  });
  const port = listening.port as number;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    child,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a dashboard that is expected to stop by itself (bad configuration); returns its exit and output. */
export async function runDashboardUntilExit(
  env: Readonly<Record<string, string>>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnDashboard({ ...env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

function parseLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { message: line };
  }
}
