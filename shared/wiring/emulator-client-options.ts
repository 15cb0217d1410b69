/**
 * gax client options for an emulator endpoint (shared/config/emulator-endpoints.ts):
 * plaintext gRPC to `host:port`, no credentials. gax uses `sslCreds` instead
 * of building TLS + Google credentials when it is given (google-gax
 * build/src/grpc.js `_getCredentials`), which is how the Firestore and
 * Pub/Sub clients talk to their emulators too. grpc-js is loaded only when an
 * emulator is configured.
 */
import type { Env } from '../config/env-reader.js';
import { loadEmulatorEndpoints, type GrpcEmulatorEndpoint } from '../config/emulator-endpoints.js';

/**
 * Options every gax client constructor takes (ServicesClient, ModelServiceClient…);
 * a type alias, not an interface, so it fits their index-signature option types.
 */
export type EmulatorClientOptions = {
  readonly apiEndpoint: string;
  readonly port: number;
  readonly projectId: string;
  readonly sslCreds: import('@grpc/grpc-js').ChannelCredentials;
};

export async function emulatorClientOptions(
  endpoint: GrpcEmulatorEndpoint,
  projectId: string,
): Promise<EmulatorClientOptions> {
  // The grpc-js the Google clients run on (a dependency of google-gax).
  const grpc = await import('@grpc/grpc-js');
  return {
    apiEndpoint: endpoint.host,
    port: endpoint.port,
    projectId,
    sslCreds: grpc.credentials.createInsecure(),
  };
}

/** `{ clientOptions }` for each client an emulator stands in for; `{}` for the real API. */
export interface EmulatorClients {
  readonly vertex: { readonly clientOptions?: EmulatorClientOptions };
  readonly cloudRun: { readonly clientOptions?: EmulatorClientOptions };
  readonly monitoring: { readonly clientOptions?: EmulatorClientOptions };
}

/** Reads the emulator variables (ConfigError when one is not loopback) into client options. */
export async function emulatorClients(env: Env, projectId: string): Promise<EmulatorClients> {
  const endpoints = loadEmulatorEndpoints(env);
  const pick = async (endpoint: GrpcEmulatorEndpoint | undefined) =>
    endpoint === undefined
      ? {}
      : { clientOptions: await emulatorClientOptions(endpoint, projectId) };
  return {
    vertex: await pick(endpoints.vertex),
    cloudRun: await pick(endpoints.cloudRun),
    monitoring: await pick(endpoints.monitoring),
  };
}
