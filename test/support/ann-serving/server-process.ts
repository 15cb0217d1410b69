/**
 * Runs the serving process from source, as a child on a loopback port, the
 * way tests should see it: a separate process speaking HTTP. PORT=0 lets the
 * server pick a free port; its "listening" log line says which.
 */
import { runServiceUntilExit, startService, type ServiceProcess } from '../service-process.js';

const MAIN = 'services/ann-serving/src/main.ts';

export interface ServerProcess extends ServiceProcess {
  readonly baseUrl: string;
}

/** Runs a server that is expected to stop by itself; returns its exit code and output. */
export function runUntilExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runServiceUntilExit(MAIN, env);
}

/** Starts the server and resolves once it listens (not necessarily ready). */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const service = await startService(MAIN, env, 'listening; loading the model');
  return { ...service, baseUrl: `http://127.0.0.1:${service.port}` };
}

/** Polls /health until it answers 200; returns every status seen, in order. */
export async function waitUntilReady(server: ServerProcess, timeoutMs = 60_000): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(`${server.baseUrl}/health`).then(
      (response) => response.status,
      () => 0,
    );
    seen.push(status);
    if (status === 200) return seen;
    if (server.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `server not ready: /health answered ${seen.slice(-5).join(', ')}; logs: ${JSON.stringify(server.logs.slice(-5))}`,
  );
}
