/**
 * Runs one of the repo's HTTP services from source as a child process on a
 * loopback port, the way clients see it: a separate process. PORT=0 lets it
 * pick a free port; the log line that announces listening says which. The
 * environment is only what a service needs, so a RECDEPLOY_BACKEND=gcp (or
 * similar) in the caller's shell cannot leak in.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

export interface ServiceProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly port: number;
  /** Parsed JSON log lines so far (non-JSON lines as `{ message }`). */
  readonly logs: Record<string, unknown>[];
  /** Resolves once the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends a signal (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

/** `main`: the service's entry, relative to the repo root. */
function spawnService(
  main: string,
  env: Readonly<Record<string, string>>,
): ChildProcessByStdio<null, Readable, Readable> {
  const entry = path.join(REPO_ROOT, main);
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry], {
    cwd: REPO_ROOT,
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

/**
 * Starts the service and resolves once it logs `listeningMessage` (with a
 * `port` field); rejects if it exits first or says nothing within 30 s.
 */
export async function startService(
  main: string,
  env: Readonly<Record<string, string>>,
  listeningMessage: string,
): Promise<ServiceProcess> {
  const child = spawnService(main, env);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    // The line is logged at info: a LOG_LEVEL above that would hide it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${main}: no "${listeningMessage}" log line within 30 s:\n${stderr}`));
    }, 30_000);
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseLine(line);
        logs.push(entry);
        if (entry.message === listeningMessage) {
          clearTimeout(timer); // a service that outlives 30 s is not killed
          resolve(entry.port as number);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(
        new Error(`${main} exited (${code}) before listening:\n${stderr}\n${JSON.stringify(logs)}`),
      );
    });
  });
  return {
    child,
    port,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a service that is expected to stop by itself (bad configuration); returns its exit and output. */
export async function runServiceUntilExit(
  main: string,
  env: Readonly<Record<string, string>>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnService(main, env);
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
