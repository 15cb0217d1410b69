/**
 * Emulator endpoints: FOR EMULATORS AND REHEARSALS ONLY (docs/local.md, "The
 * cloud path, rehearsed on one machine"). With RECDEPLOY_BACKEND=gcp these
 * point the Google clients at local stand-ins instead of Google's APIs:
 *
 * - VERTEX_EMULATOR_HOST (ModelService, PipelineService), CLOUD_RUN_EMULATOR_HOST
 *   (Services, Jobs) and MONITORING_EMULATOR_HOST: `host:port` of a plaintext
 *   gRPC server, called without credentials (our own variables, named after
 *   the ones below; wired in shared/wiring/chain-deps-factory.ts);
 * - FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and STORAGE_EMULATOR_HOST are
 *   read by the client libraries themselves; they are checked here only.
 *
 * Each one drops TLS and credentials, so a deployed function must never pick
 * one up by accident: every host must be loopback (localhost, 127.0.0.0/8,
 * ::1) unless RECDEPLOY_ALLOW_REMOTE_EMULATORS=1 says a remote emulator is
 * meant (an emulator on another machine of a test network).
 */
import { ConfigError } from '../errors.js';
import type { Env } from './env-reader.js';

/** A plaintext gRPC endpoint the chain's own clients are pointed at. */
export interface GrpcEmulatorEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface EmulatorEndpoints {
  readonly vertex?: GrpcEmulatorEndpoint;
  readonly cloudRun?: GrpcEmulatorEndpoint;
  readonly monitoring?: GrpcEmulatorEndpoint;
}

/** Ours, wired by the chain: `host:port`. */
const GRPC_VARIABLES = {
  vertex: 'VERTEX_EMULATOR_HOST',
  cloudRun: 'CLOUD_RUN_EMULATOR_HOST',
  monitoring: 'MONITORING_EMULATOR_HOST',
} as const;

/** The client libraries' own: checked for loopback, never wired. */
const LIBRARY_VARIABLES = [
  'FIRESTORE_EMULATOR_HOST',
  'PUBSUB_EMULATOR_HOST',
  'STORAGE_EMULATOR_HOST',
] as const;

export const ALLOW_REMOTE_EMULATORS = 'RECDEPLOY_ALLOW_REMOTE_EMULATORS';

/** Parses the emulator variables; throws ConfigError listing every problem. */
export function loadEmulatorEndpoints(env: Env = process.env): EmulatorEndpoints {
  const problems: string[] = [];
  const allowRemote = readAllowRemote(env, problems);
  const endpoints: { -readonly [K in keyof EmulatorEndpoints]: GrpcEmulatorEndpoint } = {};
  for (const [key, name] of Object.entries(GRPC_VARIABLES) as [keyof EmulatorEndpoints, string][]) {
    const value = valueOf(env, name);
    if (value === undefined) continue;
    const parsed = parseHostPort(value);
    if (typeof parsed === 'string') {
      problems.push(`${name}=${JSON.stringify(value)} is invalid: ${parsed}`);
      continue;
    }
    if (!allowRemote && !isLoopback(parsed.host)) problems.push(remoteProblem(name, value));
    endpoints[key] = parsed;
  }
  for (const name of LIBRARY_VARIABLES) {
    const value = valueOf(env, name);
    if (value === undefined || allowRemote) continue;
    const host = hostOfLibraryValue(value);
    if (host === undefined || !isLoopback(host)) problems.push(remoteProblem(name, value));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return endpoints;
}

/** True when any emulator variable is set (the function is rehearsing, not deployed). */
export function usesEmulators(endpoints: EmulatorEndpoints): boolean {
  return Object.keys(endpoints).length > 0;
}

function valueOf(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readAllowRemote(env: Env, problems: string[]): boolean {
  const value = valueOf(env, ALLOW_REMOTE_EMULATORS);
  if (value === undefined || value === '0') return false;
  if (value === '1') return true;
  problems.push(`${ALLOW_REMOTE_EMULATORS}=${JSON.stringify(value)} is invalid: expected 0 or 1`);
  return false;
}

function remoteProblem(name: string, value: string): string {
  return (
    `${name}=${JSON.stringify(value)} is not a loopback address: emulator endpoints are ` +
    `plaintext and unauthenticated, for emulators and rehearsals only ` +
    `(set ${ALLOW_REMOTE_EMULATORS}=1 if a remote emulator is really meant)`
  );
}

/** `host:port`, `[v6]:port`; no scheme, no path. */
export function parseHostPort(value: string): GrpcEmulatorEndpoint | string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (match === null) return 'expected host:port (no scheme, no path), e.g. 127.0.0.1:8085';
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return `port ${port} is outside 1–65535`;
  const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** The host of `host:port` or of a URL (STORAGE_EMULATOR_HOST takes `http://host:port`). */
function hostOfLibraryValue(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      return new URL(value).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      return undefined;
    }
  }
  const parsed = parseHostPort(value);
  return typeof parsed === 'string' ? undefined : parsed.host;
}

export function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  return lower === 'localhost' || lower === '::1' || /^127(\.\d{1,3}){3}$/.test(lower);
}
