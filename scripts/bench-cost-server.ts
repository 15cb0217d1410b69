/**
 * The server side of bench-cost.ts: the sample bundle, a compiled
 * ann-serving child process on it, and that process's CPU time. CPU time is
 * read from /proc because this machine is shared: wall-clock throughput
 * moves with whatever else runs, while the CPU a request costs the server
 * (and its main thread, where a long request stalls every other one) does
 * not.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.js';

const root = path.resolve(import.meta.dirname, '..');
const tsxArgs = ['--conditions=source', '--import', 'tsx'];
/** /proc times are in clock ticks: 100 per second on Linux (getconf CLK_TCK). */
const TICK_MS = 10;

export function log(message: string): void {
  process.stderr.write(`[bench:cost] ${message}\n`);
}

export function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
}

/** `given`, or the sample bundle (2,000 products) with its index, written once under .recdeploy/bench. */
export function ensureBundle(given: string | undefined): string {
  if (given !== undefined) return path.resolve(given);
  const dir = path.join(root, '.recdeploy', 'bench', 'cost-bundle-2000');
  if (!fs.existsSync(path.join(dir, 'ann', 'index', 'index.json'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    log(`writing the sample bundle to ${dir}`);
    run(process.execPath, [...tsxArgs, 'cli/src/main.ts', 'sample-model', '--out', dir, '--json']);
    run(process.execPath, [...tsxArgs, 'cli/src/main.ts', 'build-index', dir, '--json']);
  }
  return dir;
}

export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  readonly pid: number;
}

/** The compiled server `entry` on `bundle`, with default settings but the cost ceiling, once /health answers 200. */
export async function startServer(entry: string, bundle: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: {
      ...process.env,
      MODEL_PATH: bundle,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // The largest shape measured must not be refused by the cost ceiling it informs.
      MAX_REQUEST_COST: '256000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = `http://127.0.0.1:${port}/v1/models/recommender:predict`;
  return { url, child, pid: child.pid ?? 0 };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** CPU time (user + system, ms) of the whole process, or of its main thread alone. */
export function cpuMs(pid: number, mainThreadOnly = false): number {
  const file = mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
  const stat = fs.readFileSync(file, 'utf8');
  // Fields after the command name (which may hold spaces), 1-based: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
