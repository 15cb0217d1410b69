/**
 * The dashboard's configuration, read once from the environment at start
 * (STYLE.md §7): the shared variables (which run store, where) plus its own.
 * Every problem of both is reported at once as one ConfigError.
 */
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import {
  ConfigError,
  loadRuntimeConfig,
  readEnv,
  type Env,
  type RuntimeConfig,
} from '@recdeploy/shared';

export const DashboardEnvSchema = Type.Object({
  /** Cloud Run sets it; 0 picks a free port (tests, the local stack). */
  PORT: Type.Integer({ default: 8080, minimum: 0, maximum: 65_535 }),
  /**
   * This machine only by default: the dashboard has no login of its own. The
   * container image sets 0.0.0.0 (Cloud Run's front end connects from outside
   * the container; Cloud Run IAM decides who gets through).
   */
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  /** How often an event stream carries a heartbeat, so idle proxies keep it open and clients see it alive. */
  HEARTBEAT_INTERVAL_MS: Type.Integer({ default: 15_000, minimum: 50, maximum: 600_000 }),
  /** Open event streams at most, all clients together; more get 503 (each holds a connection). */
  MAX_EVENT_STREAMS: Type.Integer({ default: 200, minimum: 1, maximum: 100_000 }),
  /** Open event streams per client address; more get 429, so one client cannot take them all. */
  MAX_EVENT_STREAMS_PER_CLIENT: Type.Integer({ default: 4, minimum: 1, maximum: 100_000 }),
  /**
   * How many proxies in front of the dashboard append to X-Forwarded-For (0:
   * none, the socket's peer is the client and the header is ignored; Cloud
   * Run: 1). See http/client-address.ts.
   */
  TRUST_PROXY: Type.Integer({ default: 0, minimum: 0, maximum: 10 }),
  /** After SIGTERM, how long requests in flight may take (Cloud Run kills 10 s after SIGTERM). */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 0, maximum: 600_000 }),
  /**
   * Set by npm to the directory it was run from: `npm start -w services/dashboard`
   * runs in the workspace folder, but a relative RECDEPLOY_DATA_DIR means the caller's.
   */
  INIT_CWD: Type.Optional(Type.String({ minLength: 1 })),
});

export interface DashboardConfig {
  readonly runtime: Readonly<RuntimeConfig>;
  readonly port: number;
  readonly host: string;
  readonly heartbeatIntervalMs: number;
  readonly maxEventStreams: number;
  readonly maxEventStreamsPerClient: number;
  /** TRUST_PROXY: proxies in front that append to X-Forwarded-For. */
  readonly trustedProxies: number;
  readonly shutdownTimeoutMs: number;
}

/** Parses the shared and the dashboard's variables; throws ConfigError listing every problem. */
export function loadDashboardConfig(env: Env = process.env): Readonly<DashboardConfig> {
  const problems: string[] = [];
  const runtime = collect(problems, () => loadRuntimeConfig(env));
  const vars = collect(problems, () => readEnv(DashboardEnvSchema, env));
  if (runtime === undefined || vars === undefined) throw new ConfigError(problems);
  return Object.freeze({
    runtime:
      runtime.backend === 'local'
        ? Object.freeze({
            ...runtime,
            dataDir: path.resolve(vars.INIT_CWD ?? '.', runtime.dataDir),
          })
        : runtime,
    port: vars.PORT,
    host: vars.HOST,
    heartbeatIntervalMs: vars.HEARTBEAT_INTERVAL_MS,
    maxEventStreams: vars.MAX_EVENT_STREAMS,
    maxEventStreamsPerClient: vars.MAX_EVENT_STREAMS_PER_CLIENT,
    trustedProxies: vars.TRUST_PROXY,
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
  });
}

function collect<T>(problems: string[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}
