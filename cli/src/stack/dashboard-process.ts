/**
 * The dashboard as a child process of the stack, exactly as it runs on its
 * own (services/dashboard reading the same run store), so the local stack
 * exercises the deployable. Its URL comes from its "listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const REPO_ROOT = findRepoRoot();
const BUILT = path.join(REPO_ROOT, 'services/dashboard/dist/src/main.js');
const SOURCE = path.join(REPO_ROOT, 'services/dashboard/src/main.ts');

export async function startDashboardProcess(options: {
  dataDir: string;
  port: number;
  logLevel: string;
}): Promise<DashboardProcess> {
  // The compiled dashboard when `npm run build` made it, else the source through tsx.
  const args = fs.existsSync(BUILT) ? [BUILT] : ['--conditions=source', '--import', 'tsx', SOURCE];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      RECDEPLOY_BACKEND: 'local',
      RECDEPLOY_DATA_DIR: options.dataDir,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      // The listening line is logged at info.
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    let stderr = '';
    const timer = setTimeout(
      () => reject(new Error(`the dashboard did not start within 30 s:\n${stderr}`)),
      30_000,
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseJson(line);
        if (entry?.message === 'dashboard listening' && typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(entry.url);
        } else if (entry?.severity === 'ERROR' || options.logLevel === 'debug') {
          process.stderr.write(`dashboard: ${line}\n`);
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the dashboard exited with code ${code}:\n${stderr}`));
    });
  });
  return {
    url,
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
