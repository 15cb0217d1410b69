/**
 * A revision's startup probe as Cloud Run runs it, against a local process:
 * the container's `startupProbe` (httpGet path, or a TCP connect when it has
 * none: Cloud Run's default startup probe is TCP on the container port,
 * https://cloud.google.com/run/docs/configuring/healthchecks "Default TCP
 * startup probe"), tried every periodSeconds after initialDelaySeconds, each
 * try failing after timeoutSeconds, failureThreshold tries in all. An HTTP
 * answer from 200 to 399 passes (Kubernetes' httpGet rule, which Cloud Run's
 * probes follow: kubernetes.io "Configure Liveness, Readiness and Startup
 * Probes"). `scale` shrinks every duration for tests.
 */
import net from 'node:net';

/** The fields of a v2 Probe the simulator reads (proto-loader shapes: numbers, camelCase). */
export interface ProbeWire {
  readonly initialDelaySeconds?: number;
  readonly timeoutSeconds?: number;
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
  readonly httpGet?: { readonly path?: string };
}

/**
 * Cloud Run's defaults for a probe's unset fields: period 10 s, timeout 1 s,
 * failure threshold 3, no initial delay (proto, Probe field comments in
 * google/cloud/run/v2/k8s.min.proto). The default TCP startup probe is
 * period 240 s, timeout 240 s, threshold 1 (healthchecks doc).
 */
const DEFAULTS = {
  initialDelaySeconds: 0,
  timeoutSeconds: 1,
  periodSeconds: 10,
  failureThreshold: 3,
};
const DEFAULT_TCP = {
  initialDelaySeconds: 0,
  timeoutSeconds: 240,
  periodSeconds: 240,
  failureThreshold: 1,
};

export interface ProbeRun {
  readonly probe: ProbeWire | undefined;
  readonly port: number;
  readonly scale: number;
  /** False once the process has exited or the simulator is closing: stop trying. */
  readonly alive: () => boolean;
}

/** True once a try passed; false after failureThreshold tries, or once `alive` turns false. */
export async function runStartupProbe(run: ProbeRun): Promise<boolean> {
  const timing = { ...(run.probe ? DEFAULTS : DEFAULT_TCP), ...definedFields(run.probe) };
  const ms = (seconds: number) => Math.max(1, seconds * 1000 * run.scale);
  await sleep(ms(timing.initialDelaySeconds));
  for (let attempt = 0; attempt < timing.failureThreshold; attempt += 1) {
    if (!run.alive()) return false;
    const path = run.probe?.httpGet?.path;
    const passed =
      path === undefined
        ? await tcpTry(run.port, ms(timing.timeoutSeconds))
        : await httpTry(run.port, path, ms(timing.timeoutSeconds));
    if (passed) return true;
    if (attempt + 1 < timing.failureThreshold) await sleep(ms(timing.periodSeconds));
  }
  return false;
}

async function httpTry(port: number, path: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(
      `http://127.0.0.1:${port}${path.startsWith('/') ? '' : '/'}${path}`,
      {
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      },
    );
    await response.arrayBuffer();
    return response.status >= 200 && response.status < 400;
  } catch {
    return false;
  }
}

function tcpTry(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (passed: boolean) => {
      socket.destroy();
      resolve(passed);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Proto-loader leaves unset fields out, but a caller's object may carry 0 for "unset". */
function definedFields(probe: ProbeWire | undefined): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = probe?.[key];
    if (typeof value === 'number' && value > 0) out[key] = value;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
