/**
 * The chain's three functions, each in its own child process under the
 * functions-framework (function-process-main.ts), each in its own process
 * group so that stop() can SIGKILL whatever it started (the revision
 * processes are the Cloud Run simulator's, not theirs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export type FunctionName = 'register' | 'deploy' | 'verify';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../../..');
const MAIN = path.join(HERE, 'function-process-main.ts');
/** Lines of a function's stderr kept for failure messages. */
const KEPT_LINES = 200;

export interface FunctionProcess {
  readonly name: FunctionName;
  readonly url: string;
  /** The last lines the function wrote to stderr (its logs go there). */
  readonly stderr: readonly string[];
}

export class FunctionProcesses {
  private readonly children: ChildProcess[] = [];

  /** Starts every function with `env` (and nothing of this process's environment but PATH and HOME). */
  async start(
    names: readonly FunctionName[],
    env: Readonly<Record<string, string>>,
  ): Promise<Record<FunctionName, FunctionProcess>> {
    const started = await Promise.all(names.map((name) => this.startOne(name, env)));
    return Object.fromEntries(started.map((f) => [f.name, f])) as Record<
      FunctionName,
      FunctionProcess
    >;
  }

  /** SIGKILLs every function's process group. */
  stop(): void {
    for (const child of this.children.splice(0)) {
      if (child.pid === undefined || child.exitCode !== null) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  private startOne(
    name: FunctionName,
    env: Readonly<Record<string, string>>,
  ): Promise<FunctionProcess> {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, name], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.children.push(child);
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > KEPT_LINES) stderr.shift();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`did not listen within 60 s`), 60_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`function ${name} ${why}:\n${stderr.slice(-30).join('\n')}`));
      };
      child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const port = listeningPort(line);
        if (port === undefined) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ name, url: `http://127.0.0.1:${port}`, stderr });
      });
    });
  }
}

function listeningPort(line: string): number | undefined {
  try {
    const parsed = JSON.parse(line) as { listening?: unknown; port?: unknown };
    return typeof parsed.port === 'number' && parsed.listening !== undefined
      ? parsed.port
      : undefined;
  } catch {
    return undefined;
  }
}
