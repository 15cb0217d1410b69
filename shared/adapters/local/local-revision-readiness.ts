/** Longest a single status request may take before the poll counts it as "no answer". */
const REQUEST_TIMEOUT_MS = 2_000;

/** TF Serving's model status, or ann-serving's `/health` (`{state, model, version}`). */
interface ProbeBody {
  readonly model_version_status?: readonly { readonly state?: unknown }[];
  readonly state?: unknown;
}

/**
 * The state the startup probe reports (`AVAILABLE` once the model is
 * loaded): TF Serving's model status path for its first version, or
 * ann-serving's `/health` (serving-container.ts startupProbePathFor); undefined
 * when nothing answers or the answer is neither.
 */
export async function modelState(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = (await response.json()) as ProbeBody;
    const state = body.model_version_status?.[0]?.state ?? body.state;
    return typeof state === 'string' ? state : undefined;
  } catch {
    return undefined;
  }
}

export interface ReadinessWait {
  /** The startup probe URL: `http://host:port{startupProbePath}`. */
  readonly url: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** False once the process has exited: waiting longer is pointless. */
  readonly running: () => boolean;
  /** True when the platform is closing. */
  readonly cancelled: () => boolean;
}

export type ReadinessOutcome =
  | { readonly outcome: 'available' }
  | { readonly outcome: 'exited' | 'cancelled' }
  | { readonly outcome: 'timeout'; readonly lastState: string | undefined };

/** Polls the startup probe until AVAILABLE, the process exits, the platform closes, or time runs out. */
export async function waitUntilAvailable(wait: ReadinessWait): Promise<ReadinessOutcome> {
  const deadline = Date.now() + wait.timeoutMs;
  let lastState: string | undefined;
  for (;;) {
    if (wait.cancelled()) return { outcome: 'cancelled' };
    lastState = await modelState(wait.url);
    if (lastState === 'AVAILABLE') return { outcome: 'available' };
    if (!wait.running()) return { outcome: 'exited' };
    if (Date.now() >= deadline) return { outcome: 'timeout', lastState };
    await new Promise((resolve) => setTimeout(resolve, wait.intervalMs));
  }
}
